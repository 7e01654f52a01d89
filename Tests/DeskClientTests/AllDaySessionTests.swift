import Foundation
import OrderDeskCore
import OrderDeskServer
import Testing
import TestSupport
@testable import DeskClientKit

/// End to end, issue 11: a desk people keep open all day. The real `desk` on a
/// pseudo-terminal against a real server.
@Suite("desk all day")
struct AllDaySessionTests {
    // Regression: desk never sent PING, so the server dropped it after `idle-timeout` of no typing.
    @Test("idle past the server's idle timeout three times: desk stays connected and the screen does not change")
    func staysConnectedWhileIdle() throws {
        let server = try ServerProcess(data: temporaryDirectory() + "/desk.sqlite", logLevel: "info",
                                       arguments: ["--demo", "--idle-timeout", "2"])
        defer { server.terminate() }
        let terminal = try PseudoTerminalDesk.loggedIn(as: "ana", password: "demo", port: server.port)
        let before = terminal.screen.lines

        // A connection that sends nothing is closed after 2 s: three in a row are 6 s of idling.
        for _ in 0..<3 {
            let silent = try LineClient(port: server.port)
            #expect(silent.greeting.contains("idle-timeout=2"))
            #expect(silent.waitForClose(timeout: 10), "the server's idle timeout is in force")
        }
        terminal.pump()
        #expect(terminal.screen.lines == before, "keep-alive is silent: no PONG, no reconnect, no reprinted claims")
        func sessionCloses(in log: String) -> [Substring] { log.split(separator: "\n").filter { $0.contains("msg=\"session closed\"") } }
        let closes = sessionCloses(in: server.waitForLog { sessionCloses(in: $0).count >= 3 })
        #expect(closes.count == 3)
        #expect(!closes.contains { $0.contains("user=ana") }, "desk's own session was never closed")

        terminal.type("WHOAMI\r")
        try terminal.waitFor("the WHOAMI reply on the same connection") { $0.contains("user ana") }
        let text = terminal.screen.lines.joined(separator: "\n")
        #expect(!text.contains("reconnected") && !text.contains("connection lost"), "\(text)")
    }

    // Regression: pasting a NOTE and a customer's "Away from the office..." line ran both lines
    // as commands and set the user away.
    @Test("a bracketed paste of two lines is one command, sent only on Enter")
    func pasteIsOneCommand() throws {
        let desk = try TestDesk()
        defer { desk.stop() }
        try desk.capture("SO-1", using: try desk.client("shop"))
        let terminal = try PseudoTerminalDesk.loggedIn(as: "ana", port: desk.port)
        #expect(terminal.transcript.contains("\u{1B}[?2004h"), "desk asks for bracketed paste")

        terminal.type("\u{1B}[200~NOTE SO-1 customer wrote:\rAway from the office until Monday.\r\u{1B}[201~")
        let joined = "NOTE SO-1 customer wrote: / Away from the office until Monday."
        try terminal.waitFor("the paste on the input line") { $0.currentLine == "ana> " + joined }
        let ben = try desk.client("ben")
        #expect(try !ben.command("ORDER SO-1").contains { $0.hasPrefix("* note ") }, "nothing is sent before Enter")

        terminal.type("\r")
        try terminal.waitFor("the NOTE reply") { $0.contains("ok  order SO-1 · notes 1") }
        let card = try ben.command("ORDER SO-1")
        #expect(card.contains { $0.hasPrefix("* note ") && $0.contains("text=\"customer wrote: / Away from the office until Monday.\"") })
        let who = try ben.command("WHO")
        #expect(who.contains { $0.contains("user=ana") && $0.contains("status=online") }, "\(who)")
        #expect(!terminal.screen.contains("error"))

        // A long paste lands at once (it froze desk for seconds) and is still only text.
        terminal.type("\u{1B}[200~" + String(repeating: "x", count: 7_997) + "END\u{1B}[201~")
        try terminal.waitFor("the end of an 8,000-character paste") { $0.currentLine.hasSuffix("xEND") }
        terminal.type("\u{15}\u{4}")  // Ctrl-U clears the line, Ctrl-D leaves.
        #expect(try terminal.waitForExit() == 0)
        #expect(terminal.transcript.hasSuffix("\u{1B}[?2004l") || terminal.transcript.contains("\u{1B}[?2004l"), "bracketed paste is off again")
    }

    // Regression: after a kill and restart, notes on watched orders from the meantime never appeared.
    @Test("desk killed and started again resumes from the last push it saw and says what it replayed")
    func restartCatchesUp() throws {
        let desk = try TestDesk()
        defer { desk.stop() }
        try desk.capture("SO-5", using: try desk.client("shop"))
        let home = temporaryDirectory()
        let first = try PseudoTerminalDesk.loggedIn(as: "ana", port: desk.port, home: home)
        first.type("WATCH SO-5\r")
        try first.waitFor("the WATCH reply") { $0.contains("watching yes") }
        let ben = try desk.client("ben")
        try ben.ok("NOTE SO-5 seen before the kill")
        try first.waitFor("the first note") { $0.contains("SO-5 ben: seen before the kill") }
        let file = LastEventFile(folder: home + "/state/orderdesk", user: "ana", host: "127.0.0.1", port: desk.port)
        try waitUntil(timeout: 5, "the push id to be kept") { file.load() != nil }
        let mode = try FileManager.default.attributesOfItem(atPath: file.path)[.posixPermissions] as? Int
        #expect(mode == 0o600)

        kill(first.process.processIdentifier, SIGKILL)
        first.process.waitUntilExit()
        try ben.ok("NOTE SO-5 first while away")
        try ben.ok("NOTE SO-5 second while away")
        try ben.ok("NOTE SO-5 @ana third while away")

        let second = try PseudoTerminalDesk.loggedIn(as: "ana", port: desk.port, home: home)
        try second.waitFor("the catch-up summary") { $0.contains("caught up: 3 events while you were away") }
        let lines = second.screen.lines
        let shown = ["(missed) SO-5 ben: first while away", "(missed) SO-5 ben: second while away",
                     "(missed) » SO-5 ben mentioned you: @ana third while away"].map { text in lines.firstIndex { $0.contains(text) } }
        #expect(shown.allSatisfy { $0 != nil } && shown == shown.sorted { ($0 ?? 0) < ($1 ?? 0) }, "\(lines)")
        #expect(!second.screen.contains("seen before the kill"), "what was seen before is not replayed")

        // Nothing new on the next start: said briefly, nothing replayed.
        second.type("\u{4}")
        #expect(try second.waitForExit() == 0)
        let third = try PseudoTerminalDesk.loggedIn(as: "ana", port: desk.port, home: home)
        try third.waitFor("the empty catch-up") { $0.contains("caught up: nothing new while you were away") }
        #expect(!third.screen.contains("(missed)"))
    }

    // Regression: a mistyped password made desk exit instead of asking again.
    @Test("a wrong password at the prompt is asked for again, up to three tries in all")
    func wrongPasswordAsksAgain() throws {
        let desk = try TestDesk()
        defer { desk.stop() }
        func prompts(_ screen: VirtualScreen) -> Int { screen.lines.filter { $0.contains("password for ana@") }.count }

        let terminal = try PseudoTerminalDesk(arguments: ["--user", "ana"], environment: DeskBinary.environment(port: desk.port))
        try terminal.waitFor("the password prompt") { prompts($0) == 1 }
        terminal.type("tYpo-9\r")
        try terminal.waitFor("the second prompt") { $0.contains("login failed: unknown user or wrong password") && prompts($0) == 2 }
        terminal.type("ana\r")
        try terminal.waitFor("the greeting") { $0.contains("logged in as ana") }
        try terminal.waitFor("the prompt") { $0.currentLine.hasPrefix("ana>") }
        #expect(!terminal.transcript.contains("tYpo-9"), "the typed password is never echoed")

        let stubborn = try PseudoTerminalDesk(arguments: ["--user", "ana"], environment: DeskBinary.environment(port: desk.port))
        for attempt in 1...3 {
            try stubborn.waitFor("prompt \(attempt)") { prompts($0) == attempt }
            stubborn.type("nope\(attempt)\r")
        }
        #expect(try stubborn.waitForExit() == ExitCode.notAllowed.rawValue)
        #expect(prompts(stubborn.screen) == 3)
    }

    @Test("the status line under the input line shows claims with their lease ends, unread pings and the connection")
    func statusLine() throws {
        let desk = try TestDesk()
        try desk.capture("SO-1", using: try desk.client("shop"))
        let terminal = try PseudoTerminalDesk.loggedIn(as: "ana", port: desk.port)
        func status(_ screen: VirtualScreen) -> String { screen.row + 1 < screen.lines.count ? screen.line(screen.row + 1) : "" }
        try terminal.waitFor("the status line") { status($0) == "● online · no claims · 0 unread" }

        terminal.type("CLAIM SO-1\r")
        try terminal.waitFor("the claim in the status line") { status($0).contains("1 claim: SO-1 15m") || status($0).contains("1 claim: SO-1 14m") }
        try desk.client("ben").ok("NOTE SO-1 @ana look")
        try terminal.waitFor("the ping counted, by order") { status($0).hasSuffix("· 1 unread: SO-1 1") }
        #expect(terminal.screen.currentLine == "ana>", "the input line stays the cursor's line")
        // Issue 11: opening the order's card reads its events; the count clears by itself.
        terminal.type("ORDER SO-1\r")
        try terminal.waitFor("the card's read mark") { $0.contains("(1 unread event on this order marked read · 0 unread left)") }
        try terminal.waitFor("the unread count cleared") { status($0).hasSuffix("· 0 unread") }
        #expect(terminal.screen.lines.filter { $0.contains("● online") }.count == 1, "the status line never lands in the scrollback")

        desk.stop()
        try terminal.waitFor("the outage in the status line") { status($0).hasPrefix("○ offline") }
    }
}
