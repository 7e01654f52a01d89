import Foundation
import Testing
@testable import OrderDeskCore

/// A desk driven by random but reproducible steps: commands from several users on a few order
/// numbers, clock jumps, ticks (not always: commands also arrive between ticks), logins and
/// logouts. `DeskChecks` judges every step; the first violation is recorded with the seed and
/// the step, and the run stops.
struct RandomDeskRun {
    static let users: [(String, Role)] = [
        ("ana", .processor), ("ben", .processor), ("cleo", .processor), ("sam", .sales), ("rita", .sales),
        ("cora", .service), ("ada", .admin), ("shop", .integration),
    ]
    static let numbers = (1...8).map { "SO-\($0)" }
    static let advances: [Int64] = [0, 0, 1, 1000, 30_000, 120_000, 840_000, 900_000, 960_000, 3_600_000, 86_400_000]

    let seed: UInt64
    var random: SplitMix64
    var desk: Desk
    var checks: DeskChecks
    var now = Instant(milliseconds: 1_795_000_000_000)
    var sessions: [String: Int] = [:]
    /// Extreme CAPTURE values (largest quantities and prices, most lines): the order-total overflow.
    var capturesExtremes = false
    /// Steps taken, and how many commands failed and succeeded, so a test can tell it exercised both.
    var stepCount = 0
    var failures = 0
    var successes = 0
    var isBroken = false
    /// The desk just before and just after the last refused command.
    var lastRefusal: (before: Desk, after: Desk, line: String)?
    /// The lines run so far, to print with a failure.
    var transcript: [String] = []

    init(seed: UInt64) {
        self.seed = seed
        random = SplitMix64(seed: seed)
        desk = Desk(settings: DeskSettings(), snapshot: DeskSnapshot(), now: now)
        for (name, role) in Self.users {
            _ = desk.put(User(name: name, role: role, credential: Credential(salt: [], hash: [], iterations: 1)))
            _ = desk.sessionOpened(user: name, now: now)
            sessions[name] = 1
        }
        checks = DeskChecks(startingFrom: desk)
    }

    mutating func pick<Element>(_ items: [Element]) -> Element { items[Int(random.next() % UInt64(items.count))] }
    mutating func chance(_ percent: UInt64) -> Bool { random.next() % 100 < percent }
    mutating func number(in range: ClosedRange<Int>) -> Int { range.lowerBound + Int(random.next() % UInt64(range.count)) }

    /// Runs `count` random steps, stopping at the first violation.
    mutating func run(_ count: Int) {
        for _ in 0..<count where !isBroken { randomStep() }
    }

    mutating func randomStep() {
        now = now + Milliseconds(pick(Self.advances))
        if chance(75) { apply(.tick, "tick") { desk, now in desk.tick(now: now) } }
        let (user, line) = randomLine()
        let time = now
        switch CommandParser().parse(line) {
        case .success(.session(.login)):
            guard sessions[user, default: 0] < 2 else { return }
            sessions[user, default: 0] += 1
            apply(.sessionOpened(user), "\(user): LOGIN") { desk, now in desk.sessionOpened(user: user, now: now).outcome }
        case .success(.session(.logout)):
            guard sessions[user, default: 0] > 0 else { return }
            sessions[user, default: 0] -= 1
            apply(.sessionClosed(user), "\(user): QUIT") { desk, now in desk.sessionClosed(user: user, now: now) }
        case .success(.session):
            return  // answered by the server; the desk never sees it
        case .success(.desk(let command)):
            guard sessions[user, default: 0] > 0 else { return }
            // The desk the command meets: leases that ran out by now are over (execute ends them first).
            var before = desk
            _ = before.expireDueLeases(now: time)
            let outcome = apply(.command(command, by: user), "\(user): \(line)") { desk, now in desk.execute(command, as: user, now: now) }
            if case .failure? = outcome.reply {
                failures += 1
                lastRefusal = (before, desk, line)
            } else {
                successes += 1
            }
        case .failure(let error) where error.code == "too-large" && line.hasPrefix("CAPTURE"):
            // Extreme amounts are refused by the parser (issue 9): a refusal like any other.
            failures += 1
        case .failure(let error):
            Issue.record("seed \(seed): the generator wrote a line that does not parse at \(time.iso8601): \(line): \(error.message)")
            isBroken = true
        }
    }

    @discardableResult
    mutating func apply(_ step: DeskStep, _ label: String, _ body: (inout Desk, Instant) -> Outcome) -> Outcome {
        stepCount += 1
        transcript.append("+\(now.milliseconds - 1_795_000_000_000)ms \(label)")
        let before = desk
        let outcome = body(&desk, now)
        let problems = checks.violations(of: step, before: before, outcome: outcome, after: desk, now: now)
        if !problems.isEmpty {
            isBroken = true
            Issue.record("""
                seed \(seed), step \(stepCount) (\(label)) broke: \(problems.joined(separator: "; "))
                reproduce with seed \(seed); last steps:
                \(transcript.suffix(15).joined(separator: "\n"))
                """)
        }
        return outcome
    }

    mutating func randomLine() -> (String, String) {
        let number = pick(Self.numbers)
        let worker = pick(["ana", "ben", "cleo", "ada"])
        let anyone = pick(Self.users).0
        let reason = pick(["late", "call @sam", "see SO-3", "@ana @rita ok.", "\"two\\nlines\"", "x"])
        let hold = pick(HoldType.allCases).rawValue
        switch random.next() % 34 {
        case 0, 1, 2: return (pick(["shop", "shop", "ada", "sam"]), captureLine(number))
        case 3, 4: return (worker, "NEXT" + pick(["", " new", " credit", " pricing", " other"]))
        case 5, 6, 7: return (worker, "CLAIM \(number)")
        case 8: return (worker, pick(["HANDBACK", "RELEASE"]) + " \(number) \(reason)")
        case 9, 10: return (worker, "TOUCH \(number)")
        case 11, 12: return (pick([worker, worker, anyone]), "HOLD \(number) \(hold) \(reason)")
        case 13: return (worker, "UNHOLD \(number) \(hold) \(reason)")
        case 14, 15: return (pick([worker, "shop", "ada", anyone]), "MOVE \(number) " + pick(["released", "shipped", "cancelled \(reason)", "cancelled"]))
        case 16: return (anyone, "NOTE \(number) \(reason)")
        case 17: return (anyone, pick(["WATCH", "UNWATCH"]) + " \(number)")
        case 18: return (pick(["ada", anyone]), "REASSIGN \(number) \(pick(["ana", "ben", "sam", "nobody", "zed"])) \(reason)")
        case 19: return (anyone, pick(["INBOX", "INBOX unread 3", "READ all", "READ 1 2 3 99", "WHOAMI", "STUCK", "THRESHOLDS"]))
        case 20: return (anyone, "MSG \(pick(Self.users).0) \(reason)")
        case 21: return (anyone, pick(["AWAY \(reason)", "BACK", "JOIN ops", "LEAVE ops", "SAY ops \(reason)", "ROOMS", "WHO"]))
        case 22: return (anyone, pick(["SUBSCRIBE", "UNSUBSCRIBE"]) + " " + pick(["new", "credit", "released", "stuck"]))
        case 23: return (pick(["ada", anyone]), thresholdLine())
        case 24: return (anyone, pick(["QUEUE new", "QUEUE mine 3", "QUEUE credit", "FIND so limit=3", "FIND rep=sam", "ORDER \(number)", "HISTORY \(number)"]))
        case 25: return ("ada", pick(["METRICS", "METRICS window=1h", "AUDIT 5", "USERS"]))
        case 26: return ("ada", "USER ROLE \(pick(["ana", "ben", "cleo"])) \(pick(["processor", "processor", "sales", "admin"]))")
        case 27, 28: return (anyone, pick(["QUIT", "LOGIN \(anyone) x"]))
        default: return (worker, "CLAIM \(number)")
        }
    }

    mutating func captureLine(_ orderNumber: String) -> String {
        let count = capturesExtremes ? pick([1, 2, 200]) : number(in: 1...3)
        let items = (0..<count).map { index -> String in
            let quantity = capturesExtremes ? pick([1, 999_999, 1_000_000]) : number(in: 1...1000)
            let price = capturesExtremes ? pick(["999999999999.99", "999999999999", "0.01"]) : "\(number(in: 0...9999)).\(number(in: 10...99))"
            return "SKU-\(index):\(quantity):\(price)"
        }
        let priority = pick(["urgent", "high", "normal", "low"])
        return "CAPTURE \(orderNumber) customer=\(pick(["Acme", "\"Wayne Hardware\""])) rep=\(pick(["sam", "rita"])) po=PO-1 lines=\(items.joined(separator: ",")) priority=\(priority)"
    }

    mutating func thresholdLine() -> String {
        let spans = ["1s", "30s", "2m", "1h", "4h", "2d"]
        var values = (0..<3).map { _ in pick(spans) }
        if chance(80) { values.sort { Milliseconds(duration: $0)! < Milliseconds(duration: $1)! } }
        return "THRESHOLD \(pick(["new", "credit", "pricing", "released"])) warning=\(values[0]) stuck=\(values[1]) admins=\(values[2])"
    }
}

@Suite("Desk properties")
struct DeskPropertyTests {
    /// The seeds of every run; `ORDERDESK_PROPERTY_SEEDS=<n>` adds seeds 1000 to 1000+n-1 for a longer soak.
    static let seeds: [UInt64] = [1, 2, 3, 7, 42, 2026, 31_337, 0xDEAD_BEEF]
        + (1000..<(1000 + (ProcessInfo.processInfo.environment["ORDERDESK_PROPERTY_SEEDS"].flatMap { UInt64($0) } ?? 0))).map { $0 }

    @Test("random command sequences keep every invariant", arguments: seeds)
    func randomSequences(seed: UInt64) {
        var run = RandomDeskRun(seed: seed)
        run.run(1500)
        let kept = !run.isBroken
        #expect(kept, "seed \(seed): an invariant broke (recorded above)")
        // The run must exercise both sides, or the checks above could not fail.
        #expect(run.failures > 100, "seed \(seed): only \(run.failures) commands failed")
        #expect(run.successes > 100, "seed \(seed): only \(run.successes) commands succeeded")
        #expect(run.desk.orders.count >= 4, "seed \(seed): only \(run.desk.orders.count) orders captured")
    }

    @Test("a failed command changes nothing: every refusal of a random run leaves the desk as it was", arguments: seeds.prefix(3))
    func failuresChangeNothing(seed: UInt64) {
        var run = RandomDeskRun(seed: seed)
        var refusals = 0
        for _ in 0..<800 where !run.isBroken {
            run.lastRefusal = nil
            run.randomStep()
            guard let (before, after, line) = run.lastRefusal else { continue }
            refusals += 1
            // Compared here directly as well as in DeskChecks. (Bools, so a failure does not print whole desks.)
            let sameOrders = after.orders == before.orders, sameCounters = after.counters == before.counters
            let sameUsers = after.users == before.users, sameMailboxes = after.mailboxes == before.mailboxes
            #expect(sameOrders && sameCounters && sameUsers && sameMailboxes,
                    "seed \(seed): the refused \(line) changed orders: \(!sameOrders), counters: \(!sameCounters), users: \(!sameUsers), mailboxes: \(!sameMailboxes)")
        }
        let kept = !run.isBroken
        #expect(kept, "seed \(seed): an invariant broke (recorded above)")
        #expect(refusals > 50, "seed \(seed): only \(refusals) refusals")
    }

    @Test("a lease that has run out is over at that instant, even before tick runs", arguments: seeds)
    func expiredLeasesAreOver(seed: UInt64) {
        var run = RandomDeskRun(seed: seed)
        run.run(1500)
        let kept = !run.isBroken
        #expect(kept, "seed \(seed): an invariant broke (recorded above)")
        // And directly: the old holder's TOUCH, HOLD and NOTE at or after `until`.
        var random = SplitMix64(seed: seed)
        var fixture = DeskFixture()
        _ = fixture.desk.sessionOpened(user: "ana", now: fixture.now)
        fixture.capture("SO-1")
        fixture.run("CLAIM SO-1", as: "ana")
        guard let lease = fixture.desk.orders["SO-1"]?.lease else {
            Issue.record("seed \(seed): no claim")
            return
        }
        fixture.now = lease.expires + Milliseconds(Int64(random.next() % 3) * Int64(random.next() % 600_000))
        for line in ["TOUCH SO-1", "HOLD SO-1 credit late", "NOTE SO-1 still mine?", "UNHOLD SO-1 credit late"] {
            let reply = fixture.run(line, as: "ana").reply
            let after = fixture.desk.orders["SO-1"]?.lease
            #expect(after == nil || after?.token != lease.token || after?.expires == lease.expires,
                    "seed \(seed): \(line) at \(fixture.now.iso8601) renewed lease \(lease.token), which ended at \(lease.expires.iso8601): \(String(describing: reply))")
            if line.hasPrefix("TOUCH") || line.hasPrefix("HOLD") { #expect(reply?.isOK == false, "seed \(seed): \(line) succeeded") }
        }
    }

    @Test("CAPTURE with extreme values (max quantity x max price x max lines) never traps", arguments: seeds)
    func extremeCaptures(seed: UInt64) {
        var run = RandomDeskRun(seed: seed)
        run.capturesExtremes = true
        run.run(600)
        let kept = !run.isBroken
        #expect(kept, "seed \(seed): an invariant broke (recorded above)")
        let items = (0..<200).map { "S\($0):1000000:999999999999.99" }.joined(separator: ",")
        let parsed = CommandParser().parse("CAPTURE BIG customer=x rep=sam po=p lines=\(items)")
        guard case .failure(let error) = parsed, error.code == "too-large" else {
            Issue.record("the largest CAPTURE is not refused as too-large: \(parsed)")
            return
        }
        // The desk refuses it too when it arrives without the parser (an import, a program).
        let lines = (0..<200).map { OrderLine(sku: "S\($0)", quantity: 1_000_000, unitPrice: Money(cents: 99_999_999_999_999)) }
        let command = Command.capture(OrderDraft(number: "BIG", customer: "x", rep: "sam", purchaseOrder: "p", currency: "USD",
                                                 lines: lines, priority: .normal, requestedShipDate: nil))
        let outcome = run.apply(.command(command, by: "shop"), "the largest CAPTURE") { desk, now in desk.execute(command, as: "shop", now: now) }
        #expect(outcome.reply?.isOK == false, "the desk took an order whose total is past the maximum")
        let keptWithLargest = !run.isBroken
        #expect(keptWithLargest, "seed \(seed): an invariant broke (recorded above)")
    }

    @Test("the checks catch what they look for")
    func checksCanFail() {
        var run = RandomDeskRun(seed: 5)
        guard case .success(.desk(let capture)) = CommandParser().parse("CAPTURE SO-1 customer=a rep=sam po=p lines=A:1:1") else {
            Issue.record("capture does not parse")
            return
        }
        let before = run.desk
        var after = before
        let outcome = after.execute(capture, as: "shop", now: run.now)
        #expect(run.checks.violations(of: .command(capture, by: "shop"), before: before, outcome: outcome, after: after, now: run.now).isEmpty)
        var checks = DeskChecks(startingFrom: before)
        // A refusal that changed the desk anyway.
        let refused = Outcome(reply: .failure(.orderExists("SO-1")), changes: outcome.changes)
        #expect(checks.violations(of: .command(capture, by: "shop"), before: before, outcome: refused, after: after, now: run.now)
            .contains { $0.contains("failed command") })
        // A change the store never heard of.
        let unsaved = Outcome(reply: outcome.reply, changes: [], pushes: outcome.pushes)
        checks = DeskChecks(startingFrom: before)
        #expect(checks.violations(of: .command(capture, by: "shop"), before: before, outcome: unsaved, after: after, now: run.now)
            .contains { $0.contains("not saved") })
        // Counters that went back.
        checks = DeskChecks(startingFrom: before)
        #expect(checks.violations(of: .tick, before: after, outcome: Outcome(reply: nil), after: before, now: run.now)
            .contains { $0.contains("went back") })
    }
}
