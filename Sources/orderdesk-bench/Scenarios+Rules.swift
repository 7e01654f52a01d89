import Foundation
import OrderDeskCore
import OrderDeskServer
import OrderDeskWire

extension Scenarios {
    // MARK: The desk's own work in the capture cycle, without sockets or a store

    /// The capture cycle's lines run in this process, one thread: framed from bytes, parsed, run
    /// on a `Desk`, and their replies and pushes encoded into a buffer, as the server does
    /// between a read and a send. No sockets, no store, no other thread, so the figure is the
    /// rules' own cost per cycle, steady from run to run where the TCP cycle's is not.
    func rulesCost() throws -> [String: Double] {
        let cycles = options.quick ? 2_000 : 100_000
        var desk = try Self.cycleDesk().desk
        let parser = CommandParser()
        var framer = LineFramer(maximumLineLength: Limits().maximumLineLength)
        var output = WireWriter(capacity: 64 * 1024)
        var failures = 0
        /// One line through the server's steps; returns the reply's first line.
        func run(_ line: String) -> Reply? {
            for frame in framer.append(Array((line + "\n").utf8)) {
                guard case .line(let text) = frame, case .success(.desk(let command)) = parser.parse(text) else { failures += 1; continue }
                let outcome = desk.execute(command, as: "a1", now: SystemClock.now())
                if let reply = outcome.reply { output.reply(reply) }
                for push in outcome.pushes { output.raw(contentsOf: push.line) }
                if output.bytes.count > 60 * 1024 { output.bytes.removeAll(keepingCapacity: true) }
                return outcome.reply
            }
            return nil
        }
        let started = monotonicNanoseconds()
        let cpuBefore = ProcessStats.cpuSeconds(getpid())
        for cycle in 0..<cycles {
            let number = "SO-1-\(cycle)"
            guard run(Self.captureLine(number, cycle: cycle))?.isSuccess == true,
                  run("NEXT")?.isSuccess == true,
                  run("MOVE \(number) released")?.isSuccess == true
            else {
                failures += 1
                break
            }
        }
        let cpu = ProcessStats.cpuSeconds(getpid()) - cpuBefore
        let elapsed = Double(monotonicNanoseconds() - started) / 1e9
        if failures > 0 { say("  errors: \(failures) lines refused") }
        let perCycle = elapsed / Double(cycles) * 1e6
        say("rules (frame, parse, Desk.execute, encode) of the capture cycle, in-process: \(cycles) cycles in \(String(format: "%.2f", elapsed)) s"
            + " = \(String(format: "%.1f", perCycle)) µs per cycle (CPU \(String(format: "%.1f", cpu / Double(cycles) * 1e6)) µs)")
        return ["perCycle": perCycle]
    }

    /// A desk for the capture cycle run in this process: admin a1 (online), rep and p1, with
    /// cheap hashes; and those users, for a store to hold.
    static func cycleDesk() throws -> (desk: Desk, users: [User]) {
        let credential = try Passwords.credential(for: "x", iterations: 1)
        var snapshot = DeskSnapshot()
        snapshot.users = [User(name: "a1", role: .admin, credential: credential), User(name: "rep", role: .sales, credential: credential),
                          User(name: "p1", role: .processor, credential: credential)]
        var desk = Desk(settings: DeskSettings(), snapshot: snapshot, now: SystemClock.now())
        _ = desk.sessionOpened(user: "a1", now: SystemClock.now())
        return (desk, snapshot.users)
    }
}

extension Scenarios {
    // MARK: The store's own work in the capture cycle: commits without sockets or a desk

    /// The changes of the capture cycle's steps, made on a `Desk` beforehand, committed through
    /// `SQLiteStore` on one thread (WAL, `synchronous=FULL`): one step per commit, as when a single
    /// session waits for each, and 5 and 25 steps per commit, about the group commits of 10 and
    /// 50 sessions. The figure is the floor a step's durability sets under the TCP cycle.
    func storeCost() throws -> [String: Double] {
        let cycles = options.quick ? 100 : 2_000
        let parser = CommandParser()
        var results: [String: Double] = [:]
        for stepsPerCommit in [1, 5, 25] {
            // A fresh desk per run, so each file gets the same rows.
            let fresh = try Self.cycleDesk()
            var desk = fresh.desk
            var steps: [[StoreChange]] = []
            for cycle in 0..<cycles {
                let number = "SO-\(cycle % 50 + 1)-\(cycle)"
                for line in [Self.captureLine(number, cycle: cycle), "NEXT", "MOVE \(number) released"] {
                    guard case .success(.desk(let command)) = parser.parse(line) else { throw BenchError("store: \(line) does not parse") }
                    let outcome = desk.execute(command, as: "a1", now: SystemClock.now())
                    guard outcome.reply?.isSuccess == true else { throw BenchError("store: \(line) refused") }
                    steps.append(outcome.changes)
                }
            }
            let path = directory + "/store-\(stepsPerCommit).sqlite"
            for suffix in ["", "-wal", "-shm"] { unlink(path + suffix) }
            let store = try SQLiteStore(path: path)
            try store.commit(fresh.users.map(StoreChange.user))
            let started = monotonicNanoseconds()
            let cpuBefore = ProcessStats.cpuSeconds(getpid())
            var commits = 0
            var start = 0
            while start < steps.count {
                let end = min(steps.count, start + stepsPerCommit)
                try store.commit(Array(steps[start..<end].joined()))
                commits += 1
                start = end
            }
            let cpu = ProcessStats.cpuSeconds(getpid()) - cpuBefore
            let elapsed = Double(monotonicNanoseconds() - started) / 1e3
            let perCycle = elapsed / Double(cycles)
            say(String(format: "store (SQLiteStore.commit, synchronous=FULL) of the capture cycle, %d step%@ per commit: %.0f µs per commit, CPU %.0f µs; %.0f µs per cycle",
                       stepsPerCommit, stepsPerCommit == 1 ? "" : "s", elapsed / Double(commits), cpu * 1e6 / Double(commits), perCycle))
            results["perCycle\(stepsPerCommit)"] = perCycle
        }
        return results
    }
}
