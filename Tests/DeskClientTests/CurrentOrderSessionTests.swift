import Foundation
import Testing
import TestSupport
@testable import DeskClientKit

/// End to end, issue 11: the current order, on a pseudo-terminal against a real server.
@Suite("desk: the current order")
struct CurrentOrderSessionTests {
    @Test("NEXT makes the order current and the status line shows it; the next steps leave the number out; use sets and clears it")
    func workAnOrderWithoutRetyping() throws {
        let desk = try TestDesk()
        defer { desk.stop() }
        let shop = try desk.client("shop")
        try desk.capture("SO-1", using: shop, priority: "high")
        try desk.capture("SO-2", using: shop)
        let terminal = try PseudoTerminalDesk.loggedIn(as: "ana", port: desk.port)
        func status(_ screen: VirtualScreen) -> String { screen.row + 1 < screen.lines.count ? screen.line(screen.row + 1) : "" }
        try terminal.waitFor("the status line") { status($0) == "● online · no claims · 0 unread" }

        terminal.type("NOTE nothing to note on\r")
        try terminal.waitFor("the refusal, sent nowhere") { $0.contains("no current order: name it (NOTE SO-…)") }

        terminal.type("NEXT\r")
        try terminal.waitFor("SO-1 current") { status($0).hasPrefix("● online · current SO-1 · 1 claim: SO-1 ") }
        terminal.type("HOLD pricing list price changed, @sam please confirm\r")
        try terminal.waitFor("the hold") { $0.contains("ok  order SO-1 · hold 1 · type pricing") }
        terminal.type("NOTE \"rush\" per customer\r")
        try terminal.waitFor("the note") { $0.contains("ok  order SO-1 · notes 1") }
        terminal.type("NOTE . SO-2 is the same customer\r")
        try terminal.waitFor("the second note") { $0.contains("ok  order SO-1 · notes 2") }
        terminal.type("UNHOLD pricing customer agreed\r")
        try terminal.waitFor("the unhold") { $0.contains("ok  order SO-1 · type pricing · open-holds none") }
        terminal.type("MOVE released\r")
        try terminal.waitFor("the move") { $0.contains("ok  order SO-1 · stage released") }

        let card = try desk.client("ben").command("ORDER SO-1")
        #expect(card.contains { $0.contains("status=released") && $0.contains("type=pricing") }, "\(card)")
        #expect(card.contains { $0.contains("text=\"\\\"rush\\\" per customer\"") }, "\(card)")
        #expect(card.contains { $0.contains("text=\"SO-2 is the same customer\"") }, "\(card)")
        #expect(card.contains { $0.contains("stage=released") })
        #expect(try desk.client("ben").command("ORDER SO-2").contains { $0.hasPrefix("* claim holder=nobody") }, "SO-2 untouched")

        // A named order is always the order, and becomes current.
        terminal.type("ORDER SO-2\r")
        try terminal.waitFor("SO-2 current") { status($0).hasPrefix("● online · current SO-2 · ") }
        terminal.type("use none\r")
        try terminal.waitFor("cleared") { status($0) == "● online · no claims · 0 unread" }
        terminal.type("use SO-1\r")
        try terminal.waitFor("set by hand") { status($0).hasPrefix("● online · current SO-1 · ") && $0.contains("current order: SO-1") }
        terminal.type("HISTORY\r")
        try terminal.waitFor("the history of the current order") { $0.contains("(order SO-1 · entries ") && $0.contains("captured -> released") }
        #expect(!terminal.screen.contains("error"), "\(terminal.screen.lines.suffix(20))")
        #expect(terminal.screen.lines.filter { $0.contains("● online") }.count == 1, "the status line never lands in the scrollback")
    }
}
