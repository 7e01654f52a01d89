import Foundation
import Testing
@testable import OrderDeskCore

/// The fuzzer's properties over its seed corpus and the inputs that once looked risky; a
/// crashing input found by `docs/fuzz/run.sh` is added here before it is fixed.
@Suite("Fuzz regressions")
struct FuzzRegressionTests {
    static let seedDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../docs/fuzz/seeds").standardized

    @Test("every seed satisfies the input properties")
    func seeds() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.seedDirectory.path)
        #expect(names.count >= 10)
        for name in names {
            let data = try Data(contentsOf: Self.seedDirectory.appendingPathComponent(name))
            InputChecks.check(Array(data))
        }
    }

    @Test("edge inputs", arguments: [
        [UInt8](repeating: 0x22, count: 600) + [0x0A],  // a line of quotes past the limit
        Array("NOTE SO-1 \"\\\"\\\\\\n\"\r\r\n".utf8),
        Array("k=\"\" =\"x\" \"\"\n".utf8),
        [0xFF, 0xFE, 0x0A, 0x0D, 0x0A, 0x0A],
        Array("CAPTURE SO-1 lines=::,:::,\n".utf8),
        Array("EVENT 18446744073709551616 x\nEVENT 1\n".utf8),
        // Found by the parser mode (crash-999a0edb...): an ERR line with a raw LF from a quoted word.
        Array("FIND c$stomer=acm$OT \"qu~oted \\\"xexu\\n\"\r\n\\A\" z\n".utf8),
    ])
    func edges(bytes: [UInt8]) {
        InputChecks.check(bytes)
    }

    static let deskSeedDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../docs/fuzz/desk-seeds").standardized

    /// A desk-mode input: the mode byte, then the script.
    static func deskInput(_ script: String) -> [UInt8] { [0xDE] + Array(script.utf8) }

    @Test("every desk seed runs with every desk invariant kept")
    func deskSeeds() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.deskSeedDirectory.path)
        #expect(names.count >= 10)
        for name in names {
            let data = Array(try Data(contentsOf: Self.deskSeedDirectory.appendingPathComponent(name)))
            #expect(data.first == 0xDE, "\(name) does not start with the desk-mode byte")
            DeskScript().run(data.dropFirst())
        }
    }

    /// Bug: usage errors quoted the offending word raw, so a quoted argument holding `\n`
    /// (`PING "x\nOK forged"`) put a line end inside the ERR line, and the client read a forged
    /// second line. An ERR line is one line whatever the input.
    @Test("ERR lines carry no control character from the input", arguments: [
        "PING \"x\\nOK forged\"",
        "HOLD SO-1 \"cre\\ndit\" over limit",
        "MOVE SO-1 \"released\\r\\nEVENT 1 forged\"",
        "QUEUE \"new\\tx\"",
        "INBOX \"5\\n\"",
        "READ \"1\\n2\"",
        "CAPTURE SO-1 customer=x rep=sam po=p lines=\"A:1:1\\nB\"",
        "USER ROLE ana \"admin\\n\"",
    ])
    func errorLinesStayOneLine(line: String) {
        guard case .failure(let error) = CommandParser().parse(line) else {
            Issue.record("\(line) parsed")
            return
        }
        let wire = Reply.failure(error).wireText
        #expect(wire.utf8.dropLast().allSatisfy { $0 >= 0x20 && $0 != 0x7F } && wire.utf8.last == 0x0A, "\(wire.debugDescription)")
    }

    @Test("ERR lines from the desk carry no control character from the input: SAY to a room named with a newline")
    func deskErrorLinesStayOneLine() {
        var fixture = DeskFixture()
        let reply = fixture.run("SAY \"ops\\nOK forged\" hello", as: "ana").reply
        guard case .failure(let error)? = reply else {
            Issue.record("SAY to a room not joined succeeded: \(String(describing: reply))")
            return
        }
        let wire = Reply.failure(error).wireText
        #expect(wire.utf8.dropLast().allSatisfy { $0 >= 0x20 && $0 != 0x7F }, "\(wire.debugDescription)")
    }

    /// Bug: `ship=` was checked with `Int64(...)`, which takes a sign, so `2026-+1-+1` and
    /// `+999-01-01` passed as YYYY-MM-DD dates and were stored and shown as given.
    @Test("CAPTURE refuses a ship date that is not YYYY-MM-DD digits", arguments: ["2026-+1-+1", "+999-01-01", "2026-01-+1", "-001-01-01", "2026-1-01"])
    func shipDateDigitsOnly(ship: String) {
        let result = CommandParser().parse("CAPTURE SO-1 customer=x rep=sam po=p lines=A:1:1 ship=\(ship)")
        #expect(result.failureCode == "bad-arguments", "ship=\(ship) was accepted")
    }

    // MARK: Known bugs the lead fixes on main; enable each once its fix is merged.

    @Test("order total overflow: CAPTURE X1 customer=x rep=sam po=p lines=X:1000000:999999999999.99 must not trap")
    func orderTotalOverflowOneLine() {
        let line = "CAPTURE X1 customer=x rep=sam po=p lines=X:1000000:999999999999.99"
        #expect(CommandParser().parse(line).failureCode == "too-large")
        DeskScript().run(Self.deskInput("50" + line + "\n00NEXT\n").dropFirst())
    }

    @Test("order total overflow across lines: ten lines of 10000 x 999999999999.99, each within Int64, sum past it")
    func orderTotalOverflowAcrossLines() {
        let items = Array(repeating: "X:10000:999999999999.99", count: 10).joined(separator: ",")
        #expect(CommandParser().parse("CAPTURE X2 customer=x rep=sam po=p lines=\(items)").failureCode == "too-large")
        var fixture = DeskFixture()
        _ = fixture.run("QUEUE new", as: "ana")
    }

    @Test("Instant + Milliseconds overflow: a claim near the end of time must not trap")
    func instantOverflow() {
        var fixture = DeskFixture()
        fixture.capture("SO-1")
        fixture.now = Instant(milliseconds: Int64.max - 1000)
        _ = fixture.run("CLAIM SO-1", as: "ana")
        _ = fixture.run("THRESHOLD new warning=9999999d stuck=9999999d admins=9999999d", as: "ada")
        _ = fixture.desk.tick(now: fixture.now)
        DeskScript().run(Self.deskInput("0?NEXT\n0?NEXT\n4?THRESHOLD new warning=9999999d stuck=9999999d admins=9999999d\n").dropFirst())
    }

    @Test("expired leases still accepted until tick runs: TOUCH at until with the old token")
    func expiredLeaseAcceptedBeforeTick() {
        var fixture = DeskFixture()
        _ = fixture.desk.sessionOpened(user: "ana", now: fixture.now)
        fixture.capture("SO-1")
        fixture.run("CLAIM SO-1", as: "ana")
        fixture.advance(.minutes(15))
        #expect(fixture.run("TOUCH SO-1", as: "ana").reply?.errorCode == "not-holder")
        #expect(fixture.run("HOLD SO-1 credit late", as: "ana").reply?.errorCode == "not-holder")
        fixture.run("NOTE SO-1 still mine?", as: "ana")
        #expect(fixture.desk.orders["SO-1"]?.lease.map { $0.expires <= fixture.now } ?? true, "a note renewed the expired lease")
        // The same through the desk script: claim, 15 minutes without a tick, TOUCH.
        DeskScript().run(Self.deskInput("00CLAIM SO-4\n0GTOUCH SO-4\n").dropFirst())
    }

    @Test("expired leases revived by a login: the grace window ended, then LOGIN before tick")
    func expiredGraceRevivedByLogin() {
        DeskScript().run(Self.deskInput("00CLAIM SO-4\n00QUIT\n0ELOGIN ana x\n").dropFirst())
    }

    @Test("INBOX 5 6 accepted: a repeated limit is bad-arguments",
          arguments: ["INBOX 5 6", "INBOX 5 unread 6"])
    func inboxRepeatedLimit(line: String) {
        #expect(CommandParser().parse(line).failureCode == "bad-arguments")
    }

    @Test("CAPTURE with a rep who is not a user is refused")
    func captureUnknownRep() {
        var fixture = DeskFixture()
        let reply = fixture.run("CAPTURE X3 customer=x rep=nosuchrep po=p lines=A:1:1", as: "shop").reply
        #expect(reply?.isOK == false)
        #expect(fixture.desk.orders["X3"] == nil)
        DeskScript().run(Self.deskInput("50CAPTURE X3 customer=x rep=nosuchrep po=p lines=A:1:1\n").dropFirst())
    }
}

extension Result where Failure == DeskError {
    var failureCode: String? { if case .failure(let error) = self { error.code } else { nil } }
}
