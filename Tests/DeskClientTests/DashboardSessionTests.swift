import Foundation
import Testing
import TestSupport
@testable import DeskClientKit

/// End to end, issue 11: the administrators' dashboard, the real `desk` on a pseudo-terminal
/// against a real server.
@Suite("desk: the dashboard")
struct DashboardSessionTests {
    /// The row of `queue` on the dashboard, split into words.
    static func queueRow(_ screen: VirtualScreen, _ queue: String) -> [String] {
        guard let header = screen.lines.firstIndex(where: { $0.hasPrefix("QUEUE ") }) else { return [] }
        return screen.lines[header...].first { $0.hasPrefix(queue + " ") }.map { $0.split(separator: " ").map(String.init) } ?? []
    }

    @Test("dashboard: METRICS live at 80x24, redrawn at 160x45, asked again every few seconds, never more; any key returns to the chat as it was, with what came meanwhile")
    func liveDashboard() throws {
        let desk = try TestDesk()
        defer { desk.stop() }
        let shop = try desk.client("shop")
        for number in 1...4 { try desk.capture("SO-\(number)", using: shop) }
        let ana = try desk.client("ana")
        try ana.ok("CLAIM SO-1")
        try ana.ok("HOLD SO-1 credit over the limit")
        try ana.ok("CLAIM SO-2")
        try ana.ok("HOLD SO-2 pricing list price")
        try ana.ok("UNHOLD SO-2 pricing agreed")

        let terminal = try PseudoTerminalDesk.loggedIn(as: "ada", port: desk.port, columns: 80, rows: 24)
        terminal.type("dashboard\r")
        try terminal.waitFor("the dashboard") { $0.isAlternate && $0.contains("any key returns to the chat") }
        let opened = Date()
        var lines = terminal.screen.lines
        #expect(lines.count == 24, "the whole screen, nothing scrolled: \(lines)")
        #expect(lines.allSatisfy { DisplayWidth.of($0) < 80 }, "no line reaches the last column: \(lines)")
        #expect(lines[0].hasPrefix("desk dashboard  METRICS over 30d · ada@127.0.0.1:\(desk.port)"))
        #expect(lines[23].hasPrefix("updated "))
        #expect(Self.queueRow(terminal.screen, "new").prefix(2) == ["new", "3"], "\(lines)")
        #expect(Self.queueRow(terminal.screen, "credit").prefix(2) == ["credit", "1"])
        for heading in ["CYCLE", "CLEAN", "HOLD", "RELEASED", "SERVER"] {
            #expect(lines.contains { $0.hasPrefix(heading) }, "\(heading)")
        }
        #expect(!terminal.screen.contains("ada>"), "the chat screen is underneath, not mixed in")

        // Live: a new order shows at the next refresh, which comes after the interval, not before.
        try desk.capture("SO-5", using: shop)
        try terminal.waitFor("the refresh", timeout: 20) { Self.queueRow($0, "new").prefix(2) == ["new", "4"] }
        #expect(Date().timeIntervalSince(opened) > InteractiveApp.dashboardInterval * 0.6, "one METRICS per interval, not a flood")

        // A bigger window: drawn again for it at once.
        terminal.resize(columns: 160, rows: 45)
        try terminal.waitFor("the dashboard at 160x45") { screen in
            screen.lines.count == 45 && screen.line(44).hasPrefix("updated ") && screen.lines.contains { DisplayWidth.of($0) > 100 }
        }
        lines = terminal.screen.lines
        #expect(lines.allSatisfy { DisplayWidth.of($0) < 160 }, "\(lines)")

        // A push while on the dashboard waits for the chat; the dashboard says it is there.
        try desk.client("ben").ok("MSG ada look at credit")
        try terminal.waitFor("the waiting line") { $0.contains("1 line waiting there") }
        #expect(!terminal.screen.contains("look at credit"))

        terminal.type("q")
        try terminal.waitFor("the chat again") { !$0.isAlternate && $0.contains("ben → you: look at credit") }
        let chat = terminal.screen.lines
        #expect(chat.contains { $0.hasPrefix("ada> dashboard") }, "the chat came back as it was: \(chat)")
        #expect(chat.contains("while you were on the dashboard:"))
        try terminal.waitFor("the prompt") { $0.currentLine == "ada>" }
        #expect(!chat.contains { $0.hasPrefix("QUEUE ") }, "nothing of the dashboard in the chat")

        // The q closed the dashboard and did nothing else; Esc closes it too.
        terminal.type("dashboard\r")
        try terminal.waitFor("the dashboard again") { $0.isAlternate && $0.alternateEntries == 2 && $0.contains("updated ") }
        terminal.type("\u{1B}")
        try terminal.waitFor("the chat after Esc") { !$0.isAlternate }
        try terminal.waitFor("the prompt, empty") { $0.currentLine == "ada>" }
        terminal.type("\u{4}")
        #expect(try terminal.waitForExit() == 0)
    }

    @Test("dashboard for someone not an admin: the refusal in the chat, and no dashboard")
    func notAnAdmin() throws {
        let desk = try TestDesk()
        defer { desk.stop() }
        let terminal = try PseudoTerminalDesk.loggedIn(as: "cora", port: desk.port, columns: 80, rows: 24)
        terminal.type("dashboard\r")
        try terminal.waitFor("the refusal") { $0.contains("error denied") }
        #expect(terminal.screen.alternateEntries == 0)
        try terminal.waitFor("the prompt") { $0.currentLine == "cora>" }
    }
}
