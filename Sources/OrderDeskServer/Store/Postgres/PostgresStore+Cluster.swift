import Foundation
import OrderDeskCore

/// Who a cluster node is: its name (`--node`, for people) and the id of this run of it (the
/// name and a random suffix), under which its sessions and heartbeat are kept.
public struct ClusterIdentity: Sendable, Equatable {
    public let name: String
    public let id: String

    public init(name: String) {
        self.name = name
        id = name + "-" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
    }
}

/// A write turn, as `takeTurn` found the database: what other nodes logged since this node last
/// looked, the nodes whose heartbeat stopped, and the database's clock.
struct ClusterTurn: Sendable {
    var entries: [ClusterEntry]
    var silentNodes: [String]
    var databaseNow: Instant
}

/// The cluster's side of the PostgreSQL store (docs/CLUSTER.md): the log of inputs, the write
/// turn, node heartbeats and the sessions each node serves. All on the store queue.
///
/// **The write turn** is a session-level advisory lock. Its holder is the only node that
/// changes the desk: it first reads what the others logged and replays it (so its desk is the
/// cluster's), then runs its own inputs and commits each batch's changes together with a log
/// entry numbered one past the newest. The number is the log's primary key, so even a node that
/// lost its turn without knowing it (a paused node whose session the database ended) cannot
/// commit over another's: its entry's number is taken, and its commit fails.
extension PostgresStore {
    private var lockKey: String { "\(PostgresSchema.lockClass), \(PostgresSchema.turnLock)" }

    private func clusterIdentity() throws -> ClusterIdentity {
        guard let identity = node.cluster else { throw PostgresError.notSupported("a cluster call on a store that is not a cluster node") }
        return identity
    }

    /// Checks that this node runs with the settings the running nodes use (`DeskSettings.fingerprint`),
    /// and records them when no other node runs (the first node after all stopped may change them).
    func agreeOnSettings(_ fingerprint: String) throws {
        let identity = try clusterIdentity()
        let connection = try session()
        try connection.transaction {
            // Nodes starting together check one after the other.
            try connection.execute("SELECT pg_advisory_xact_lock(\(PostgresSchema.lockClass), \(PostgresSchema.migrationLock))")
            let stored = try connection.execute("SELECT settings FROM cluster_settings").rows.first.map { try $0.text(0) }
            let others = try connection.execute("""
                SELECT count(*) FROM cluster_nodes WHERE id <> $1 AND seen >= clock_timestamp() - $2 * interval '1 millisecond'
                """, [.text(identity.id), .integer(node.liveness.value)]).single().integer(0)
            if let stored, stored != fingerprint, others > 0 { throw PostgresError.settingsDiffer(cluster: stored, node: fingerprint) }
            try connection.execute("INSERT INTO cluster_settings(id, settings) VALUES(1, $1) ON CONFLICT(id) DO UPDATE SET settings = excluded.settings",
                                   [.text(fingerprint)])
        }
    }

    /// Records this node as alive, at start.
    func registerNode() throws {
        let identity = try clusterIdentity()
        try session().execute("""
            INSERT INTO cluster_nodes(id, name, seen) VALUES($1, $2, clock_timestamp())
            ON CONFLICT(id) DO UPDATE SET seen = excluded.seen
            """, [.text(identity.id), .text(identity.name)])
    }

    /// One heartbeat on `connection` (the store's session or the listener's): this node's row
    /// seen now, then, when `judging`, whether another node's beat is older than `liveness`.
    /// Throws `fenced` when the row is gone: the others declared this node down.
    static func beat(on connection: PostgresConnection, as identity: ClusterIdentity, liveness: Milliseconds, judging: Bool) throws -> Bool {
        let updated = try connection.execute("UPDATE orderdesk.cluster_nodes SET seen = clock_timestamp() WHERE id = $1", [.text(identity.id)])
        guard updated.affectedRows == 1 else { throw PostgresError.fenced(node: identity.name) }
        guard judging else { return false }
        return try connection.execute(
            "SELECT EXISTS(SELECT 1 FROM orderdesk.cluster_nodes WHERE seen < clock_timestamp() - $1 * interval '1 millisecond')",
            [.integer(liveness.value)]).single().boolean(0)
    }

    /// False for the first node timeout of a session: after the database was away (or this
    /// node was), the others' heartbeats are old through no fault of theirs.
    private var mayJudgeHeartbeats: Bool {
        ProcessInfo.processInfo.systemUptime - sessionStarted > Double(node.liveness.value) / 1000
    }

    /// Waits (at most the session's `lock_timeout`) for the write turn; nil when it did not come
    /// in that time (ask again: what queued on the store queue meanwhile runs first).
    /// With `replaying` false the turn starts at the log's newest entry without reading the log
    /// (a command that changes the desk without a copy of it: `putUserThroughLog`).
    func takeTurn(replaying: Bool = true) throws -> ClusterTurn? {
        // No heartbeat here (the listener's session beats; an UPDATE would cost a commit, and so a
        // WAL flush, per turn): whether this node is still one is read with the clock below.
        let identity = try clusterIdentity()
        let connection = try session()
        do {
            try connection.execute("SELECT pg_advisory_lock(\(lockKey))")
        } catch PostgresError.statementFailed(let state, _) where state == "55P03" {
            return nil  // lock_not_available: another node's turn goes on
        }
        holdsTurn = true
        do {
            if !replaying { clusterHead = try connection.execute("SELECT COALESCE(MAX(seq), 0) FROM cluster_log").single().integer(0) }
            let entries = replaying ? try newEntries(on: connection) : []
            let clock = try connection.execute("""
                SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint, EXISTS(SELECT 1 FROM cluster_nodes WHERE id = $1)
                """, [.text(identity.id)]).single()
            guard try clock.boolean(1) else { throw PostgresError.fenced(node: identity.name) }
            let silent = !mayJudgeHeartbeats ? [] : try connection.execute(
                "SELECT id FROM cluster_nodes WHERE seen < clock_timestamp() - $1 * interval '1 millisecond' ORDER BY id",
                [.integer(node.liveness.value)]).rows.map { try $0.text(0) }
            return ClusterTurn(entries: entries, silentNodes: silent, databaseNow: Instant(milliseconds: try clock.integer(0)))
        } catch {
            endTurn()
            throw error
        }
    }

    /// Gives the write turn back.
    func endTurn() {
        guard holdsTurn else { return }
        holdsTurn = false
        guard connection.isHealthy else { return }
        _ = try? connection.execute("SELECT pg_advisory_unlock(\(lockKey))")
    }

    /// What other nodes logged since this node last looked, oldest first, without the turn: an
    /// entry is numbered and committed only by the turn's holder, one after the other, so no
    /// older entry can still appear.
    func readLog() throws -> [ClusterEntry] { try newEntries(on: session()) }

    /// Everything after `clusterHead`, a page of 2,000 entries at a time until the end: a node
    /// must not begin a turn on a copy that is still behind.
    private func newEntries(on connection: PostgresConnection) throws -> [ClusterEntry] {
        let page = 2000
        var entries: [ClusterEntry] = []
        while true {
            let rows = try connection.execute("SELECT seq, node, body FROM cluster_log WHERE seq > $1 ORDER BY seq LIMIT \(page)",
                                              [.integer(clusterHead)])
            for row in rows.rows {
                let seq = try row.integer(0)
                // The log is trimmed from its old end: a node that fell that far behind reloads.
                guard seq == clusterHead + 1 else { throw PostgresError.logGap(after: clusterHead, found: seq) }
                entries.append(try ClusterCodec.decode(try row.bytea(2), node: try row.text(1)))
                clusterHead = seq
            }
            if rows.rowCount < page { return entries }
        }
    }

    /// Commits `changes` with `entry` as the log's next entry, in one transaction, during this
    /// node's write turn; the sessions table follows the entry's opens, closes and downs.
    func commitTurn(_ changes: [StoreChange], entry: ClusterEntry) throws {
        let identity = try clusterIdentity()
        let connection = try session()
        guard holdsTurn else { throw PostgresError.turnLost }
        // A node declared down while it waited for this turn commits nothing (division by zero
        // fails the transaction): its copy and its sessions are no longer the cluster's.
        var statements: [(sql: String, parameters: [StoreValue])] = [
            ("SELECT 1 / (SELECT count(*) FROM cluster_nodes WHERE id = $1)", [.text(identity.id)]),
        ]
        statements += Self.statements(for: changes)
        let seq = clusterHead + 1
        statements.append(("INSERT INTO cluster_log(seq, node, at, body) VALUES($1, $2, $3, $4)",
                           [.integer(seq), .text(entry.node), .integer(entry.inputs.last?.instant?.milliseconds ?? 0),
                            .bytes(ClusterCodec.encode(entry))]))
        var deltas: [String: Int64] = [:]
        for input in entry.inputs {
            switch input {
            case .sessionOpened(let user, _): deltas[user, default: 0] += 1
            case .sessionClosed(let user, _): deltas[user, default: 0] -= 1
            case .nodeDown(let down, _):
                if down == identity.id { deltas = [:] }
                statements.append(("DELETE FROM cluster_sessions WHERE node = $1", [.text(down)]))
                statements.append(("DELETE FROM cluster_nodes WHERE id = $1", [.text(down)]))
            default: break
            }
        }
        for (user, delta) in deltas.sorted(by: { $0.key < $1.key }) where delta != 0 {
            statements.append(("""
                INSERT INTO cluster_sessions(node, user_name, count) VALUES($1, $2, $3)
                ON CONFLICT(node, user_name) DO UPDATE SET count = cluster_sessions.count + excluded.count
                """, [.text(identity.id), .text(user), .integer(delta)]))
        }
        if deltas.values.contains(where: { $0 < 0 }) {
            statements.append(("DELETE FROM cluster_sessions WHERE node = $1 AND count <= 0", [.text(identity.id)]))
        }
        // Wakes the other nodes' listeners once this commits (PostgreSQL sends it at COMMIT).
        statements.append(("SELECT pg_notify('\(PostgresSchema.logChannel)', '')", []))
        try connection.pipelinedTransaction(statements)
        clusterHead = seq
    }

    /// More sessions of one user on one node than `cluster_sessions` can sensibly hold.
    static let maximumSessionsPerRow: Int64 = 1_000_000

    /// The desk as the cluster has it, in one snapshot: the tables, who is online on which node,
    /// and the log's newest entry (the next replay starts after it).
    func loadCluster() throws -> (snapshot: DeskSnapshot, sessions: [String: [String: Int]]) {
        let connection = try session()
        return try connection.transaction(begin: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") {
            var snapshot = try load(on: connection)
            var sessions: [String: [String: Int]] = [:]
            var online: [String: Int] = [:]
            for row in try connection.execute("SELECT node, user_name, count FROM cluster_sessions WHERE count > 0").rows {
                // A node serves far fewer sessions than this; more is a damaged row, which would
                // overflow the sum or close sessions without end when the node is declared down.
                let raw = try row.integer(2)
                guard raw <= Self.maximumSessionsPerRow else { throw StoreError.corrupt("cluster_sessions counts \(raw) sessions of one user on one node") }
                let count = Int(raw)
                sessions[try row.text(0), default: [:]][try row.text(1)] = count
                online[try row.text(1), default: 0] += count
            }
            snapshot.online = online
            for row in try connection.execute("SELECT user_name, message FROM cluster_away").rows {
                snapshot.away[try row.text(0)] = try row.text(1)
            }
            clusterHead = try connection.execute("SELECT COALESCE(MAX(seq), 0) FROM cluster_log").single().integer(0)
            return (snapshot, sessions)
        }
    }

    /// Runs `body` holding the write turn, on a cluster node (waiting as long as it takes); at
    /// once on any other: seeding demo data at start, which two nodes starting together must
    /// not both do.
    public func duringTurnIfClustered<Value>(_ body: () throws -> Value) throws -> Value {
        guard node.cluster != nil else { return try body() }
        while try takeTurn() == nil {}
        defer { endTurn() }
        return try body()
    }

    /// Adds or replaces `user` while cluster nodes serve (`orderdesk user add --postgres`): in a
    /// write turn, the user's row and a log entry of the same `put` every node replays, with the
    /// desk's counters (a put changes none). Returns whether the user existed.
    public func putUserThroughLog(_ user: User) throws -> Bool {
        let identity = try clusterIdentity()
        while try takeTurn(replaying: false) == nil {}
        defer { endTurn() }
        let connection = try session()
        let existed = try connection.execute("SELECT EXISTS(SELECT 1 FROM users WHERE name = $1)", [.text(user.name)]).single().boolean(0)
        var counters = DeskCounters()
        for row in try connection.execute("SELECT key, value FROM meta").rows {
            StoreRows.read(meta: try row.text(0), value: try row.integer(1), into: &counters)
        }
        try commitTurn([.user(user)], entry: ClusterEntry(node: identity.id, inputs: [.putUser(user)], counters: counters))
        return existed
    }

    /// Drops log entries far behind the newest (a node that far behind reloads instead).
    func trimLog(keeping: Int64 = 20_000) throws {
        try session().execute("DELETE FROM cluster_log WHERE seq < (SELECT MAX(seq) FROM cluster_log) - $1", [.integer(keeping)])
    }
}
