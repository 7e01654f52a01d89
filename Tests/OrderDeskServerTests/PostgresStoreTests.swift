import Foundation
import Testing
import TestSupport
import OrderDeskCore
import OrderDeskOps
@testable import OrderDeskServer

/// Keeps every batch it is asked to commit, so the same batches can go to two engines.
private final class RecordingStore: DeskStore, @unchecked Sendable {  // used from the test's one thread
    var batches: [[StoreChange]] = []
    func load() throws -> DeskSnapshot { DeskSnapshot() }
    func commit(_ changes: [StoreChange]) throws { batches.append(changes) }
    func thread(of order: String) throws -> (notes: [Note], history: [HistoryEntry]) { ([], []) }
    func audit(_ query: AuditQuery) throws -> AuditPage { AuditPage(records: [], total: 0, hasMore: false) }
}

@Suite("PostgreSQL store", .needsPostgreSQL)
struct PostgresStoreTests {
    /// Opening right after another store was released: its backend frees the desk lock a moment
    /// after the client closed, so the next store waits for it, as a standby does, for at most
    /// 10 s (then `waitEnded` fails the test rather than hanging it).
    static var afterRelease: PostgresStore.Node {
        var node = PostgresStore.Node(waitsForDesk: true)
        let deadline = Date().addingTimeInterval(10)
        node.isWaitOver = { Date() >= deadline }
        return node
    }

    static let now = Instant(milliseconds: 1_800_000_000_000)

    /// The demo desk's changes (300 orders through every stage, holds, notes, claims, mailboxes)
    /// plus the kinds the demo does not make, in batches as a server would commit them.
    static func sampleBatches() throws -> [[StoreChange]] {
        let recorder = RecordingStore()
        try DemoData.seed(into: recorder, now: now, orderCount: 60, iterations: 1000)
        let day = Milliseconds(86_400_000)
        var extra: [StoreChange] = [
            .user(User(name: "zed", role: .admin, credential: Credential(salt: [0, 1, 0xFF, 0x7F], hash: Array(repeating: 0xAB, count: 32), iterations: 7),
                       isDisabled: true, lastLogin: now - day)),
            .membership(user: "ana", kind: "queue", name: "credit", isMember: true),
            .membership(user: "ana", kind: "room", name: "floor", isMember: true),
            .membership(user: "ben", kind: "room", name: "floor", isMember: true),
            .thresholds(.hold(.credit), EscalationThresholds(warning: Milliseconds(60_000), stuck: Milliseconds(120_000), admins: Milliseconds(180_000))),
            .audit(AuditEntry(at: now, actor: "ada", action: "unlock", detail: "ben (cleared nothing)")),
            .audit(AuditEntry(at: now + Milliseconds(1), actor: "zed", action: "threshold", detail: "credit warning=1m")),
            .counters(DeskCounters(nextToken: 9_000, nextEventID: 9_001, nextSequence: 9_002)),
        ]
        for id in 1...5 {
            extra.append(.mailbox(user: "cora", MailboxEntry(id: UInt64(10_000 + id), at: now, kind: "message", line: "EVENT \(10_000 + id) message text=\"hi é\"",
                                                              isPersonal: id % 2 == 0, isRead: id == 1, isDelivered: id != 5)))
        }
        // The orders as the batches leave them: captured whole, then states and holds as deltas.
        var orders: [String: Order] = [:]
        for change in recorder.batches.joined() {
            switch change {
            case .order(let order): orders[order.number] = order
            case .orderState(let number, let state): orders[number]?.apply(state)
            case .hold(let number, let hold): orders[number]?.put(hold)
            default: break
            }
        }
        let open = orders.values.filter { !$0.stage.isTerminal }.map(\.number).sorted()
        guard open.count >= 3 else { throw StoreError.corrupt("the demo sample has \(open.count) open orders, the test needs 3") }
        // The demo leaves nobody online, so no claims: one claimed (warned, in its grace window) and
        // one plain, each through one state change, with a watcher, an episode and a release.
        for (index, number) in open.prefix(2).enumerated() {
            guard var state = orders[number]?.state else { continue }
            state.claim = .claimed(Lease(holder: "ana", token: UInt64(500 + index), since: now, expires: now + day, isWarned: index == 0,
                                         graceEnds: index == 0 ? now + Milliseconds(60_000) : nil))
            state.watchers.insert("zed")
            state.episodes.append(EscalationEpisode(queue: .hold(.credit), since: now, level: .warned))
            state.releasedBy = index == 0 ? "ada" : nil
            state.releasedAt = index == 0 ? now : nil
            state.stageChangedAt = now
            extra.append(.orderState(order: number, state))
        }
        // A state for an order that does not exist changes no row (an UPDATE, never an insert).
        if var ghost = orders[open[0]]?.state {
            ghost.watchers = ["nobody"]
            extra.append(.orderState(order: "NO-SUCH-ORDER", ghost))
        }
        // Holds as deltas: a new one placed, then an open one released in place (an upsert, not a second row).
        let held = open[2]
        let nextID = (orders[held]?.holds.count ?? 0) + 1
        extra.append(.hold(order: held, Hold(id: nextID, type: .pricing, reason: "check \"quoted\" é", placedBy: "ana", placedAt: now, status: .open)))
        let released = Hold(id: nextID, type: .pricing, reason: "check \"quoted\" é", placedBy: "ana", placedAt: now,
                            status: .released(by: "ben", at: now + Milliseconds(5), reason: "fine"))
        let removal: [StoreChange] = [
            .hold(order: held, released),
            .membership(user: "ben", kind: "room", name: "floor", isMember: false),
            // Rewritten rows: an upsert, not a second row.
            .mailbox(user: "cora", MailboxEntry(id: 10_001, at: now, kind: "message", line: "EVENT 10001 message", isPersonal: false, isRead: true, isDelivered: true)),
        ]
        return recorder.batches + [extra, removal]
    }

    static func expectSame(_ postgres: DeskSnapshot, _ sqlite: DeskSnapshot) {
        #expect(postgres.orders.count == sqlite.orders.count)
        for (mine, theirs) in zip(postgres.orders, sqlite.orders) { #expect(mine == theirs, "order \(theirs.number)") }
        #expect(postgres.users.sorted { $0.name < $1.name } == sqlite.users.sorted { $0.name < $1.name })
        #expect(postgres.counters == sqlite.counters)
        #expect(postgres.mailboxes == sqlite.mailboxes)
        #expect(postgres.memberships.map { "\($0.0) \($0.1) \($0.2)" }.sorted() == sqlite.memberships.map { "\($0.0) \($0.1) \($0.2)" }.sorted())
        #expect(postgres.thresholds == sqlite.thresholds)
    }

    @Test("commit then load gives back what SQLite gives back for the same changes, threads and audit pages too")
    func roundTrip() throws {
        let cluster = try PostgresCluster()
        let batches = try Self.sampleBatches()
        let sqlite = try SQLiteStore(path: temporaryDirectory() + "/desk.sqlite")
        var postgres: PostgresStore? = try PostgresStore(conninfo: cluster.conninfo())
        for batch in batches {
            try sqlite.commit(batch)
            try postgres?.commit(batch)
        }
        let expected = try sqlite.load()
        #expect(expected.orders.contains { $0.isArchived }, "the sample has finished orders")
        #expect(expected.orders.contains { $0.lease != nil }, "the sample has claims")
        #expect(expected.orders.contains { !$0.holds.isEmpty }, "the sample has holds")
        #expect(!expected.mailboxes.isEmpty, "the sample has mailboxes")
        // The deltas: the demo's own, and the sample's, which land in SQLite (so agreeing is not both ignoring them).
        let changes = batches.joined()
        #expect(changes.contains { if case .orderState = $0 { true } else { false } }, "the demo commits order states")
        #expect(changes.contains { if case .hold = $0 { true } else { false } }, "the demo commits holds")
        #expect(expected.orders.contains { $0.lease?.token == 500 && $0.lease?.graceEnds != nil && $0.watchers.contains("zed") && $0.release?.by == "ada" })
        #expect(expected.orders.contains { $0.lease?.token == 501 && $0.release == nil && $0.episodes.last?.level == .warned })
        #expect(expected.orders.contains { $0.holds.contains { $0.reason == "check \"quoted\" é" && $0.status != .open } })
        #expect(!expected.orders.contains { $0.number == "NO-SUCH-ORDER" || $0.watchers.contains("nobody") })
        Self.expectSame(try #require(postgres).load(), expected)
        // Reopened: what was committed is what a new connection reads.
        postgres = nil
        let reopened = try PostgresStore(conninfo: cluster.conninfo(), node: Self.afterRelease)
        Self.expectSame(try reopened.load(), expected)
        for order in expected.orders.filter(\.isArchived).prefix(5) {
            let (notes, history) = try reopened.thread(of: order.number)
            let theirs = try sqlite.thread(of: order.number)
            #expect(notes == theirs.notes && history == theirs.history && !history.isEmpty, "thread of \(order.number)")
        }
        for query in [AuditQuery(limit: 1), AuditQuery(limit: 10, user: "zed"), AuditQuery(limit: 10, action: "unlock"), AuditQuery(limit: 10, before: 2)] {
            let page = try reopened.audit(query)
            let theirs = try sqlite.audit(query)
            #expect(page.records.map(\.entry) == theirs.records.map(\.entry) && page.total == theirs.total && page.hasMore == theirs.hasMore, "\(query)")
        }
    }

    @Test("a pipelined transaction is all or nothing: a failing statement mid-batch leaves nothing, and batches past a chunk commit whole")
    func pipelinedTransactions() throws {
        let cluster = try PostgresCluster()
        let connection = try PostgresConnection(conninfo: cluster.conninfo())
        try connection.execute("CREATE TABLE t(n bigint PRIMARY KEY, label text)")
        func insert(_ n: Int64) -> (sql: String, parameters: [StoreValue]) { ("INSERT INTO t(n, label) VALUES($1, $2)", [.integer(n), .text("row \(n)")]) }
        func count() throws -> Int64 { try connection.execute("SELECT count(*) FROM t").single().integer(0) }
        #expect {
            try connection.pipelinedTransaction([insert(1), insert(2), ("INSERT INTO nowhere VALUES(1)", []), insert(3)])
        } throws: { error in
            guard case .statementFailed(let state, _)? = error as? PostgresError else { return false }
            return state == "42P01"
        }
        #expect(try count() == 0, "rolled back whole")
        #expect {
            try connection.pipelinedTransaction([insert(1), insert(1)])
        } throws: { ($0 as? PostgresError).map { if case .statementFailed("23505", _) = $0 { true } else { false } } ?? false }
        #expect(try count() == 0)
        // Past two chunks, one failure in the last: still nothing.
        let many = (1...Int64(2 * PostgresConnection.pipelineChunk + 10)).map(insert)
        #expect(throws: PostgresError.self) { try connection.pipelinedTransaction(many + [insert(1)]) }
        #expect(try count() == 0)
        try connection.pipelinedTransaction(many)
        #expect(try count() == Int64(many.count))
        #expect(try connection.execute("SELECT label FROM t WHERE n = 7").single().text(0) == "row 7")
        try connection.pipelinedTransaction([])
        #expect(connection.isHealthy, "the connection is usable after every one")
    }

    @Test("an empty database is migrated to the newest schema, and opening it again changes nothing")
    func migration() throws {
        let cluster = try PostgresCluster()
        let raw = try PostgresConnection(conninfo: cluster.conninfo())
        #expect(try PostgresSchema.version(of: raw) == 0)
        do {
            let store = try PostgresStore(conninfo: cluster.conninfo())
            #expect(try store.schemaVersion() == PostgresSchema.all.last?.version)
            try store.commit([.counters(DeskCounters(nextToken: 5, nextEventID: 6, nextSequence: 7))])
        }
        let tables = { try raw.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'orderdesk'").single().integer(0) }
        let before = try tables()
        #expect(before == 17, "eleven of the desk's tables, the cluster's five and the version table")
        let again = try PostgresStore(conninfo: cluster.conninfo(), node: Self.afterRelease)
        #expect(try again.schemaVersion() == PostgresSchema.all.last?.version)
        #expect(try tables() == before)
        #expect(try raw.execute("SELECT count(*) FROM orderdesk.schema_version").single().integer(0) == 1, "one row: the version")
        #expect(try again.load().counters == DeskCounters(nextToken: 5, nextEventID: 6, nextSequence: 7))
    }

    @Test("a database from a newer orderdesk is refused, and a failing migration leaves the database as it was")
    func newerAndFailingMigrations() throws {
        let cluster = try PostgresCluster()
        let current = PostgresSchema.all.last?.version ?? 0
        let newer = PostgresSchema.all + [PostgresMigration(version: current + 1, sql: "CREATE TABLE orderdesk.later(x INT)")]
        do { _ = try PostgresStore(conninfo: cluster.conninfo(), migrations: newer) }
        #expect {
            _ = try PostgresStore(conninfo: cluster.conninfo(), node: Self.afterRelease)
        } throws: { error in
            guard case .newerSchema(let found, let supported) = error as? PostgresError else { return false }
            return found == current + 1 && supported == current
        }
        let failing = newer + [PostgresMigration(version: current + 2, sql: "CREATE TABLE orderdesk.partial(x INT); SELECT no_such_function()")]
        #expect {
            _ = try PostgresStore(conninfo: cluster.conninfo(), migrations: failing, node: Self.afterRelease)
        } throws: { error in
            guard case .migrationFailed(let version, _) = error as? PostgresError else { return false }
            return version == current + 2
        }
        let raw = try PostgresConnection(conninfo: cluster.conninfo())
        #expect(try PostgresSchema.version(of: raw) == current + 1)
        #expect(try raw.execute("SELECT to_regclass('orderdesk.partial') IS NULL").single().boolean(0), "the failed step left nothing behind")
    }

    @Test("nodes migrating the same empty database at the same moment all succeed, one schema results")
    func concurrentMigration() throws {
        let cluster = try PostgresCluster()
        let admin = try PostgresConnection(conninfo: cluster.conninfo())
        for round in 1...3 {
            try admin.execute("CREATE DATABASE race\(round)")
            let connections = try (0..<4).map { _ in try PostgresConnection(conninfo: cluster.conninfo(database: "race\(round)")) }
            let failures = Locked<[String]>([])
            let arrived = Locked(0)
            let shared = Locked(connections)
            let count = connections.count
            runOnThreads(count) { index in
                let connection = shared.withLock { $0[index] }
                // A barrier: every thread starts its migration at the same moment.
                arrived.withLock { $0 += 1 }
                let deadline = Date().addingTimeInterval(5)
                while arrived.current < count, Date() < deadline { usleep(100) }
                do { try PostgresSchema.migrate(connection) } catch { failures.withLock { $0.append("\(error)") } }
            }
            #expect(failures.current.isEmpty, "round \(round): \(failures.current)")
            #expect(try PostgresSchema.version(of: connections[0]) == PostgresSchema.all.last?.version)
            #expect(try connections[0].execute("SELECT count(*) FROM orderdesk.schema_version").single().integer(0) == 1)
        }
    }

    @Test("a second store on a database another holds is refused, and opens once the first is gone")
    func secondNodeRefused() throws {
        let cluster = try PostgresCluster()
        var first: PostgresStore? = try PostgresStore(conninfo: cluster.conninfo())
        #expect {
            _ = try PostgresStore(conninfo: cluster.conninfo())
        } throws: { error in
            guard case .deskInUse = error as? PostgresError else { return false }
            return "\(error)".contains("in use by another orderdesk server")
        }
        // Another database in the same cluster is another desk.
        try PostgresConnection(conninfo: cluster.conninfo()).execute("CREATE DATABASE other")
        _ = try PostgresStore(conninfo: cluster.conninfo(database: "other"))
        _ = first
        first = nil
        _ = try PostgresStore(conninfo: cluster.conninfo(), node: Self.afterRelease)
    }

    @Test("a store whose connection was cut connects again, unless another node took the desk meanwhile")
    func reconnectionIsFenced() throws {
        let cluster = try PostgresCluster()
        let admin = try PostgresConnection(conninfo: cluster.conninfo())
        let store = try PostgresStore(conninfo: cluster.conninfo())
        let cut = "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND objid = \(PostgresSchema.deskLock)"
        try admin.execute(cut)
        // The first call after the cut finds the connection dead: the commit fails as a whole...
        #expect(throws: PostgresError.self) { try store.commit([.counters(DeskCounters(nextToken: 2, nextEventID: 2, nextSequence: 2))]) }
        // ...and the reload the server then runs connects again and takes the lock again.
        #expect(try store.load().counters == DeskCounters())
        try store.commit([.counters(DeskCounters(nextToken: 3, nextEventID: 3, nextSequence: 3))])
        #expect(try store.load().counters.nextToken == 3)
        try admin.execute(cut)
        // pg_terminate_backend returns before the backend has gone and freed the lock: wait for it, as a standby does.
        let usurper = try PostgresStore(conninfo: cluster.conninfo(), node: Self.afterRelease)
        #expect(throws: PostgresError.self) { try store.load() }
        #expect {
            try store.commit([.counters(DeskCounters(nextToken: 4, nextEventID: 4, nextSequence: 4))])
        } throws: { error in
            guard case .deskInUse = error as? PostgresError else { return false }
            return true
        }
        // Asked again and again (the server's keep-alive, a later commit), it is still refused:
        // the connection made again is healthy but holds no lock, and is never used as it is.
        for _ in 1...2 {
            #expect(throws: PostgresError.self) { try store.keepAlive() }
            #expect(throws: PostgresError.self) { try store.commit([.counters(DeskCounters(nextToken: 5, nextEventID: 5, nextSequence: 5))]) }
        }
        #expect(try usurper.load().counters.nextToken == 3, "the fenced store wrote nothing")
    }

    @Test("retention drops old mailbox events and, when set, audit entries, remembering what was dropped")
    func retention() throws {
        let cluster = try PostgresCluster()
        let day = Milliseconds(86_400_000)
        let store = try PostgresStore(conninfo: cluster.conninfo(),
                                      retention: SQLiteStore.Retention(mailboxes: Milliseconds(60 * day.value), audit: Milliseconds(365 * day.value)))
        var changes: [StoreChange] = [.user(User(name: "ana", role: .processor, credential: try Passwords.credential(for: "ana", iterations: 1000)))]
        for age in [400, 40, 1] {
            let at = Self.now - Milliseconds(Int64(age) * day.value)
            changes.append(.audit(AuditEntry(at: at, actor: "ada", action: "unlock", detail: "\(age) days ago")))
            changes.append(.mailbox(user: "ana", MailboxEntry(id: UInt64(1000 - age), at: at, kind: "message", line: "EVENT \(age) message",
                                                                isPersonal: true, isRead: false, isDelivered: true)))
        }
        try store.commit(changes)
        while try store.maintain(now: Self.now) {}
        #expect(try store.audit(AuditQuery(limit: 10)).records.map(\.entry.detail) == ["1 days ago", "40 days ago"])
        let mailbox = try #require(try store.load().mailboxes["ana"])
        #expect(mailbox.entries.map(\.id) == [960, 999])
        #expect(mailbox.droppedThrough == 600)
    }
}
