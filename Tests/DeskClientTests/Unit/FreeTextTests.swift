import OrderDeskCore
import Testing
@testable import DeskClientKit

/// Free text goes to the server exactly as typed, even when it starts with a quote.
@Suite("FreeText")
struct FreeTextTests {
    private static func usage(_ name: String) -> String? { CommandSpec.all.first { $0.name == name }?.usage }

    @Test("the server's own usage lines say which argument is free text, and only for these commands")
    func freeTextArguments() {
        let expected = ["NOTE": 1, "HOLD": 2, "UNHOLD": 2, "MOVE": 2, "HANDBACK": 1, "REASSIGN": 2, "MSG": 1, "SAY": 1, "AWAY": 0]
        var found: [String: Int] = [:]
        for spec in CommandSpec.all {
            if let index = FreeText.argumentIndex(inUsage: spec.usage) { found[spec.name] = index }
        }
        #expect(found == expected)
    }

    // Regression: `NOTE SO-1 "rush" per customer` was `ERR bad-line`.
    @Test("text starting with a quote is sent quoted, and the server's parser reads back what was typed", arguments: [
        ("NOTE SO-1 \"rush\" per customer", Command.note(order: "SO-1", text: "\"rush\" per customer")),
        ("note  so-1   \"a \\ b\"  ", Command.note(order: "SO-1", text: "\"a \\ b\"")),
        ("HOLD SO-1 pricing \"list\" price", Command.hold(order: "SO-1", type: .pricing, reason: "\"list\" price")),
        ("UNHOLD SO-1 pricing \"ok\"", Command.unhold(order: "SO-1", type: .pricing, reason: "\"ok\"")),
        ("MOVE SO-1 cancelled \"dup\" of SO-2", Command.move(order: "SO-1", to: .cancelled, reason: "\"dup\" of SO-2")),
        ("HANDBACK SO-1 \"later\"", Command.handBack(order: "SO-1", reason: "\"later\"")),
        ("REASSIGN SO-1 ben \"sick\" today", Command.reassign(order: "SO-1", to: "ben", reason: "\"sick\" today")),
        ("MSG sam \"hi\" there", Command.message(to: "sam", text: "\"hi\" there")),
        ("SAY pricing \"who\" knows", Command.say(room: "pricing", text: "\"who\" knows")),
        ("AWAY \"out\" until 2", Command.away("\"out\" until 2")),
    ])
    func quotedWhenItMustBe(typed: String, command: Command) throws {
        let name = String(typed.split(separator: " ")[0]).uppercased()
        let wire = FreeText.encoded(typed, usage: Self.usage(name))
        #expect(wire != typed)
        #expect(try CommandParser().parse(wire).get() == .desk(command))
    }

    @Test("everything else goes exactly as typed", arguments: [
        "NOTE SO-1 plain text with \"quotes\" inside", "NOTE SO-1", "NOTE", "HOLD SO-1 pricing", "ORDER \"SO-1\"",
        "FIND \"acme corp\"", "MOVE SO-1 released", "AWAY at lunch", "USER ADD dana processor \"two words\"",
    ])
    func unchanged(typed: String) {
        let name = String(typed.split(separator: " ")[0]).uppercased()
        #expect(FreeText.encoded(typed, usage: Self.usage(name)) == typed)
    }
}
