import Foundation
import Testing
import TestSupport
import OrderDeskServer

/// Kills the real server with SIGKILL at random moments under a mixed load, restarts it, and
/// checks that every acknowledged change is there and nothing is half-applied.
/// `ORDERDESK_CRASH_CYCLES` sets the number of cycles (20 by default; 200 for a long run).
@Suite("End to end: crash safety", .serialized)
struct CrashTests {
    /// What the load was told succeeded: order -> the history entries each OK promised.
    final class Ledger: @unchecked Sendable {  // guarded by `lock`
        private let lock = NSLock()
        private var expected: [String: [String]] = [:]
        private var touched: [String] = []

        func acknowledge(_ order: String, _ entry: String) {
            lock.withLock {
                expected[order, default: []].append(entry)
                touched.append(order)
            }
        }

        var count: Int { lock.withLock { touched.count } }

        /// Orders acknowledged since the `mark`-th acknowledgement.
        func orders(since mark: Int) -> Set<String> { lock.withLock { Set(touched[mark...]) } }

        var snapshot: [String: [String]] { lock.withLock { expected } }
    }

    @Test("SIGKILL at random moments loses no acknowledged change")
    func crashCycles() throws {
        let cycles = Int(ProcessInfo.processInfo.environment["ORDERDESK_CRASH_CYCLES"] ?? "") ?? 20
        let data = temporaryDirectory() + "/desk.sqlite"
        try seedStandardUsers(data)
        let ledger = Ledger()
        var checkedOrders = Set<String>()
        var mark = 0
        for cycle in 1...cycles {
            let server = try ServerProcess(data: data)
            // What the last cycle was told must have survived its kill.
            _ = try verify(ledger, only: ledger.orders(since: mark), port: server.port, checked: &checkedOrders)
            mark = ledger.count
            let sessions = ["shop", "ana", "ben", "cleo"]
            let clients = try sessions.map { name -> LineClient in
                let client = try LineClient(port: server.port)
                try client.ok("LOGIN \(name) \(name)")
                return client
            }
            let killAfter = Double.random(in: 0.05...0.4)
            let stop = Date().addingTimeInterval(killAfter)
            let killer = Thread {
                while Date() < stop { usleep(1000) }
                server.kill()
            }
            killer.start()
            runOnThreads(clients.count) { index in
                if index == 0 {
                    Self.captureLoop(clients[0], cycle: cycle, ledger: ledger)
                } else {
                    Self.processLoop(clients[index], user: sessions[index], cycle: cycle, ledger: ledger)
                }
            }
            try waitUntil(timeout: 10, "the killed server to exit") { !server.process.isRunning }
        }
        let server = try ServerProcess(data: data)
        let found = try verify(ledger, only: nil, port: server.port, checked: &checkedOrders)
        server.terminate()
        #expect(try SQLiteStore(path: data).integrityCheck() == "ok")
        let acknowledged = ledger.count
        print("crash test: cycles=\(cycles) acknowledged=\(acknowledged) orders=\(checkedOrders.count) lost=\(acknowledged - found)")
        #expect(acknowledged > 0)
        #expect(found == acknowledged)
    }

    static func captureLoop(_ client: LineClient, cycle: Int, ledger: Ledger) {
        var index = 0
        while true {
            index += 1
            let number = "SO-C\(cycle)-\(index)"
            guard let reply = try? client.command("CAPTURE \(number) customer=Acme rep=sam po=P\(index) lines=A:1:1"), reply.last?.hasPrefix("OK") == true else { return }
            ledger.acknowledge(number, "captured")
        }
    }

    static func processLoop(_ client: LineClient, user: String, cycle: Int, ledger: Ledger) {
        var step = 0
        while true {
            guard let next = try? client.command("NEXT").last else { return }
            guard next.hasPrefix("OK"), let order = field("order", in: next) else {
                if next.hasPrefix("ERR queue-empty") { usleep(2000); continue }
                return
            }
            ledger.acknowledge(order, "claimed")
            step += 1
            let tag = "\(user)-\(cycle)-\(step)"
            let actions: [(String, String)] = [
                ("NOTE \(order) note \(tag)", "note:note \(tag)"),
                ("HOLD \(order) pricing check \(tag)", "hold:pricing: check \(tag)"),
                ("UNHOLD \(order) pricing ok \(tag)", "unhold:pricing: ok \(tag)"),
                ("MOVE \(order) released", "stage:captured -> released"),
            ]
            for (command, entry) in actions {
                guard let reply = try? client.command(command).last else { return }
                guard reply.hasPrefix("OK") else { break }
                ledger.acknowledge(order, entry)
            }
        }
    }

    /// Checks each acknowledged entry against the order's history, and that holds and stage
    /// agree with the history (a half-applied change would break that). Returns entries found.
    private func verify(_ ledger: Ledger, only: Set<String>?, port: UInt16, checked: inout Set<String>) throws -> Int {
        let client = try LineClient(port: port)
        try client.ok("LOGIN ada ada")
        var found = 0
        for (order, entries) in ledger.snapshot where only?.contains(order) ?? true {
            checked.insert(order)
            let history = try client.command("HISTORY \(order)")
            #expect(history.last?.hasPrefix("OK") == true, "\(order) lost")
            let actions = history.dropLast().map { (field("action", in: $0) ?? "") + ":" + (field("detail", in: $0) ?? "") }
            var remaining = actions
            for entry in entries {
                let match = remaining.firstIndex { $0 == entry || ($0.hasPrefix(entry) && entry.hasSuffix(":")) || (entry == "captured" && $0.hasPrefix("captured:")) || (entry == "claimed" && $0.hasPrefix("claimed:")) }
                if let match {
                    remaining.remove(at: match)
                    found += 1
                } else {
                    Issue.record("\(order): acknowledged \(entry) is missing")
                }
            }
            let card = try client.command("ORDER \(order)")
            let holdLines = card.filter { $0.hasPrefix("* hold ") }.count
            #expect(holdLines == actions.filter { $0.hasPrefix("hold:") }.count, "\(order): holds disagree with history")
            let released = actions.contains { $0.hasPrefix("stage:captured -> released") }
            #expect(card.first?.contains("stage=released") == released, "\(order): stage disagrees with history")
        }
        return found
    }
}
