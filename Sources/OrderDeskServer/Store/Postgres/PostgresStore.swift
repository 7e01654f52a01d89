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
                case .order(let order): try write(order, on: connection)
                case .orderState(let number, let state): try write(state, of: number, on: connection)
                case .hold(let number, let hold): try write(hold, of: number, on: connection)
                case .note(let number, let note):
                    try connection.execute("INSERT INTO notes(order_number, at, author, text) VALUES($1,$2,$3,$4)",
                                           [.text(number), .integer(note.at.milliseconds), .text(note.author), .text(note.text)])
                case .history(let number, let entry):
                    try connection.execute("INSERT INTO history(order_number, at, actor, action, detail) VALUES($1,$2,$3,$4,$5)",
                                           [.text(number), .integer(entry.at.milliseconds), .text(entry.actor), .text(entry.action), .text(entry.detail)])
                case .user(let user):
                    try connection.execute("""
                        INSERT INTO users(name, role, salt, hash, iterations, disabled, last_login) VALUES($1,$2,$3,$4,$5,$6,$7)
                        ON CONFLICT(name) DO UPDATE SET role=excluded.role, salt=excluded.salt, hash=excluded.hash,
                            iterations=excluded.iterations, disabled=excluded.disabled, last_login=excluded.last_login
                        """, [.text(user.name), .text(user.role.rawValue), .bytes(user.credential.salt), .bytes(user.credential.hash),
                              .integer(Int64(user.credential.iterations)), .boolean(user.isDisabled), .optional(user.lastLogin?.milliseconds)])
                case .counters(let latest): counters = latest
                case .mailbox(let user, let entry):
                    try connection.execute("""
                        INSERT INTO mailbox(user_name, id, at, kind, line, personal, read, delivered) VALUES($1,$2,$3,$4,$5,$6,$7,$8)
                        ON CONFLICT(user_name, id) DO UPDATE SET at=excluded.at, kind=excluded.kind, line=excluded.line,
                            personal=excluded.personal, read=excluded.read, delivered=excluded.delivered
                        """, [.text(user), .integer(Int64(entry.id)), .integer(entry.at.milliseconds), .text(entry.kind), .text(entry.line),
                              .boolean(entry.isPersonal), .boolean(entry.isRead), .boolean(entry.isDelivered)])
                case .membership(let user, let kind, let name, let isMember):
                    try connection.execute(isMember
                        ? "INSERT INTO memberships(user_name, kind, name) VALUES($1,$2,$3) ON CONFLICT DO NOTHING"
                        : "DELETE FROM memberships WHERE user_name=$1 AND kind=$2 AND name=$3", [.text(user), .text(kind), .text(name)])
                case .thresholds(let queue, let value):
                    try connection.execute("""
                        INSERT INTO thresholds(queue, warning, stuck, admins) VALUES($1,$2,$3,$4)
                        ON CONFLICT(queue) DO UPDATE SET warning=excluded.warning, stuck=excluded.stuck, admins=excluded.admins
                        """, [.text(queue.wireName), .integer(value.warning.value), .integer(value.stuck.value), .integer(value.admins.value)])
                case .audit(let entry):
                    try connection.execute("INSERT INTO audit(at, actor, action, detail) VALUES($1,$2,$3,$4)",
                                           [.integer(entry.at.milliseconds), .text(entry.actor), .text(entry.action), .text(entry.detail)])
                }
            }
            if let counters {
                try connection.execute("""
                    INSERT INTO meta(key, value) VALUES('next_token',$1),('next_event_id',$2),('next_sequence',$3)
                    ON CONFLICT(key) DO UPDATE SET value=excluded.value
                    """, [.integer(Int64(counters.nextToken)), .integer(Int64(counters.nextEventID)), .integer(counters.nextSequence)])
            }
        }
    }

    private func write(_ order: Order, on connection: PostgresConnection) throws {
        let lease = order.lease
        try connection.execute("""
            INSERT INTO orders(number, sequence, customer, rep, po, currency, priority, ship, stage, captured_at,
                stage_changed_at, lines, watchers, claim_holder, claim_token, claim_since, claim_expires, claim_warned, claim_grace,
                episodes, released_by, released_at)
            VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22)
            ON CONFLICT(number) DO UPDATE SET customer=excluded.customer, rep=excluded.rep, po=excluded.po,
                currency=excluded.currency, priority=excluded.priority, ship=excluded.ship, stage=excluded.stage,
                stage_changed_at=excluded.stage_changed_at, lines=excluded.lines, watchers=excluded.watchers,
                claim_holder=excluded.claim_holder, claim_token=excluded.claim_token, claim_since=excluded.claim_since,
                claim_expires=excluded.claim_expires, claim_warned=excluded.claim_warned, claim_grace=excluded.claim_grace,
                episodes=excluded.episodes, released_by=excluded.released_by, released_at=excluded.released_at
            """, [
                .text(order.number), .integer(order.sequence), .text(order.customer), .text(order.rep), .text(order.purchaseOrder),
                .text(order.currency), .text(order.priority.rawValue), .optional(order.requestedShipDate), .text(order.stage.rawValue),
                .integer(order.capturedAt.milliseconds), .integer(order.stageChangedAt.milliseconds),
                .text(StoreEncoding.encode(order.lines)), .text(StoreEncoding.encode(watchers: order.watchers)),
                .optional(lease?.holder), .optional(lease.map { Int64($0.token) }), .optional(lease?.since.milliseconds),
                .optional(lease?.expires.milliseconds), .optional(lease?.isWarned), .optional(lease?.graceEnds?.milliseconds),
                .text(StoreEncoding.encode(order.episodes)), .optional(order.release?.by), .optional(order.release?.at.milliseconds),
            ])
        for hold in order.holds { try write(hold, of: order.number, on: connection) }
    }

    /// Everything a change after capture touches, and nothing else (`StoreChange.orderState`).
    private func write(_ state: OrderState, of number: String, on connection: PostgresConnection) throws {
        let lease: Lease? = if case .claimed(let lease) = state.claim { lease } else { nil }
        try connection.execute("""
            UPDATE orders SET stage=$1, stage_changed_at=$2, watchers=$3, claim_holder=$4, claim_token=$5, claim_since=$6,
                claim_expires=$7, claim_warned=$8, claim_grace=$9, episodes=$10, released_by=$11, released_at=$12
            WHERE number=$13
            """, [
                .text(state.stage.rawValue), .integer(state.stageChangedAt.milliseconds), .text(StoreEncoding.encode(watchers: state.watchers)),
                .optional(lease?.holder), .optional(lease.map { Int64($0.token) }), .optional(lease?.since.milliseconds),
                .optional(lease?.expires.milliseconds), .optional(lease?.isWarned), .optional(lease?.graceEnds?.milliseconds),
                .text(StoreEncoding.encode(state.episodes)), .optional(state.releasedBy), .optional(state.releasedAt?.milliseconds),
                .text(number),
            ])
    }

    /// A hold placed or released: its whole row, as SQLite's INSERT OR REPLACE writes it.
    private func write(_ hold: Hold, of number: String, on connection: PostgresConnection) throws {
        var released: (String, Int64, String)?
        if case .released(let by, let at, let reason) = hold.status { released = (by, at.milliseconds, reason) }
        try connection.execute("""
            INSERT INTO holds(order_number, id, type, reason, placed_by, placed_at, released_by, released_at, release_reason)
            VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9)
            ON CONFLICT(order_number, id) DO UPDATE SET type=excluded.type, reason=excluded.reason, placed_by=excluded.placed_by,
                placed_at=excluded.placed_at, released_by=excluded.released_by, released_at=excluded.released_at,
                release_reason=excluded.release_reason
            """, [
                .text(number), .integer(Int64(hold.id)), .text(hold.type.rawValue), .text(hold.reason), .text(hold.placedBy),
                .integer(hold.placedAt.milliseconds), .optional(released?.0), .optional(released?.1), .optional(released?.2),
            ])
    }
}
