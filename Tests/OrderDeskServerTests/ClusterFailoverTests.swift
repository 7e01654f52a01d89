import Foundation
import Testing
import TestSupport
import OrderDeskWire
#if canImport(Glibc)
import Glibc
#endif

/// Issue 12's fault tests for an active-active cluster: node processes (`serve --cluster`) over
/// a PostgreSQL of their own, per test. Seconds each; left out of CI's ThreadSanitizer pass,
/// like PostgresFailoverTests.
@Suite("End to end: cluster nodes failing", .serialized, .needsPostgreSQL)
struct ClusterFailoverTests {
    @Test("kill -9 of a node under load: its client goes on at another node at once, RESUMEs with no gap and no duplicate, nothing acknowledged is lost")
    func nodeKilledUnderLoad() throws {
        let database = try PostgresCluster()
        let store = ["--postgres", database.conninfo(), "--cluster", "--node-timeout", "2", "--grace", "2"]
        let first = try ServerProcess(storeArguments: store, arguments: ["--demo", "--node", "a"], timeout: 60)
        defer { first.kill() }
        let second = try ServerProcess(storeArguments: store, arguments: ["--node", "b"], timeout: 60)
        defer { _ = second.terminate() }

        // Node b serves already: nothing to wait for.
        let served = try FailoverScenario.killUnderLoad(first, prefix: "K") { second.port }
        #expect(served < 3, "ana was served again \(served) s after the kill")
    }

    @Test("a node's sessions end with it: after kill -9 the others declare it down within the node timeout and its user's claim expires once")
    func deadNodesClaimsExpireOnce() throws {
        let database = try PostgresCluster()
        let store = ["--postgres", database.conninfo(), "--cluster", "--node-timeout", "2", "--grace", "1"]
        let first = try ServerProcess(storeArguments: store, arguments: ["--demo", "--node", "a"], timeout: 60)
        defer { first.kill() }
        let second = try ServerProcess(storeArguments: store, logLevel: "info", arguments: ["--node", "b"], timeout: 60)
        defer { _ = second.terminate() }
        let third = try ServerProcess(storeArguments: store, logLevel: "info", arguments: ["--node", "c"], timeout: 60)
        defer { _ = third.terminate() }
        let ben = try LineClient(port: first.port)
        try ben.ok("LOGIN ben demo")
        try ben.ok("CLAIM SO-10002")
        let sam = try LineClient(port: third.port)
        try sam.ok("LOGIN sam demo")
        try sam.ok("WATCH SO-10002")
        first.kill()
        let expired = try sam.waitForEvent(timeout: 15) { $0.contains("lease-expired") && $0.contains("order=SO-10002") }
        #expect(expired.contains("reason=disconnected"), "\(expired)")
        #expect((second.standardError + third.standardError).contains("cluster node declared down"), "a node said so")
        let ada = try LineClient(port: second.port)
        try ada.ok("LOGIN ada demo")
        let history = try ada.command("HISTORY SO-10002").filter { $0.contains("lease-expired") }
        #expect(history.count == 1, "the claim ended once, whichever node ran it: \(history)")
        #expect(try ada.command("WHO").allSatisfy { !$0.contains("user=ben") }, "ben is online nowhere")
    }

    @Test("PostgreSQL stopped (immediate) and started again under two nodes: ERR storage meanwhile, then both go on by themselves, nothing acknowledged lost, every node sees every note")
    func nodesRideOutTheirDatabase() throws {
        let database = try PostgresCluster()
        let store = ["--postgres", database.conninfo(), "--cluster", "--node-timeout", "2"]
        let first = try ServerProcess(storeArguments: store, logLevel: "info", arguments: ["--demo", "--node", "a"], timeout: 60)
        defer { _ = first.terminate() }
        let second = try ServerProcess(storeArguments: store, logLevel: "info", arguments: ["--node", "b"], timeout: 60)
        defer { _ = second.terminate() }
        let ana = try LineClient(port: first.port)
        try ana.ok("LOGIN ana demo")
        let ben = try LineClient(port: second.port)
        try ben.ok("LOGIN ben demo")
        var kept: [String] = []
        for index in 1...3 {
            try ana.ok("NOTE SO-10001 kept a\(index)")
            try ben.ok("NOTE SO-10001 kept b\(index)")
            kept += ["kept a\(index)", "kept b\(index)"]
        }
        try database.stopServer(mode: "immediate")
        let refused = try ana.command("NOTE SO-10001 while the database is down")
        #expect(refused.last?.hasPrefix("ERR storage ") == true, "\(refused)")
        #expect(try ana.command("PING").last == "OK PONG", "the connection stays")
        // Longer than the node timeout: no node may take the others' old heartbeats for death.
        Thread.sleep(forTimeInterval: 3)
        try database.startServer()
        for (client, name) in [(ana, "a"), (ben, "b")] {
            try waitUntil(timeout: 30, "node \(name) to be back") {
                (try? client.command("NOTE SO-10001 kept after \(name)").last?.hasPrefix("OK")) == true
            }
            kept.append("kept after \(name)")
        }
        for client in [ana, ben] {
            try waitUntil(timeout: 5, "every note on every node") {
                let card = try client.command("HISTORY SO-10001") + client.command("ORDER SO-10001")
                return kept.allSatisfy { text in card.contains { $0.contains("text=\"\(text)\"") } }
            }
            let card = try client.command("ORDER SO-10001")
            #expect(!card.contains { $0.contains("while the database is down") })
        }
        #expect(first.process.isRunning && second.process.isRunning, "\(first.standardError)\n\(second.standardError)")
        #expect(!first.standardError.contains("declared down") && !second.standardError.contains("declared down"),
                "no node was declared down for the database's absence")
    }
}
