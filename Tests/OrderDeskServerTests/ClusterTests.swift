import Foundation
import Testing
import TestSupport
import OrderDeskCore
import OrderDeskWire
@testable import OrderDeskServer

/// Nodes of one active-active cluster, in this process, over one throwaway PostgreSQL.
private final class Nodes {
    let database: PostgresCluster
    private(set) var desks: [TestDesk] = []

    init(_ count: Int, settings: DeskSettings = DeskSettings(), liveness: Milliseconds = .seconds(10)) throws {
        database = try PostgresCluster()
        for index in 0..<count { try add(name: "n\(index)", settings: settings, liveness: liveness) }
    }

    @discardableResult
    func add(name: String, settings: DeskSettings = DeskSettings(), liveness: Milliseconds = .seconds(10)) throws -> TestDesk {
        var node = PostgresStore.Node(liveness: liveness)
        node.cluster = ClusterIdentity(name: name)
        let store = try PostgresStore(conninfo: database.conninfo(), node: node)
        let desk = try TestDesk(settings: settings, store: store)
        desks.append(desk)
        return desk
    }

    subscript(index: Int) -> TestDesk { desks[index] }

    func stop() { for desk in desks { desk.stop() } }
}

@Suite("Cluster: several nodes serving one desk over PostgreSQL", .serialized, .needsPostgreSQL)
struct ClusterTests {
    @Test("two nodes serve one desk: a capture on one is claimed on the other, the other's claim is refused, pushes cross nodes")
    func twoNodesServeOneDesk() throws {
        let nodes = try Nodes(2)
        defer { nodes.stop() }
        let shop = try nodes[0].client("shop")
        let ana = try nodes[1].client("ana")
        let ben = try nodes[0].client("ben")
        let sam = try nodes[0].client("sam")
        try ana.ok("SUBSCRIBE new")
        try nodes[0].capture("SO-1", using: shop)
        // Captured on n0, announced to ana on n1.
        _ = try ana.waitForEvent { $0.contains("order=SO-1") && $0.contains("entered") }
        let claim = try ana.ok("NEXT new")
        #expect(field("order", in: claim) == "SO-1")
        let refused = try ben.command("CLAIM SO-1").last ?? ""
        #expect(refused.hasPrefix("ERR claimed"), "ben, on the other node, cannot have ana's order: \(refused)")
        #expect(refused.contains("holder=ana"))
        try ana.ok("NOTE SO-1 credit checked")
        // sam is the order's rep, a watcher: he hears of ana's note on the other node.
        _ = try sam.waitForEvent { $0.contains("note order=SO-1") && $0.contains("by=ana") }
        try ana.ok("MOVE SO-1 released")
        // Both copies of the desk come to the same order (HISTORY is a look-up on each node's copy).
        try waitUntil(timeout: 5, "both nodes to show the same history") {
            try nodes[0].client("ada").command("HISTORY SO-1") == nodes[1].client("ada").command("HISTORY SO-1")
        }
        let history = try nodes[0].client("ada").command("HISTORY SO-1").joined(separator: "\n")
        #expect(history.contains("claim"), "\(history)")
        #expect(history.contains("released"), "\(history)")
    }

    @Test("a NEXT storm over three nodes: no order is handed to two sessions, tokens never repeat, every copy agrees")
    func claimStormOverThreeNodes() throws {
        let nodes = try Nodes(3)
        defer { nodes.stop() }
        let shop = try nodes[0].client("shop")
        let count = 60
        for index in 1...count { try nodes[0].capture("SO-S\(index)", using: shop) }
        let handed = Locked<[(order: String, token: UInt64)]>([])
        let failures = Locked<[String]>([])
        var workers: [Thread] = []
        for (position, user) in ["ana", "ben", "cleo", "ana", "ben", "cleo"].enumerated() {
            let client = try nodes[position % 3].client(user)
            let worker = Thread {
                while true {
                    guard let reply = try? client.command("NEXT new").last else { return failures.withLock { $0.append("no reply") } }
                    if reply.hasPrefix("ERR queue-empty") { return }
                    guard reply.hasPrefix("OK"), let order = field("order", in: reply), let token = field("token", in: reply).flatMap(UInt64.init) else {
                        return failures.withLock { $0.append(reply) }
                    }
                    handed.withLock { $0.append((order, token)) }
                    guard let moved = try? client.command("MOVE \(order) released").last, moved.hasPrefix("OK") else {
                        return failures.withLock { $0.append("MOVE \(order) failed") }
                    }
                }
            }
            workers.append(worker)
        }
        for worker in workers { worker.start() }
        try waitUntil(timeout: 60, "the storm to drain the queue") { workers.allSatisfy { !$0.isExecuting } && workers.allSatisfy(\.isFinished) }
        #expect(failures.current.isEmpty, "\(failures.current)")
        let orders = handed.current.map(\.order)
        #expect(orders.count == count, "every order handed out once: \(orders.count)")
        #expect(Set(orders).count == orders.count, "no order handed to two sessions")
        let tokens = handed.current.map(\.token)
        #expect(Set(tokens).count == tokens.count, "no token twice")
        // Every copy of the desk shows all of them released, and the same last history.
        for index in 0..<3 {
            let ada = try nodes[index].client("ada")
            try waitUntil(timeout: 5, "node \(index) to have replayed the storm") {
                field("count", in: try ada.command("QUEUE released 1").last ?? "") == String(count)
            }
        }
        let histories = try (0..<3).map { try nodes[$0].client("ada").command("HISTORY SO-S\(count)") }
        #expect(histories[0] == histories[1] && histories[1] == histories[2])
    }

    @Test("a node that leaves: its users' claims enter the grace window on the others and expire there once")
    func leavingNodeStartsGraceWindows() throws {
        var settings = DeskSettings()
        settings.graceWindow = .seconds(1)
        let nodes = try Nodes(2, settings: settings)
        defer { nodes.stop() }
        let shop = try nodes[0].client("shop")
        try nodes[0].capture("SO-G1", using: shop, rep: "sam")
        let ana = try nodes[0].client("ana")
        try ana.ok("CLAIM SO-G1")
        let sam = try nodes[1].client("sam")
        nodes[0].stop()
        // n0 left: ana has no session anywhere; her claim ends after the grace window, once.
        let expired = try sam.waitForEvent(timeout: 10) { $0.contains("lease-expired") && $0.contains("order=SO-G1") }
        #expect(expired.contains("reason=disconnected"), "\(expired)")
        let history = try nodes[1].client("ada").command("HISTORY SO-G1").filter { $0.contains("lease-expired") }
        #expect(history.count == 1, "the lease ended once: \(history)")
    }

    @Test("a node declared down by the others (no heartbeat) has its sessions closed there, and is fenced when it comes back")
    func silentNodeIsDeclaredDown() throws {
        let nodes = try Nodes(2, liveness: .seconds(1))
        defer { nodes.stop() }
        let ana = try nodes[0].client("ana")
        let shop = try nodes[1].client("shop")
        try nodes[1].capture("SO-D1", using: shop)
        try ana.ok("CLAIM SO-D1")
        // n0's heartbeat stops as if it were paused: its row is made stale by hand.
        let admin = try PostgresConnection(conninfo: nodes.database.conninfo())
        let stale = { try admin.execute("UPDATE orderdesk.cluster_nodes SET seen = clock_timestamp() - interval '1 hour' WHERE name = 'n0'") }
        try stale()
        // n1's next turn declares it down: ana is offline there, her claim in the grace window.
        try waitUntil(timeout: 10, "n1 to declare n0 down") {
            try stale()
            try shop.ok("PING")
            nodes[1].server.tickNow()
            let who = try nodes[1].client("ada").command("WHO").joined(separator: "\n")
            return !who.contains("user=ana")
        }
        // n0 finds it was declared down at its next heartbeat, and stops.
        #expect(ana.waitForClose(timeout: 10), "n0 closed ana's session once it knew it was fenced")
    }

    @Test("escalation with thresholds of seconds over three nodes: every step fires once per stay, whichever node's tick runs it")
    func escalationOverThreeNodes() throws {
        let nodes = try Nodes(3)
        defer { nodes.stop() }
        let ada = try nodes[0].client("ada")
        try ada.ok("THRESHOLD new warning=1s stuck=2s admins=3s")
        let sam = try nodes[2].client("sam")
        let admin = try nodes[1].client("ada")
        let shop = try nodes[1].client("shop")
        try nodes[1].capture("SO-E1", using: shop, rep: "sam")
        // Every node's tick sees each step come due; one runs it, the others replay it.
        _ = try admin.waitForEvent(timeout: 15) { $0.contains(" escalated ") && $0.contains("order=SO-E1") }
        Thread.sleep(forTimeInterval: 1)  // room for a second firing, which must not come
        let history = try ada.command("HISTORY SO-E1")
        for step in ["stuck-warning", "stuck", "escalated"] {
            #expect(history.filter { $0.contains("action=\(step) ") }.count == 1, "\(step) once: \(history)")
        }
        #expect(try sam.command("INBOX").filter { $0.contains(" stuck ") && $0.contains("order=SO-E1") }.count == 1, "the rep was told once")
    }

    @Test("every node's database sessions terminated, the listeners' too: both nodes go on by themselves and pushes cross nodes again")
    func terminatedSessions() throws {
        let nodes = try Nodes(2)
        defer { nodes.stop() }
        let shop = try nodes[0].client("shop")
        let ana = try nodes[1].client("ana")
        try ana.ok("SUBSCRIBE new")
        try nodes[0].capture("SO-T1", using: shop)
        _ = try ana.waitForEvent { $0.contains("order=SO-T1 ") }
        let admin = try PostgresConnection(conninfo: nodes.database.conninfo())
        let ended = try admin.execute("""
            SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
            WHERE pid <> pg_backend_pid() AND backend_type = 'client backend'
            """).single().integer(0)
        #expect(ended >= 4, "two store sessions and two listeners: \(ended)")
        try waitUntil(timeout: 20, "n0 to capture again") {
            (try? shop.command("CAPTURE SO-T2 customer=Acme rep=sam po=PO-2 lines=W:1:1.00").last?.hasPrefix("OK")) == true
        }
        _ = try ana.waitForEvent(timeout: 10) { $0.contains("order=SO-T2 ") }
        #expect(try ana.command("CARD SO-T2").last?.hasPrefix("OK order=SO-T2") == true)
    }

    @Test("the write turn held elsewhere for long (a paused node): changes wait for it, look-ups on the same node go on, nobody is declared down")
    func turnHeldElsewhere() throws {
        let nodes = try Nodes(2, liveness: .seconds(2))
        defer { nodes.stop() }
        let shop = try nodes[0].client("shop")
        try nodes[0].capture("SO-H1", using: shop)
        let ana = try nodes[0].client("ana")
        let cora = try LineClient(port: nodes[0].port)
        try cora.ok("LOGIN cora cora")  // a login is a change too: before the turn is taken away
        // A session that takes the turn and keeps it, as a paused node would.
        let holder = try PostgresConnection(conninfo: nodes.database.conninfo())
        try holder.execute("SELECT pg_advisory_lock(\(PostgresSchema.lockClass), \(PostgresSchema.turnLock))")
        try ana.send("NOTE SO-H1 waits for the turn")
        let started = Date()
        #expect(try cora.command("CARD SO-H1").last?.hasPrefix("OK order=SO-H1") == true)
        #expect(Date().timeIntervalSince(started) < 1.5, "a look-up on the waiting node is answered between its waits for the lock")
        Thread.sleep(forTimeInterval: 3)  // longer than the node timeout: the heartbeats go on meanwhile
        try holder.execute("SELECT pg_advisory_unlock(\(PostgresSchema.lockClass), \(PostgresSchema.turnLock))")
        #expect(try ana.readReply(timeout: 10).last?.hasPrefix("OK") == true, "the change ran once the turn came")
        let ada = try LineClient(port: nodes[1].port)
        try ada.ok("LOGIN ada ada")
        let who = try ada.command("WHO").joined(separator: "\n")
        #expect(who.contains("user=ana"), "no node was declared down: \(who)")
    }

    @Test("a node started with other desk settings than the running nodes is refused, with both; once they all stop, new settings are taken")
    func settingsMustAgree() throws {
        let nodes = try Nodes(1)
        var longer = DeskSettings()
        longer.leaseDuration = .minutes(30)
        #expect {
            try nodes.add(name: "odd", settings: longer)
        } throws: { error in
            guard case PostgresError.settingsDiffer(let cluster, let node)? = error as? PostgresError else { return false }
            return cluster.contains("lease=900000") && node.contains("lease=1800000")
        }
        nodes.stop()
        let alone = try nodes.add(name: "later", settings: longer)
        #expect(try alone.client("ada").command("WHOAMI").last?.hasPrefix("OK") == true)
        alone.stop()
    }

    @Test("the log's bytes: every input comes back as it went in, and damaged bytes are refused, never trapped on")
    func logCodec() throws {
        let credential = Credential(salt: [1, 2, 3], hash: Array(repeating: 9, count: 32), iterations: 1000)
        let user = User(name: "dana", role: .service, credential: credential, isDisabled: true, lastLogin: Instant(milliseconds: 42))
        let at = Instant(milliseconds: 1_795_000_000_123)
        let entry = ClusterEntry(node: "n1-abc", inputs: [
            .command(user: "ana", line: "NOTE SO-1 \"quoted\" ünïcode", at: at), .sessionOpened(user: "ana", at: at),
            .sessionClosed(user: "ben", at: at), .login(user: "cleo", at: at), .audit(action: "unlock", detail: "x", by: "ada", at: at),
            .addUser(user, by: "ada", at: at), .putUser(User(name: "eve", role: .admin, credential: credential)),
            .setCredential(credential, of: "dana", by: "ada", at: at), .tick(at: at), .nodeDown(node: "n0-1", at: at),
        ], counters: DeskCounters(nextToken: 7, nextEventID: 8, nextSequence: -9))
        let bytes = ClusterCodec.encode(entry)
        #expect(try ClusterCodec.decode(bytes, node: "n1-abc") == entry)
        // Every truncation, and random damage, throws (or decodes to something), never traps.
        for length in 0..<bytes.count {
            #expect(throws: StoreError.self) { try ClusterCodec.decode(Array(bytes[..<length]), node: "n") }
        }
        var random = SplitMix64(seed: 12)
        for _ in 0..<2000 {
            var damaged = bytes
            for _ in 0...random.next(below: 4) { damaged[random.next(below: damaged.count)] = UInt8(random.next(below: 256)) }
            _ = try? ClusterCodec.decode(damaged, node: "n")
        }
        #expect(throws: StoreError.self) { try ClusterCodec.decode(bytes + [0], node: "n") }
        // Well-formed bytes with values no node writes: an instant past year 9999 (every node's
        // time would stand there) and more PBKDF2 iterations than OpenSSL takes.
        let farFuture = ClusterEntry(node: "n", inputs: [.tick(at: Instant(milliseconds: .max))], counters: DeskCounters())
        #expect(throws: StoreError.self) { try ClusterCodec.decode(ClusterCodec.encode(farFuture), node: "n") }
        let endless = Credential(salt: [1], hash: [2], iterations: Int(Int32.max) + 1)
        let rehash = ClusterEntry(node: "n", inputs: [.setCredential(endless, of: "dana", by: "ada", at: at)], counters: DeskCounters())
        #expect(throws: StoreError.self) { try ClusterCodec.decode(ClusterCodec.encode(rehash), node: "n") }
        // Such a credential read from a damaged table never verifies, rather than trapping.
        #expect(!Passwords.verify("demo", against: endless))
    }

    @Test("a version-1 database (before the cluster) is migrated, its desk kept, and a cluster node joins it")
    func migratesAVersionOneDatabase() throws {
        let database = try PostgresCluster()
        do {
            let old = try PostgresStore(conninfo: database.conninfo(), migrations: [PostgresSchema.version1])
            try old.commit([.counters(DeskCounters(nextToken: 5, nextEventID: 6, nextSequence: 7))])
            old.release()
        }
        var node = PostgresStore.Node()
        node.cluster = ClusterIdentity(name: "n0")
        let store = try PostgresStore(conninfo: database.conninfo(), node: node)
        #expect(try store.schemaVersion() == PostgresSchema.all.last?.version)
        let (snapshot, sessions) = try store.loadCluster()
        #expect(snapshot.counters == DeskCounters(nextToken: 5, nextEventID: 6, nextSequence: 7))
        #expect(sessions.isEmpty)
        #expect(snapshot.online == [:])
        store.release()
    }
}
