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
/// Used from one queue at a time (the server's store queue, or the one thread of `user add`
/// and `import`), like `SQLiteStore`.
public final class PostgresStore: DeskStore, @unchecked Sendable {  // confined to the store queue (see above)
    /// How long the store keeps what `maintain` may drop (the same settings as SQLite's).
    public let retention: SQLiteStore.Retention
    let connection: PostgresConnection
    /// "PostgreSQL database desk on socket /tmp:5432", for logs and messages.
    public let databaseDescription: String

    /// Connects with `conninfo` (a libpq connection string or URI), takes the desk lock
    /// (throwing `PostgresError.deskInUse` if another server holds it) and creates or migrates
    /// the schema.
    public convenience init(conninfo: String, retention: SQLiteStore.Retention = SQLiteStore.Retention()) throws {
        try self.init(conninfo: conninfo, retention: retention, migrations: PostgresSchema.all)
    }

    /// The seam for tests: opens with `migrations` in place of the real list.
    init(conninfo: String, retention: SQLiteStore.Retention = SQLiteStore.Retention(), migrations: [PostgresMigration]) throws {
        self.retention = retention
        connection = try PostgresConnection(conninfo: conninfo)
        databaseDescription = connection.databaseDescription
        try Self.beginSession(on: connection, description: databaseDescription)
        try PostgresSchema.migrate(connection, with: migrations)
    }

    /// What a fresh or re-made connection needs before the store uses it: the desk lock, then
    /// the schema on the search path.
    private static func beginSession(on connection: PostgresConnection, description: String) throws {
        let locked = try connection.execute(
            "SELECT pg_try_advisory_lock(\(PostgresSchema.lockClass), \(PostgresSchema.deskLock))").single().boolean(0)
        guard locked else { throw PostgresError.deskInUse(database: description) }
        try connection.execute("SET search_path TO \(PostgresSchema.namespace)")
    }

    /// The connection, made again (with the desk lock) if it broke since the last call.
    func session() throws -> PostgresConnection {
        if !connection.isHealthy {
            try connection.reset()
            try Self.beginSession(on: connection, description: databaseDescription)
        }
        return connection
    }

    /// The schema version the database is at.
    public func schemaVersion() throws -> Int64 { try PostgresSchema.version(of: session()) }

    public func commit(_ changes: [StoreChange]) throws {
        let connection = try session()
        try connection.transaction {
            var counters: DeskCounters?
            for change in changes {
                switch change {
                case .order(let order):
                    try connection.execute(Self.upsertOrder, StoreRows.order(order))
                    for hold in order.holds { try connection.execute(Self.upsertHold, StoreRows.hold(hold, of: order.number)) }
                case .orderState(let number, let state): try connection.execute(Self.updateOrderState, StoreRows.state(state, of: number))
                case .hold(let number, let hold): try connection.execute(Self.upsertHold, StoreRows.hold(hold, of: number))
                case .note(let number, let note):
                    try connection.execute("INSERT INTO notes(order_number, at, author, text) VALUES($1,$2,$3,$4)", StoreRows.note(note, of: number))
                case .history(let number, let entry):
                    try connection.execute("INSERT INTO history(order_number, at, actor, action, detail) VALUES($1,$2,$3,$4,$5)",
                                           StoreRows.history(entry, of: number))
                case .user(let user):
                    try connection.execute("""
                        INSERT INTO users(name, role, salt, hash, iterations, disabled, last_login) VALUES($1,$2,$3,$4,$5,$6,$7)
                        ON CONFLICT(name) DO UPDATE SET role=excluded.role, salt=excluded.salt, hash=excluded.hash,
                            iterations=excluded.iterations, disabled=excluded.disabled, last_login=excluded.last_login
                        """, StoreRows.user(user))
                case .counters(let latest): counters = latest
                case .mailbox(let user, let entry):
                    try connection.execute("""
                        INSERT INTO mailbox(user_name, id, at, kind, line, personal, read, delivered) VALUES($1,$2,$3,$4,$5,$6,$7,$8)
                        ON CONFLICT(user_name, id) DO UPDATE SET at=excluded.at, kind=excluded.kind, line=excluded.line,
                            personal=excluded.personal, read=excluded.read, delivered=excluded.delivered
                        """, StoreRows.mailbox(entry, of: user))
                case .membership(let user, let kind, let name, let isMember):
                    try connection.execute(isMember
                        ? "INSERT INTO memberships(user_name, kind, name) VALUES($1,$2,$3) ON CONFLICT DO NOTHING"
                        : "DELETE FROM memberships WHERE user_name=$1 AND kind=$2 AND name=$3", [.text(user), .text(kind), .text(name)])
                case .thresholds(let queue, let value):
                    try connection.execute("""
                        INSERT INTO thresholds(queue, warning, stuck, admins) VALUES($1,$2,$3,$4)
                        ON CONFLICT(queue) DO UPDATE SET warning=excluded.warning, stuck=excluded.stuck, admins=excluded.admins
                        """, StoreRows.thresholds(value, of: queue))
                case .audit(let entry):
                    try connection.execute("INSERT INTO audit(at, actor, action, detail) VALUES($1,$2,$3,$4)", StoreRows.audit(entry))
                }
            }
            if let counters {
                for row in StoreRows.counters(counters) {
                    try connection.execute("INSERT INTO meta(key, value) VALUES($1,$2) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                                           [.text(row.key), row.value])
                }
            }
        }
    }

    /// The order and hold statements both stores share (StoreRows), in PostgreSQL's `$n` placeholders.
    private static let upsertOrder = StoreRows.upsertOrder { "$\($0)" }
    private static let updateOrderState = StoreRows.updateOrderState { "$\($0)" }
    private static let upsertHold = StoreRows.upsertHold { "$\($0)" }
}
