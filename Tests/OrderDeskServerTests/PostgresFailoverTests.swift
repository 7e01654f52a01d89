import Foundation
import Testing
import TestSupport
import OrderDeskWire
#if canImport(Glibc)
import Glibc
#endif

/// Issue 12's fault tests for the desk over PostgreSQL: a standby that takes over when the
/// serving node dies or stops answering, and a node that rides out its database restarting.
/// They run the server binary and a PostgreSQL of their own per test, seconds each; .ci/run
/// leaves them out of its ThreadSanitizer pass (the in-process StoreOutageTests run there).
@Suite("End to end: PostgreSQL nodes failing", .serialized, .needsPostgreSQL)
struct PostgresFailoverTests {
    @Test("kill -9 of the serving node under load: the standby serves within 3 s, nothing acknowledged is lost, RESUME has no gap and no duplicate")
    func standbyTakesOverFromAKilledNode() throws {
        let cluster = try PostgresCluster()
        let store = ["--postgres", cluster.conninfo()]
        let first = try ServerProcess(storeArguments: store, arguments: ["--demo", "--standby"], timeout: 60)
        defer { first.kill() }
        let standby = try ServerProcess(storeArguments: store, logLevel: "info", arguments: ["--standby"], waitsForPort: false)
        defer { standby.terminate() }
        standby.waitForLog(timeout: 30) { $0.contains("msg=standby") }
        #expect(standby.standardError.contains("msg=standby"), "the standby says it waits: \(standby.standardError)")

        var takeover = 0.0
        _ = try FailoverScenario.killUnderLoad(first, prefix: "F") {
            let killed = Date()
            try standby.waitForPort(timeout: 10)
            takeover = Date().timeIntervalSince(killed)
            return standby.port
        }
        #expect(takeover < 3, "the standby served \(takeover) s after the kill")
        print("failover: the standby served \(String(format: "%.2f", takeover)) s after kill -9")
    }

    @Test("a paused node loses the desk after --node-timeout; the standby serves; the node, resumed, stops without writing")
    func pausedNodeIsFenced() throws {
        let cluster = try PostgresCluster()
        let store = ["--postgres", cluster.conninfo()]
        let first = try ServerProcess(storeArguments: store, arguments: ["--demo", "--standby", "--node-timeout", "2"], timeout: 60)
        defer { first.kill() }
        let standby = try ServerProcess(storeArguments: store, logLevel: "info", arguments: ["--standby", "--node-timeout", "2"], waitsForPort: false)
        defer { standby.terminate() }
        standby.waitForLog(timeout: 30) { $0.contains("msg=standby") }
        let cora = try LineClient(port: first.port)
        try cora.ok("LOGIN cora demo")
        try cora.ok("NOTE SO-10001 before the pause")
        // Longer than the node timeout is fine while the node answers: its keep-alive holds the desk.
        Thread.sleep(forTimeInterval: 3)
        try cora.ok("NOTE SO-10001 still serving after 3 s")
        #expect(!standby.standardError.contains("serving the desk"), "the standby still waits")

        kill(first.process.processIdentifier, SIGSTOP)
        let paused = Date()
        try standby.waitForPort(timeout: 15)
        let takeover = Date().timeIntervalSince(paused)
        // The session's silence began at its last keep-alive, up to a third of the timeout before the pause.
        #expect(takeover >= 1.2 && takeover < 8, "taken over \(takeover) s after the pause (node timeout 2 s)")
        print("fencing: a paused node's desk was taken over \(String(format: "%.2f", takeover)) s after SIGSTOP (node timeout 2 s)")
        let ana = try LineClient(port: standby.port)
        try ana.ok("LOGIN ana demo")
        let card = try ana.command("ORDER SO-10001")
        #expect(card.contains { $0.contains("before the pause") }, "what the paused node committed is there")

        kill(first.process.processIdentifier, SIGCONT)
        // The old node finds its session ended and the desk taken: nothing it is asked now is done.
        let late = try? cora.command("NOTE SO-10001 from the paused node", timeout: 10)
        #expect(late?.last?.hasPrefix("OK") != true, "\(String(describing: late))")
        var farewell = ""
        while let line = try? cora.readLine(timeout: 10) { if line.hasPrefix("BYE ") { farewell = line } }
        #expect(farewell == "BYE storage-failed another server has the desk now; this one stopped", "\(farewell) \(first.standardError)")
        try waitUntil(timeout: 15, "the resumed node to stop") { !first.process.isRunning }
        #expect(first.process.terminationStatus == 1)
        #expect(!(try ana.command("ORDER SO-10001")).contains { $0.contains("from the paused node") })
    }

    @Test("PostgreSQL stopped (immediate) and started again, and the node's session terminated: ERR storage meanwhile, then the node goes on by itself with nothing acknowledged lost")
    func nodeRidesOutItsDatabase() throws {
        let cluster = try PostgresCluster()
        let store = ["--postgres", cluster.conninfo()]
        let server = try ServerProcess(storeArguments: store, logLevel: "info", arguments: ["--demo", "--standby"], timeout: 60)
        defer { server.terminate() }
        let ana = try LineClient(port: server.port)
        try ana.ok("LOGIN ana demo")
        var kept: [String] = []
        for index in 1...5 {
            try ana.ok("NOTE SO-10001 kept \(index)")
            kept.append("kept \(index)")
        }

        try cluster.stopServer(mode: "immediate")
        let refused = try ana.command("NOTE SO-10001 while the database is down")
        #expect(refused.last?.hasPrefix("ERR storage ") == true, "\(refused)")
        #expect(try ana.command("ORDER SO-10001").last?.hasPrefix("ERR storage ") == true)
        #expect(try ana.command("PING").last == "OK PONG", "the connection stays")
        try cluster.startServer()
        try waitUntil(timeout: 20, "the node to be back") { (try? ana.command("ORDER SO-10001").last?.hasPrefix("OK")) == true }
        try ana.ok("NOTE SO-10001 kept 6")
        kept.append("kept 6")

        // The session holding the desk killed from inside the database: the next commit fails,
        // the node connects again, takes the desk again and goes on.
        let pid = try cluster.psql("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted")
        #expect(try cluster.psql("SELECT pg_terminate_backend(\(pid))") == "t")
        try waitUntil(timeout: 20, "the node to be back after the terminated session") {
            (try? ana.command("NOTE SO-10001 kept 7").last?.hasPrefix("OK")) == true
        }
        kept.append("kept 7")
        let card = try ana.command("ORDER SO-10001")
        for text in kept { #expect(card.contains { $0.contains("text=\"\(text)\"") }, "\(text) was acknowledged") }
        #expect(!card.contains { $0.contains("while the database is down") })
        #expect(server.process.isRunning)
        #expect(server.standardError.contains("store back"), "the log says it recovered")
    }
}
