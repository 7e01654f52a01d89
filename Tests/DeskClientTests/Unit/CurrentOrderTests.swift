import Foundation
import Testing
@testable import DeskClientKit

/// Issue 11: a current order, so the number need not be retyped on every step.
@Suite("Current order")
struct CurrentOrderTests {
    /// Usage lines as the server's HELP gives them.
    static let usages: [String: String] = [
        "ORDER": "ORDER <number>", "CARD": "CARD <number>", "TOUCH": "TOUCH <number>", "CLAIM": "CLAIM <number>",
        "NOTE": "NOTE <number> <text>", "HOLD": "HOLD <number> <credit|pricing|inventory|address|other> <reason>",
        "UNHOLD": "UNHOLD <number> <type> <reason>", "MOVE": "MOVE <number> <released|shipped|cancelled> [reason]",
        "HANDBACK": "HANDBACK <number> <reason>", "REASSIGN": "REASSIGN <number> <user|nobody> <reason>",
        "NEXT": "NEXT [queue]", "QUEUE": "QUEUE <queue> [limit]", "MSG": "MSG <user> <text>",
        "READ": "READ <event id>... | READ <number> | READ all", "FIND": "FIND [text] [customer=<text>]",
    ]

    private func expand(_ line: String, current: String? = "SO-10042", known: Set<String> = []) -> CurrentOrder.Expansion {
        let name = String(line.prefix { $0 != " " }).uppercased()
        return CurrentOrder(current).expand(line, usage: Self.usages[name], knownOrders: known)
    }

    @Test("a left-out number is the current order's, and free text after it is kept exactly", arguments: [
        ("NOTE customer agreed the new price", "NOTE SO-10042 customer agreed the new price"),
        ("NOTE \"rush\" per customer", "NOTE SO-10042 \"rush\" per customer"),
        ("NOTE  two  spaces kept", "NOTE SO-10042 two  spaces kept"),
        ("HOLD pricing list price changed, @sam please confirm", "HOLD SO-10042 pricing list price changed, @sam please confirm"),
        ("UNHOLD pricing agreed", "UNHOLD SO-10042 pricing agreed"),
        ("MOVE released", "MOVE SO-10042 released"),
        ("HANDBACK waiting for the customer", "HANDBACK SO-10042 waiting for the customer"),
        ("REASSIGN ben ana is out", "REASSIGN SO-10042 ben ana is out"),
        ("ORDER", "ORDER SO-10042"),
        ("touch", "touch SO-10042"),
        ("CARD", "CARD SO-10042"),
        // `.` stands for the current order: free text that starts with an order number.
        ("NOTE . SO-7 is the replacement", "NOTE SO-10042 SO-7 is the replacement"),
        ("NOTE . 42 boxes arrived", "NOTE SO-10042 42 boxes arrived"),
        ("ORDER .", "ORDER SO-10042"),
    ])
    func expands(typed: String, sent: String) {
        #expect(expand(typed) == .expanded(sent))
    }

    @Test("an order reference is always the order: a number's shape, a bare number, one seen this session", arguments: [
        "NOTE SO-7 is the replacement", "NOTE 10089 call back", "HOLD SO-1 credit over", "MOVE so-1 released",
        "NOTE ACME-2024-7 shipped", "ORDER SO-99",
    ])
    func namedOrdersStay(typed: String) {
        #expect(expand(typed, known: ["ACME-2024-7"]) == .unchanged)
    }

    @Test("commands that take no order first, or only a number (an unusual one goes as typed), are never touched", arguments: [
        "NEXT pricing", "NEXT", "QUEUE new 5", "MSG sam can you call Acme?", "FIND acme", "READ all", "READ 12 13",
        "ORDER X123", "CLAIM weird-number", "UNKNOWN thing",
    ])
    func untouched(typed: String) {
        #expect(expand(typed) == .unchanged)
    }

    @Test("with no current order a left-out number is not guessed")
    func noCurrentOrder() {
        #expect(expand("NOTE customer agreed", current: nil) == .needsOrder)
        #expect(expand("ORDER", current: nil) == .needsOrder)
        #expect(expand("NOTE . text", current: nil) == .needsOrder)
        #expect(expand("NOTE SO-1 text", current: nil) == .unchanged)
    }

    @Test("what makes an order current: a command that names one and went well, or NEXT; not-found for it clears it")
    func learning() {
        var current = CurrentOrder()
        func ok(_ command: String, _ summary: String) -> ServerReply { ServerReply(command: command, data: [], outcome: .ok(summary: summary)) }
        func learn(_ reply: ServerReply) { current.learn(reply, usage: Self.usages[reply.commandName]) }

        learn(ok("NEXT pricing", "order=SO-1 token=7 until=2026-11-22T14:45:00Z"))
        #expect(current.number == "SO-1")
        learn(ok("ORDER 10089", "order=SO-10089"))
        #expect(current.number == "SO-10089", "the server's resolution of a bare number")
        learn(ok("CARD SO-5", "order=SO-5"))
        #expect(current.number == "SO-5")
        learn(ok("NOTE SO-6 hello", "order=SO-6 notes=1"))
        #expect(current.number == "SO-6")
        // Look-ups of many orders, and other commands, leave it.
        learn(ok("QUEUE new", "queue=new count=3 shown=3"))
        learn(ok("FIND acme", "found=1 shown=1"))
        learn(ok("MSG sam hi order=SO-9", "to=sam order=SO-9"))
        #expect(current.number == "SO-6")
        // A refusal changes nothing; not-found for another order neither.
        learn(ServerReply(command: "CLAIM SO-7", data: [], outcome: .failure(code: "claimed", message: "order=SO-7 holder=ben held by ben")))
        learn(ServerReply(command: "ORDER SO-8", data: [], outcome: .failure(code: "not-found", message: "order=SO-8 no such order")))
        #expect(current.number == "SO-6")
        // A mistyped `use`: the first not-found for it clears it.
        current.use("SO-66")
        learn(ServerReply(command: "NOTE SO-66 x", data: [], outcome: .failure(code: "not-found", message: "order=SO-66 no such order")))
        #expect(current.number == nil)
    }

    @Test("the status line shows the current order after the connection")
    func statusLine() {
        var status = StatusLine(user: "ana")
        status.loggedIn(user: "ana", claimLines: [], unread: 0)
        status.currentOrder = "SO-10042"
        let plain = Style(isEnabled: false)
        #expect(status.text(now: Date(), width: 79, style: plain) == "● online · current SO-10042 · no claims · 0 unread")
        status.currentOrder = nil
        #expect(status.text(now: Date(), width: 79, style: plain) == "● online · no claims · 0 unread")
    }

    @Test("Tab with a current order: the first argument offers orders and what follows the left-out number")
    func completion() {
        var completer = Completer()
        completer.commands = Self.usages
        completer.vocabulary.learn(dataLine: "SO-4242 stage=captured priority=normal customer=Acme rep=sam po=PO-1 total=1.00 currency=USD age=1m")
        completer.vocabulary.learn(fields: ["order": "SO-10042", "open-holds": "credit,address"])
        completer.vocabulary.learn(user: "ben")
        #expect(completer.complete("HOLD pr").candidates == [], "no current order: the first argument is the number")
        completer.currentOrder = "SO-10042"
        #expect(completer.complete("HOLD pr").candidates == ["pricing"])
        #expect(completer.complete("HOLD ").candidates == ["SO-10042", "SO-4242", "address", "credit", "inventory", "other", "pricing"])
        #expect(completer.complete("UNHOLD ").candidates == ["SO-10042", "SO-4242", "address", "credit"], "the current order's open holds")
        #expect(completer.complete("REASSIGN b").candidates == ["ben"])
        #expect(completer.complete("REASSIGN . b").candidates == ["ben"])
        #expect(completer.complete("UNHOLD SO-4242 ").candidates == ["address", "credit", "inventory", "other", "pricing"], "a named order keeps its place")
        #expect(completer.complete("ORDER ").candidates == ["SO-10042", "SO-4242"])
    }
}
