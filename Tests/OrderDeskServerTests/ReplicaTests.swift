import Foundation
import Testing
@testable import OrderDeskCore
import OrderDeskServer

/// A cluster node that joins restores the desk from the store while the others built theirs
/// input by input; from then on every node runs the same inputs and must come out the same:
/// the same replies, the same events with the same ids. Here a live desk and one restored from
/// its store mid-run (as `loadCluster` restores it: sessions and away messages included) get
/// the same random inputs, and every outcome is compared.
struct ReplicaTests {
    static let users: [(String, Role)] = [("ana", .processor), ("ben", .processor), ("sam", .sales), ("ada", .admin), ("shop", .integration)]
    static let numbers = (1...6).map { "SO-\($0)" }

    @Test("a desk restored mid-run from its store answers every later input exactly as the live desk does (which drops stale deadlines now and then)", arguments: 1...8)
    func restoredDeskStaysInStep(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        var settings = DeskSettings()
        settings.leaseDuration = .minutes(5)
        settings.graceWindow = .seconds(90)
        let parser = CommandParser(limits: settings.limits)
        let store = MemoryStore()
        var now = Instant(milliseconds: 1_795_000_000_000)
        var live = Desk(settings: settings, snapshot: try store.load(), now: now)
        for (name, role) in Self.users {
            try store.commit(live.put(User(name: name, role: role, credential: Credential(salt: [1], hash: [1], iterations: 1))).changes)
        }
        var replica: Desk?
        var compared = 0
        for step in 0..<1500 {
            if step == 400 {
                var snapshot = try store.load()
                snapshot.online = live.online
                snapshot.away = live.away
                replica = Desk(settings: settings, snapshot: snapshot, now: now)
            }
            // Jumps around the lease's warning and end, so deadlines of several leases fall due at once.
            now = now + Milliseconds([0, 1, 500, 30_000, 60_000, 120_000, 150_000, 200_000][random.next(below: 8)])
            let user = Self.users[random.next(below: Self.users.count)].0
            let number = Self.numbers[random.next(below: Self.numbers.count)]
            let run: (inout Desk) -> Outcome
            switch random.next(below: 10) {
            case 0: run = { $0.tick(now: now) }
            case 1: run = { $0.sessionOpened(user: user, now: now).outcome }
            case 2: run = { $0.sessionClosed(user: user, now: now) }
            default:
                // Each line from someone allowed to send it, mostly: refusals are inputs too.
                let processor = random.next(below: 2) == 0 ? "ana" : "ben"
                let lines: [(String, String)] = [
                    ("shop", "CAPTURE \(number) customer=Acme rep=sam po=PO-1 lines=W:1:1.00"), (processor, "NEXT new"),
                    (processor, "CLAIM \(number)"), (processor, "TOUCH \(number)"), (processor, "HOLD \(number) credit over limit"),
                    (processor, "UNHOLD \(number) credit ok"), (processor, "MOVE \(number) released"), ("sam", "NOTE \(number) hi @ana"),
                    (processor, "WATCH \(number)"), (processor, "HANDBACK \(number) later"), (processor, "AWAY at lunch"), (processor, "BACK"),
                    ("sam", "MSG \(processor) call me"), (user, "ORDER \(number)"), (user, "SUBSCRIBE new"), (user, "READ all"), (user, "READ \(number)"),
                    ("ada", "REASSIGN \(number) \(processor) cover"), (user, "CLAIM \(number)"),
                ]
                let (actor, line) = lines[random.next(below: lines.count)]
                guard case .success(.desk(let command)) = parser.parse(line) else {
                    Issue.record("the test's line does not parse: \(line)")
                    continue
                }
                run = { $0.execute(command, as: actor, now: now) }
            }
            let outcome = run(&live)
            try store.commit(outcome.changes)
            // A cluster node drops stale deadlines outside its turns, when it likes: unobservable.
            if random.next(below: 3) == 0 { live.dropStaleDeadlines() }
            guard var copy = replica else { continue }
            let copied = run(&copy)
            replica = copy
            #expect(copied.reply?.wireText == outcome.reply?.wireText, "step \(step), seed \(seed)")
            #expect(copied.pushes.map(\.text) == outcome.pushes.map(\.text), "step \(step), seed \(seed)")
            #expect(copy.counters == live.counters, "step \(step), seed \(seed)")
            compared += 1
        }
        #expect(compared > 900)
    }

    @Test("a renewed lease's old deadline does not act: a restored desk, which never had it, numbers the same events")
    func renewedLeaseOldDeadline() throws {
        let settings = DeskSettings()  // a 15-minute lease, warned 2 minutes before its end
        let parser = CommandParser(limits: settings.limits)
        let store = MemoryStore()
        let start = Instant(milliseconds: 1_795_000_000_000)
        var live = Desk(settings: settings, snapshot: try store.load(), now: start)
        func run(_ line: String, as user: String, at minute: Int64, on desk: inout Desk) throws -> Outcome {
            guard case .success(.desk(let command)) = parser.parse(line) else { throw StoreError.corrupt(line) }
            return desk.execute(command, as: user, now: start + .minutes(minute))
        }
        for (name, role) in Self.users {
            try store.commit(live.put(User(name: name, role: role, credential: Credential(salt: [1], hash: [1], iterations: 1))).changes)
            try store.commit(live.sessionOpened(user: name, now: start).outcome.changes)
        }
        for number in ["SO-A", "SO-B"] {
            try store.commit(try run("CAPTURE \(number) customer=Acme rep=sam po=PO-1 lines=W:1:1.00", as: "shop", at: 0, on: &live).changes)
        }
        try store.commit(try run("CLAIM SO-A", as: "ana", at: 0, on: &live).changes)  // warned at 13
        try store.commit(try run("CLAIM SO-B", as: "ben", at: 1, on: &live).changes)  // warned at 14, ends at 16
        try store.commit(try run("TOUCH SO-A", as: "ana", at: 5, on: &live).changes)  // now warned at 18
        var snapshot = try store.load()
        snapshot.online = live.online
        var restored = Desk(settings: settings, snapshot: snapshot, now: start + .minutes(10))
        // Nothing ran from minute 5 to 19 (a store outage, say): one tick works off every deadline.
        let fromLive = live.tick(now: start + .minutes(19)).pushes.map(\.text)
        let fromRestored = restored.tick(now: start + .minutes(19)).pushes.map(\.text)
        #expect(fromLive.count == 2, "B's lease ends, A is warned: \(fromLive)")
        #expect(fromLive == fromRestored)
    }
}
