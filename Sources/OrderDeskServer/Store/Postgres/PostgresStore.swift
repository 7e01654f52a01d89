import Foundation
import Glibc
import OrderDeskCore

/// The desk's durable store in PostgreSQL: the SQLite store's tables and semantics, one
/// PostgreSQL transaction per commit (durable when COMMIT returns, with the server's
/// `synchronous_commit`).
///
/// One node per database: the in-memory desk is the truth while a server runs, so a second
/// server over the same rows would split the brain. The store therefore holds the desk's
/// session-level advisory lock for as long as its connection lives, and refuses to open when
/// another session holds it. When the connection breaks, the next call connects again and
/// takes the lock again before it reads or writes anything; if another node took it
/// meanwhile, every call fails (and the server stops) rather than write over it.
///
/// **Standby and liveness.** A node started with `Node.waitsForDesk` waits for the lock instead
/// of refusing, and takes the desk over when the node holding it goes: its process ends (the
/// database ends its session at once), or it stops answering: each session sets
/// `idle_session_timeout` and `idle_in_transaction_session_timeout` to `Node.liveness` from the
/// server's first `keepAlive` on (not before: a start that seeds demo users, hashing their
/// passwords, is silent for longer), and the server calls `keepAlive` three times as often,
/// so the session of a node paused or cut off
/// for longer is ended by the database, its lock freed. When such a node comes back, its next
/// call finds the connection gone and the lock taken, and it stops without writing anything.
///
/// Used from one queue at a time (the server's store queue, or the one thread of `user add`
/// and `import`), like `SQLiteStore`.
public final class PostgresStore: DeskStore, @unchecked Sendable {  // confined to the store queue (see above)
    /// How long the store keeps what `maintain` may drop (the same settings as SQLite's).
    public let retention: SQLiteStore.Retention
    let connection: PostgresConnection
    /// How the store connects, for a cluster node's listener (`ClusterListener`).
    let conninfo: String
    /// "PostgreSQL database desk on socket /tmp:5432", for logs and messages.
    public let databaseDescription: String
    public let node: Node
    /// Set by the first `keepAlive`: a server serves from here, and each session (a reconnected
    /// one too) gets the liveness timeouts.
    private var isServing = false
    private var hasTimeouts = false
    /// True once this connection holds the desk lock (`beginSession` done); a connection made
    /// again holds nothing until it has taken the lock again, and is never used meanwhile.
    private var hasDesk = false
    /// A cluster node's place in the log: the newest entry it has read or written (store queue).
    var clusterHead: Int64 = 0
    /// True while this session holds the write turn (`takeTurn` to `endTurn`); a connection made
    /// again holds no turn.
    var holdsTurn = false
    /// When this session began (monotonic seconds): a node judges others' heartbeats only after a
    /// node timeout of its own, so that after the database was away every node has beaten again.
    var sessionStarted: Double = 0

    /// How this server takes part: waiting for the desk or refusing, and how long the database
    /// keeps the desk for a node that stopped answering.
    public struct Node: Sendable {
        /// Wait for the desk lock (a standby) instead of throwing `deskInUse`.
        public var waitsForDesk = false
        /// A node whose session is silent this long loses the desk (at least 1 s).
        public var liveness = Milliseconds.seconds(10)
        /// How often a standby asks for the lock.
        public var lockPoll = Milliseconds(250)
        /// Called once when a standby starts waiting, with the database's description.
        public var onWaiting: (@Sendable (String) -> Void)?
        /// Asked between a standby's attempts: true ends the wait (`PostgresError.waitEnded`).
        public var isWaitOver: (@Sendable () -> Bool)?
        /// Set for one node of an active-active cluster (docs/CLUSTER.md): no node holds the
        /// desk; each takes short write turns and replays the others' inputs from the log.
        public var cluster: ClusterIdentity?

        public init(waitsForDesk: Bool = false, liveness: Milliseconds = .seconds(10), onWaiting: (@Sendable (String) -> Void)? = nil) {
            self.waitsForDesk = waitsForDesk
            self.liveness = Milliseconds(max(1000, liveness.value))
            self.onWaiting = onWaiting
        }
    }

    /// Connects with `conninfo` (a libpq connection string or URI), takes the desk lock
    /// (throwing `PostgresError.deskInUse` if another server holds it) and creates or migrates
    /// the schema.
    public convenience init(conninfo: String, retention: SQLiteStore.Retention = SQLiteStore.Retention(), node: Node = Node()) throws {
        try self.init(conninfo: conninfo, retention: retention, migrations: PostgresSchema.all, node: node)
    }

    /// The seam for tests: opens with `migrations` in place of the real list.
    init(conninfo: String, retention: SQLiteStore.Retention = SQLiteStore.Retention(), migrations: [PostgresMigration],
         node: Node = Node()) throws {
        self.retention = retention
        self.node = node
        self.conninfo = conninfo
        connection = try PostgresConnection(conninfo: conninfo)
        databaseDescription = connection.databaseDescription
        if node.waitsForDesk { try waitForDesk() } else { try beginSession() }
        try PostgresSchema.migrate(connection, with: migrations)
        if node.cluster != nil { try registerNode() }
    }

    /// A standby's wait: asks for the lock every `lockPoll` until it has it; a database that
    /// goes away meanwhile is connected to again, once a second.
    private func waitForDesk() throws {
        var hasSaidSo = false
        while true {
            do {
                if !connection.isHealthy { try connection.reset() }
                try beginSession()
                return
            } catch PostgresError.deskInUse {
                if !hasSaidSo { node.onWaiting?(databaseDescription) }
                hasSaidSo = true
                if node.isWaitOver?() == true { throw PostgresError.waitEnded }
                usleep(UInt32(node.lockPoll.value * 1000))
            } catch let error where isTransient(error) {
                if node.isWaitOver?() == true { throw PostgresError.waitEnded }
                sleep(1)
            }
        }
    }

    /// What a fresh or re-made connection needs before the store uses it: the desk lock, the
    /// liveness timeouts, then the schema on the search path.
    private func beginSession() throws {
        hasDesk = false
        holdsTurn = false
        sessionStarted = ProcessInfo.processInfo.systemUptime
        // Cluster nodes share the desk lock; a single serving node (or `user add`, `import`)
        // holds it alone, so the two kinds never serve one database at once.
        let take = node.cluster == nil ? "pg_try_advisory_lock" : "pg_try_advisory_lock_shared"
        let locked = try connection.execute(
            "SELECT \(take)(\(PostgresSchema.lockClass), \(PostgresSchema.deskLock))").single().boolean(0)
        guard locked else { throw PostgresError.deskInUse(database: databaseDescription) }
        try connection.execute("SET search_path TO \(PostgresSchema.namespace)")
        // A write turn is waited for 200 ms at a time: between the waits the store session reads
        // the log for look-ups and beats, so a node waiting behind a paused one goes on answering.
        if node.cluster != nil { try connection.execute("SET lock_timeout = \(min(200, node.liveness.value / 3))") }
        hasTimeouts = false
        if isServing { try setTimeouts() }
        hasDesk = true
    }

    /// The liveness timeouts on this session: silent for `liveness`, the database ends it.
    private func setTimeouts() throws {
        let liveness = node.liveness.value
        try connection.run(script: """
            SET idle_session_timeout = \(liveness);
            SET idle_in_transaction_session_timeout = \(liveness);
            SET tcp_keepalives_idle = \(max(1, liveness / 3000));
            SET tcp_keepalives_interval = 1;
            SET tcp_keepalives_count = 3
            """)
        hasTimeouts = true
    }

    /// The connection, made again (with the desk lock) if it broke since the last call.
    func session() throws -> PostgresConnection {
        if !connection.isHealthy {
            hasDesk = false
            try connection.reset()
        }
        // A reconnection whose lock was refused (another node took the desk) leaves a healthy
        // connection without it: asked again, never used as it is.
        if !hasDesk { try beginSession() }
        return connection
    }

    /// Gives the desk lock back now, for a command that is done with the store (`user add`,
    /// `import`): when this returns the lock is free, where a process that just exits frees it
    /// only once the database has noticed, so a command run right after could be refused. A
    /// later call takes the lock again.
    public func release() {
        guard hasDesk, connection.isHealthy else { return }
        hasDesk = false
        if let identity = node.cluster {
            endTurn()
            // A node gone for good (a command done, a server stopped): no heartbeat to wait out.
            _ = try? connection.execute("DELETE FROM cluster_nodes WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM cluster_sessions WHERE node = $1)",
                                        [.text(identity.id)])
        }
        let unlock = node.cluster == nil ? "pg_advisory_unlock" : "pg_advisory_unlock_shared"
        _ = try? connection.execute("SELECT \(unlock)(\(PostgresSchema.lockClass), \(PostgresSchema.deskLock))")
    }

    /// Three keep-alives per liveness window: a live node's session is never idle for long.
    public var keepAliveInterval: Milliseconds? { Milliseconds(node.liveness.value / 3) }

    public func hasLostDesk(_ error: Error) -> Bool {
        switch error {
        case PostgresError.deskInUse, PostgresError.fenced: true
        default: false
        }
    }

    public func keepAlive() throws {
        isServing = true
        let connection = try session()
        if !hasTimeouts { try setTimeouts() }
        // A cluster node's heartbeat is its listener's (`ClusterListener`): this only keeps the
        // store's session from looking idle.
        try connection.execute("SELECT 1")
    }

    /// The database is down, restarting or out of reach: worth waiting for. Another node holding
    /// the desk, a newer schema or unreadable rows are not.
    public func isTransient(_ error: Error) -> Bool {
        switch error {
        case PostgresError.connectionFailed, PostgresError.connectionLost: true
        // Class 08: connection exceptions; 57P01-57P03: shutting down, crash recovery, starting up.
        case PostgresError.statementFailed(let state, _): state.hasPrefix("08") || ["57P01", "57P02", "57P03"].contains(state)
        default: false
        }
    }

    /// The schema version the database is at.
    public func schemaVersion() throws -> Int64 { try PostgresSchema.version(of: session()) }

    public func commit(_ changes: [StoreChange]) throws {
        let connection = try session()
        // One round trip for the whole batch (libpq's pipeline mode), not one per row.
        try connection.pipelinedTransaction(Self.statements(for: changes))
    }

    /// The statements that write `changes`, in order.
    static func statements(for changes: [StoreChange]) -> [(sql: String, parameters: [StoreValue])] {
        var statements: [(sql: String, parameters: [StoreValue])] = []
        statements.reserveCapacity(changes.count + 3)
        func add(_ sql: String, _ parameters: [StoreValue]) { statements.append((sql, parameters)) }
        var counters: DeskCounters?
        for change in changes {
            switch change {
            case .order(let order):
                add(Self.upsertOrder, StoreRows.order(order))
                for hold in order.holds { add(Self.upsertHold, StoreRows.hold(hold, of: order.number)) }
            case .orderState(let number, let state): add(Self.updateOrderState, StoreRows.state(state, of: number))
            case .hold(let number, let hold): add(Self.upsertHold, StoreRows.hold(hold, of: number))
            case .note(let number, _, let note):
                add("INSERT INTO notes(order_number, at, author, text) VALUES($1,$2,$3,$4)", StoreRows.note(note, of: number))
            case .history(let number, _, let entry):
                add("INSERT INTO history(order_number, at, actor, action, detail) VALUES($1,$2,$3,$4,$5)",
                    StoreRows.history(entry, of: number))
            case .user(let user):
                add("""
                    INSERT INTO users(name, role, salt, hash, iterations, disabled, last_login) VALUES($1,$2,$3,$4,$5,$6,$7)
                    ON CONFLICT(name) DO UPDATE SET role=excluded.role, salt=excluded.salt, hash=excluded.hash,
                        iterations=excluded.iterations, disabled=excluded.disabled, last_login=excluded.last_login
                    """, StoreRows.user(user))
            case .counters(let latest): counters = latest
            case .mailbox(let user, let entry):
                add("""
                    INSERT INTO mailbox(user_name, id, at, kind, line, personal, read, delivered) VALUES($1,$2,$3,$4,$5,$6,$7,$8)
                    ON CONFLICT(user_name, id) DO UPDATE SET at=excluded.at, kind=excluded.kind, line=excluded.line,
                        personal=excluded.personal, read=excluded.read, delivered=excluded.delivered
                    """, StoreRows.mailbox(entry, of: user))
            case .membership(let user, let kind, let name, let isMember):
                add(isMember
                    ? "INSERT INTO memberships(user_name, kind, name) VALUES($1,$2,$3) ON CONFLICT DO NOTHING"
                    : "DELETE FROM memberships WHERE user_name=$1 AND kind=$2 AND name=$3", [.text(user), .text(kind), .text(name)])
            case .thresholds(let queue, let value):
                add("""
                    INSERT INTO thresholds(queue, warning, stuck, admins) VALUES($1,$2,$3,$4)
                    ON CONFLICT(queue) DO UPDATE SET warning=excluded.warning, stuck=excluded.stuck, admins=excluded.admins
                    """, StoreRows.thresholds(value, of: queue))
            case .audit(let entry):
                add("INSERT INTO audit(at, actor, action, detail) VALUES($1,$2,$3,$4)", StoreRows.audit(entry))
            case .away(let user, let message?):
                add("INSERT INTO cluster_away(user_name, message) VALUES($1,$2) ON CONFLICT(user_name) DO UPDATE SET message=excluded.message",
                    [.text(user), .text(message)])
            case .away(let user, nil): add("DELETE FROM cluster_away WHERE user_name=$1", [.text(user)])
            }
        }
        if let counters {
            for row in StoreRows.counters(counters) {
                add("INSERT INTO meta(key, value) VALUES($1,$2) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                    [.text(row.key), row.value])
            }
        }
        return statements
    }

    /// The order and hold statements both stores share (StoreRows), in PostgreSQL's `$n` placeholders.
    private static let upsertOrder = StoreRows.upsertOrder { "$\($0)" }
    private static let updateOrderState = StoreRows.updateOrderState { "$\($0)" }
    private static let upsertHold = StoreRows.upsertHold { "$\($0)" }
}
