import Testing
@testable import DeskClientKit

@Suite("Completer and Vocabulary")
struct CompleterTests {
    private var completer: Completer {
        var completer = Completer()
        completer.commands = [
            "ORDER": "ORDER <number>", "ORDERS": "ORDERS", "NOTE": "NOTE <number> <text>",
            "REASSIGN": "REASSIGN <number> <user|nobody> <reason>", "HOLD": "HOLD <number> <credit|pricing|inventory|address|other> <reason>",
            "QUEUE": "QUEUE <queue> [limit]", "HELP": "HELP [command]", "UNHOLD": "UNHOLD <number> <type> <reason>",
        ]
        completer.localCommands = ["help", "quit"]
        completer.vocabulary.learn(dataLine: "SO-4242 stage=captured priority=normal customer=Acme rep=sam po=PO-1 total=1.00 currency=USD age=1m holder=ben until=2026-11-22T10:00:00Z")
        completer.vocabulary.learn(fields: ["order": "SO-77", "by": "cleo", "queue": "pricing", "text": "hello there"])
        return completer
    }

    @Test("command names keep the case typed")
    func commands() {
        #expect(completer.complete("ord") == Completion(start: 0, candidates: ["order", "orders"]))
        #expect(completer.complete("OR") == Completion(start: 0, candidates: ["ORDER", "ORDERS"]))
        #expect(completer.complete("he").candidates == ["help"])
    }

    @Test("an order number where the usage says <number>, case-insensitively")
    func orderNumbers() {
        #expect(completer.complete("ORDER so-42") == Completion(start: 6, candidates: ["SO-4242"]))
        #expect(completer.complete("order ").candidates == ["SO-4242", "SO-77"])
    }

    @Test("users and spelled-out choices from the usage line")
    func choices() {
        #expect(completer.complete("REASSIGN SO-77 ").candidates == ["ben", "cleo", "nobody", "sam"])
        #expect(completer.complete("HOLD SO-77 pr").candidates == ["pricing"])
        #expect(completer.complete("QUEUE p").candidates == ["pricing"])
        #expect(completer.complete("help NO").candidates == ["NOTE"])
    }

    @Test("@ completes a user name anywhere; free text gets nothing else")
    func mentions() {
        #expect(completer.complete("NOTE SO-77 ask @c") == Completion(start: 16, candidates: ["cleo"]))
        #expect(completer.complete("NOTE SO-77 hel").candidates.isEmpty)
        #expect(completer.complete("REASSIGN SO-77 ben sick ").candidates.isEmpty)
    }

    @Test("the vocabulary learns from an order card, never from free text")
    func vocabularyFromCard() {
        var vocabulary = Vocabulary()
        for line in ["order SO-9 stage=captured customer=\"Acme Corp\" rep=rita po=PO-3 total=1.00 currency=USD",
                     "claim holder=ana token=3 since=2026-11-22T10:00:00Z until=2026-11-22T10:15:00Z",
                     "watchers rita sam", "note at=2026-11-22T10:00:00Z by=ben text=\"ask SO-123 and zed\""] {
            vocabulary.learn(dataLine: line)
        }
        #expect(vocabulary.orders == ["SO-9"])
        #expect(vocabulary.users == ["ana", "ben", "rita", "sam"])
    }

    // Regression: UNHOLD did not complete the order's open hold types.
    @Test("UNHOLD completes the order's open holds as last seen, or every hold type when unknown")
    func unholdTypes() {
        var completer = self.completer
        completer.vocabulary.learn(dataLine: "SO-5 stage=captured priority=high customer=A rep=sam po=P total=1.00 currency=USD age=1h holds=credit,pricing")
        #expect(completer.complete("UNHOLD SO-5 ").candidates == ["credit", "pricing"])
        #expect(completer.complete("unhold so-5 p").candidates == ["pricing"])
        #expect(completer.complete("UNHOLD SO-404 ").candidates == ["address", "credit", "inventory", "other", "pricing"])
        #expect(completer.complete("UNHOLD SO-5 credit ").candidates.isEmpty, "the reason is free text")

        completer.vocabulary.learn(fields: ["order": "SO-5", "type": "pricing", "open-holds": "credit"])  // UNHOLD's OK line
        #expect(completer.complete("UNHOLD SO-5 ").candidates == ["credit"])
        completer.vocabulary.learn(event: ServerEvent(id: 1, kind: "hold", fields: ["order": "SO-5", "type": "address", "by": "ben"]))
        #expect(completer.complete("UNHOLD SO-5 ").candidates == ["address", "credit"])
        completer.vocabulary.learn(event: ServerEvent(id: 2, kind: "unhold", fields: ["order": "SO-5", "type": "credit", "by": "ben"]))
        #expect(completer.complete("UNHOLD SO-5 ").candidates == ["address"])

        completer.vocabulary.learn(dataLines: [
            "order SO-9 stage=captured customer=A rep=rita po=P total=1.00 currency=USD",
            "hold id=1 type=credit status=released by=ben at=2026-11-22T10:00:00Z reason=x",
            "hold id=2 type=inventory status=open by=ben at=2026-11-22T10:00:00Z reason=y",
            "claim holder=nobody",
        ])
        #expect(completer.complete("UNHOLD SO-9 ").candidates == ["inventory"], "from a card: open holds only")
    }
}
