/// The desk-level fuzz mode's input: a script of steps run against a `Desk`, with `DeskChecks`
/// judging every step; it traps when one breaks a rule. The fuzzer (orderdesk-fuzz) and the
/// regression tests run inputs through `run` (docs/FUZZING.md, "Desk mode").
///
/// Each input line (up to LF) is one step: its first byte picks the user (byte % 8 of `users`),
/// its second byte the clock advance (low four bits index `advances`; bit 0x40 set means no
/// `tick` before the command), and the rest is a protocol line. `LOGIN` and `QUIT` open and
/// close a session of that user, as the server does; other commands run only for a user with
/// a session, as on the wire.
public struct DeskScript {
    /// The desk's users: every role, two of some, so claims can be contested.
    static let users: [(String, Role)] = [
        ("ana", .processor), ("ben", .processor), ("sam", .sales), ("cora", .service),
        ("ada", .admin), ("shop", .integration), ("rita", .sales), ("cleo", .processor),
    ]

    /// Clock advances a step can choose, from none to far beyond any lease or threshold.
    static let advances: [Int64] = [
        0, 1, 999, 1000, 59_000, 60_000, 899_999, 900_000, 900_001, 3_600_000, 14_400_000, 86_400_000,
        30 * 86_400_000, 3650 * 86_400_000, 1 << 40, 1 << 62,
    ]

    /// The first instant of every run: 2026-11-18.
    static let start = Instant(milliseconds: 1_795_000_000_000)

    /// Lines run before the script, so it starts from open work: orders in every stage, a hold,
    /// claims, a subscription and a room.
    static let setup: [(String, String)] = [
        ("shop", "CAPTURE SO-1 customer=\"Acme Corp\" rep=sam po=PO-1 lines=WID-1:2:10.50,GAD-9:1:99.00 priority=high"),
        ("shop", "CAPTURE SO-2 customer=Globex rep=rita po=PO-2 lines=A:1:1 priority=urgent ship=2026-12-01"),
        ("shop", "CAPTURE SO-3 customer=Initech rep=sam po=PO-3 lines=B:3:0.99 priority=low"),
        ("shop", "CAPTURE SO-4 customer=Umbrella rep=rita po=PO-4 lines=C:10:5"),
        ("ana", "CLAIM SO-2"),
        ("ana", "HOLD SO-2 credit over limit, @sam please check"),
        ("ben", "CLAIM SO-3"),
        ("ben", "MOVE SO-3 released"),
        ("cora", "SUBSCRIBE stuck"),
        ("sam", "SUBSCRIBE new"),
        ("rita", "JOIN ops"),
        ("ana", "JOIN ops"),
    ]

    public init() {}

    /// Runs `script` (the input after its mode byte) on a fresh desk.
    public func run(_ script: ArraySlice<UInt8>) {
        var desk = Desk(settings: DeskSettings(), snapshot: DeskSnapshot(), now: Self.start)
        var now = Self.start
        var sessions: [String: Int] = [:]
        for (name, role) in Self.users {
            _ = desk.put(User(name: name, role: role, credential: Credential(salt: [], hash: [], iterations: 1)))
            _ = desk.sessionOpened(user: name, now: now)
            sessions[name] = 1
        }
        let parser = CommandParser()
        for (user, line) in Self.setup {
            guard case .success(.desk(let command)) = parser.parse(line), desk.execute(command, as: user, now: now).reply?.isSuccess == true else {
                fatalError("fuzz setup failed: \(line)")
            }
        }
        var checks = DeskChecks(startingFrom: desk)
        func step(_ step: DeskStep, _ body: (inout Desk) -> Outcome) {
            let before = desk
            let outcome = body(&desk)
            let problems = checks.violations(of: step, before: before, outcome: outcome, after: desk, now: now)
            // fatalError, not precondition: its message is printed in optimized fuzz builds too.
            if !problems.isEmpty { fatalError("desk invariant broken by \(step): " + problems.joined(separator: "; ")) }
        }

        for line in script.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).prefix(400) {
            guard line.count >= 2 else { continue }
            let user = Self.users[Int(line[line.startIndex]) % Self.users.count].0
            let control = line[line.startIndex + 1]
            let advance = Self.advances[Int(control & 0x0F)]
            now = Instant(milliseconds: now.milliseconds > Int64.max - advance ? Int64.max : now.milliseconds + advance)
            if control & 0x40 == 0 { step(.tick) { $0.tick(now: now) } }

            var text = line.dropFirst(2)
            if text.last == UInt8(ascii: "\r") { text = text.dropLast() }
            guard text.count <= Limits().maximumLineLength, let text = String(validating: text, as: UTF8.self),
                  case .success(let parsed) = parser.parse(text) else { continue }
            switch parsed {
            case .session(.login):
                guard sessions[user, default: 0] < 3 else { continue }
                sessions[user, default: 0] += 1
                step(.sessionOpened(user)) { $0.sessionOpened(user: user, now: now).outcome }
            case .session(.logout):
                guard sessions[user, default: 0] > 0 else { continue }
                sessions[user, default: 0] -= 1
                step(.sessionClosed(user)) { $0.sessionClosed(user: user, now: now) }
            case .session:
                continue  // answered by the server, never by the desk
            case .desk(let command):
                guard sessions[user, default: 0] > 0 else { continue }
                let existed = command.orderNumber.map { desk.orders[$0] != nil } ?? true
                step(.command(command, by: user)) { $0.execute(command, as: user, now: now) }
                if case .capture(let draft) = command, !existed, desk.orders[draft.number] != nil {
                    if desk.users[draft.rep] == nil { fatalError("CAPTURE accepted rep=\(draft.rep), who is not a user") }
                }
            }
        }
    }
}
