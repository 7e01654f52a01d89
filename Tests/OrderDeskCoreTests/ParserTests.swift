import Testing
@testable import OrderDeskCore

@Suite("Command parser")
struct CommandParserTests {
    let parser = CommandParser()

    @Test("valid commands", arguments: [
        ("PING", ParsedCommand.session(.ping)),
        ("ping", .session(.ping)),
        ("LOGIN ana s3cret", .session(.login(user: "ana", password: "s3cret"))),
        ("NEXT", .desk(.next(.new))),
        ("NEXT pricing", .desk(.next(.hold(.pricing)))),
        ("CLAIM so-10042", .desk(.claim(order: "SO-10042"))),
        ("HANDBACK SO-1 customer will call back", .desk(.handBack(order: "SO-1", reason: "customer will call back"))),
        // RELEASE: the hand-back's deprecated first name, kept for existing scripts.
        ("release SO-1 customer will call back", .desk(.handBack(order: "SO-1", reason: "customer will call back"))),
        ("HOLD SO-1 credit over limit, @sam please check", .desk(.hold(order: "SO-1", type: .credit, reason: "over limit, @sam please check"))),
        ("UNHOLD SO-1 credit \"paid in full\"", .desk(.unhold(order: "SO-1", type: .credit, reason: "paid in full"))),
        ("MOVE SO-1 released", .desk(.move(order: "SO-1", to: .released, reason: nil))),
        ("MOVE SO-1 cancelled customer changed mind", .desk(.move(order: "SO-1", to: .cancelled, reason: "customer changed mind"))),
        ("QUEUE mine", .desk(.queue(.mine, limit: 20))),
        ("QUEUE inventory 5", .desk(.queue(.hold(.inventory), limit: 5))),
        ("FIND acme", .desk(.find(OrderQuery(text: "acme")))),
        ("FIND customer=\"Acme Corp\" stage=captured hold=pricing", .desk(.find(OrderQuery(customer: "Acme Corp", stage: .captured, hold: .pricing)))),
        ("REASSIGN SO-1 nobody stuck for a day", .desk(.reassign(order: "SO-1", to: "nobody", reason: "stuck for a day"))),
        ("HELP next", .session(.help(topic: "NEXT"))),
        ("READ so-10089", .desk(.readOrder("SO-10089"))),
        ("READ 12 15", .desk(.read([12, 15]))),
        ("READ all", .desk(.read(nil))),
        ("USER DISABLE ben left the company", .desk(.disableUser(name: "ben", reason: "left the company"))),
        ("user enable ben", .desk(.enableUser(name: "ben"))),
        ("USER PASSWORD ben \"new pass 1\"", .session(.resetPassword(user: "ben", password: "new pass 1"))),
        ("PASSWORD old new-secret-9", .session(.changePassword(old: "old", new: "new-secret-9"))),
    ])
    func valid(line: String, expected: ParsedCommand) {
        #expect(parser.parse(line) == .success(expected))
    }

    @Test("CAPTURE takes a whole order on one line")
    func capture() throws {
        let result = parser.parse("CAPTURE SO-7 customer=\"Acme Corp\" rep=sam po=PO-1 lines=WID-1:2:10.50,GAD-9:1:99 priority=high ship=2026-12-01")
        guard case .success(.desk(.capture(let draft))) = result else {
            Issue.record("not a capture: \(result)")
            return
        }
        #expect(draft.number == "SO-7")
        #expect(draft.customer == "Acme Corp")
        #expect(draft.lines == [OrderLine(sku: "WID-1", quantity: 2, unitPrice: Money(cents: 1050)), OrderLine(sku: "GAD-9", quantity: 1, unitPrice: Money(cents: 9900))])
        #expect(draft.priority == .high)
        #expect(draft.currency == "USD")
        #expect(draft.requestedShipDate == "2026-12-01")
    }

    @Test("errors carry a stable code", arguments: [
        ("FROB", "unknown-command"),
        ("NEXTT", "unknown-command"),
        ("NE", "unknown-command"),
        ("CLAIM", "bad-arguments"),
        ("CLAIM SO 1", "bad-arguments"),
        ("CLAIM SO/1", "bad-arguments"),
        ("HOLD SO-1 weather it rains", "bad-arguments"),
        ("HOLD SO-1 credit", "bad-arguments"),
        ("MOVE SO-1 captured", "bad-arguments"),
        ("NEXT mine", "bad-arguments"),
        ("READ SO-1 SO-2", "bad-arguments"),
        ("READ SO/1", "bad-arguments"),
        ("USER DISABLE ben", "bad-arguments"),
        ("USER ENABLE ben now", "bad-arguments"),
        ("USER PASSWORD ben short", "bad-arguments"),
        ("USER FREEZE ben", "bad-arguments"),
        ("PASSWORD only-one", "bad-arguments"),
        ("QUEUE nowhere", "bad-arguments"),
        ("QUEUE new 0", "bad-arguments"),
        ("FIND", "bad-arguments"),
        ("FIND colour=red", "bad-arguments"),
        ("CAPTURE SO-1 customer=A rep=sam po=P lines=WID:0:1", "bad-arguments"),
        ("CAPTURE SO-1 customer=A rep=sam po=P lines=WID:1:1.234", "bad-arguments"),
        ("CAPTURE SO-1 customer=A rep=sam po=P lines=WID:1:1 ship=2026-02-30", "bad-arguments"),
        ("CAPTURE SO-1 customer=A rep=sam lines=WID:1:1", "bad-arguments"),
        ("CAPTURE SO-1 customer=A rep=sam po=P lines=WID:1:1 rep=ben", "bad-arguments"),
        ("NOTE SO-1 \"unterminated", "bad-line"),
        ("", "bad-line"),
    ])
    func errors(line: String, code: String) {
        guard case .failure(let error) = parser.parse(line) else {
            Issue.record("\(line) parsed")
            return
        }
        #expect(error.code == code)
    }

    @Test("an unknown command gets a hint, and never matches by prefix")
    func hint() {
        guard case .failure(.unknownCommand(_, let suggestion)) = parser.parse("NEX SO-1") else {
            Issue.record("NEX was accepted")
            return
        }
        #expect(suggestion == "NEXT")
    }

    @Test("a note over the limit is refused")
    func noteLimit() {
        var limits = Limits()
        limits.maximumNoteLength = 10
        let result = CommandParser(limits: limits).parse("NOTE SO-1 this is far too long")
        #expect(result == .failure(.tooLarge(what: "text", limit: 10)))
    }
}

@Suite("Model")
struct ModelTests {
    @Test("the transition table", arguments: [
        (Stage.captured, Stage.released, true), (.captured, .cancelled, true), (.captured, .shipped, false),
        (.released, .shipped, true), (.released, .cancelled, true), (.released, .captured, false),
        (.shipped, .cancelled, false), (.cancelled, .captured, false), (.shipped, .released, false),
    ])
    func transitions(from: Stage, to: Stage, legal: Bool) {
        #expect(from.canMove(to: to) == legal)
    }

    @Test("money parses at most two decimals", arguments: [("10.50", 1050), ("10.5", 1050), ("7", 700), ("0.05", 5)] as [(String, Int64)])
    func money(text: String, cents: Int64) {
        #expect(Money(text[...])?.cents == cents)
        #expect(Money(cents: cents).decimal.hasSuffix(String(format2(cents % 100))))
    }

    @Test("mentions are @names at word starts")
    func mentions() {
        let note = Note(author: "ana", at: Instant(milliseconds: 0), text: "@sam please ask @rita. mail x@y.com, @sam again")
        #expect(note.mentions == ["sam", "rita"])
    }

    @Test("instants print as ISO 8601 UTC")
    func iso() {
        #expect(Instant(milliseconds: 0).iso8601 == "1970-01-01T00:00:00Z")
        #expect(Instant(milliseconds: 1_795_000_000_000).iso8601 == "2026-11-18T11:06:40Z")
        #expect(Milliseconds.minutes(125).compact == "2h05m")
    }
}

private func format2(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }

/// Issue 9's parser and arithmetic regressions.
@Suite("Hostile values")
struct HostileValueTests {
    let parser = CommandParser()

    @Test("regression: INBOX takes one limit, and unread once", arguments: ["INBOX 5 6", "INBOX unread unread", "INBOX 5 unread 6"])
    func inboxArguments(line: String) {
        guard case .failure(.badArguments) = parser.parse(line) else {
            Issue.record("\(line) was accepted: \(parser.parse(line))")
            return
        }
    }

    @Test("the new filters parse", arguments: [
        ("STUCK", Command.stuck(StuckFilter())),
        ("STUCK rep=sam limit=5", .stuck(StuckFilter(rep: "sam", limit: 5))),
        ("STUCK queue=pricing holder=ben", .stuck(StuckFilter(queue: .hold(.pricing), holder: "ben"))),
        ("FIND holder=ben", .find(OrderQuery(holder: "ben"))),
    ])
    func filters(line: String, expected: Command) {
        #expect(parser.parse(line) == .success(.desk(expected)))
    }

    @Test("regression: amounts past the maximum are too-large, at the line and at the total", arguments: [
        "CAPTURE X1 customer=x rep=sam po=p lines=X:1000000:999999999999.99",
        "CAPTURE X1 customer=x rep=sam po=p lines=X:2:999999999999.99",
        "CAPTURE X1 customer=x rep=sam po=p lines=A:1:999999999999.99,B:1:0.01",
    ])
    func amounts(line: String) {
        guard case .failure(let error) = parser.parse(line), error.code == "too-large" else {
            Issue.record("\(line) gave \(parser.parse(line))")
            return
        }
    }

    @Test("a LOGIN name or password out of form is refused before any check")
    func loginForm() {
        #expect(parser.parse("LOGIN " + String(repeating: "n", count: 8000) + " pw").failureCode == "bad-arguments")
        #expect(parser.parse("LOGIN ana " + String(repeating: "p", count: 1025)).failureCode == "too-large")
        #expect(parser.parse("USER ADD zed admin abcd").failureCode == "bad-arguments", "the wire's password rule")
        #expect(PasswordRule.problem(with: "abcd") != nil, "the same rule for orderdesk user add")
    }

    @Test("money and time arithmetic saturate or refuse; nothing traps")
    func arithmetic() {
        #expect(Money(cents: Int64.max).times(2) == nil)
        #expect(Money.maximum.adding(Money(cents: 1)) == nil)
        #expect(Money(cents: 5).times(-1) == nil)
        #expect(Instant(milliseconds: Int64.max) + Milliseconds(1) == Instant(milliseconds: Int64.max))
        #expect(Instant(milliseconds: Int64.min) - Milliseconds(1) == Instant(milliseconds: Int64.min))
        #expect((Instant(milliseconds: Int64.min) - Instant(milliseconds: Int64.max)).value == Int64.min)
        #expect(!Instant(milliseconds: Int64.min).iso8601.isEmpty)
        #expect(!Instant(milliseconds: Int64.max).iso8601.isEmpty)
    }
}
