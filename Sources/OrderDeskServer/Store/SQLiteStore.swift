import CSQLite
import OrderDeskCore

/// The desk's durable store: one SQLite file in WAL mode with `synchronous=FULL`, so a
/// transaction is on disk when COMMIT returns.
///
/// Used from one queue at a time (the server's store queue); the connection is opened NOMUTEX.
public final class SQLiteStore: DeskStore, @unchecked Sendable {
    public let path: String
    private let database: SQLiteDatabase
    private let upsertOrder: SQLiteStatement
    private let upsertHold: SQLiteStatement
    private let updateOrderState: SQLiteStatement
    private let insertNote: SQLiteStatement
    private let insertHistory: SQLiteStatement
    private let upsertUser: SQLiteStatement
    private let upsertMeta: SQLiteStatement
    private let upsertMailbox: SQLiteStatement
    private let insertMembership: SQLiteStatement
    private let deleteMembership: SQLiteStatement
    private let upsertThresholds: SQLiteStatement
    private let insertAudit: SQLiteStatement
    /// How long the store keeps what `maintain` may drop.
    public let retention: Retention
    /// False for a file opened read-only below schema version 3 (check, export, backup of an
    /// old file): its users have no `disabled` or `last_login` column, and read as enabled.
    private var hasUserStates = true
    /// What the file files threads under: an order's number below schema version 4 (such a file
    /// is only ever read here; opening it for writing migrates it).
    private var threadKey = OrderRowReader.ThreadKey.sequence

    /// Opens (creating it, mode 0600, if missing) the data file at `path` and migrates it to
    /// the newest schema version. Refuses a file made by a newer orderdesk; when a migration
    /// fails, the file is left exactly as it was.
    public convenience init(path: String, retention: Retention = Retention()) throws {
        try self.init(path: path, retention: retention, migrations: SchemaMigration.all)
    }

    /// Opens an existing data file only for reading, without migrating or locking it: for
    /// `check` and `export`, which may run beside a server (WAL lets readers in). Reads files of
    /// this schema version and older ones (loading reads nothing a migration has changed so far);
    /// refuses newer ones. Commits fail.
    public convenience init(readingOnly path: String) throws {
        try self.init(path: path, retention: Retention(), migrations: SchemaMigration.all, isReadOnly: true)
    }

    /// The seam for tests: opens with `migrations` in place of the real list.
    init(path: String, retention: Retention = Retention(), migrations: [SchemaMigration], isReadOnly: Bool = false) throws {
        self.path = path
        self.retention = retention
        if isReadOnly {
            database = try SQLiteDatabase(path: path, isReadOnly: true)
            let version = try SchemaMigration.version(of: database)
            let newest = migrations.last?.version ?? 0
            guard version <= newest else { throw StoreError.newerSchema(path: path, fileVersion: version, supported: newest) }
            guard version >= 1 else { throw StoreError.corrupt("\(path) is not an orderdesk data file (schema version 0)") }
            hasUserStates = version >= SchemaMigration.version3.version
            if version < SchemaMigration.version4.version { threadKey = .number }
        } else {
            try DataFile.createIfMissing(path)
            database = try SQLiteDatabase(path: path)
            try database.execute("PRAGMA synchronous=FULL; PRAGMA foreign_keys=OFF;")
            let migrated = try SchemaMigration.migrate(database, path: path, with: migrations)
            try database.execute("PRAGMA journal_mode=WAL")
            // A step that rewrote a large file leaves a WAL as large as what it wrote (370 MB for a
            // million orders); give it back now, so that no later start reads through it. Only a
            // saving, so a refusal is not an error: a file just created answers SQLITE_LOCKED here
            // (and has nothing to give back), and one that a reader holds keeps its WAL as before.
            if migrated { try? database.execute("PRAGMA wal_checkpoint(TRUNCATE)") }
        }
        upsertOrder = try database.prepare(StoreRows.upsertOrder { _ in "?" })
        updateOrderState = try database.prepare(StoreRows.updateOrderState { _ in "?" })
        upsertHold = try database.prepare(StoreRows.upsertHold { _ in "?" })
        // A read-only store never writes: for an old file, a statement that prepares is enough.
        let sequenceColumn = threadKey == .sequence ? ", order_sequence" : ""
        let sequenceValue = threadKey == .sequence ? ",?" : ""
        insertNote = try database.prepare("INSERT INTO notes(order_number, at, author, text\(sequenceColumn)) VALUES(?,?,?,?\(sequenceValue))")
        insertHistory = try database.prepare(
            "INSERT INTO history(order_number, at, actor, action, detail\(sequenceColumn)) VALUES(?,?,?,?,?\(sequenceValue))")
        upsertUser = try database.prepare(hasUserStates
            ? "INSERT OR REPLACE INTO users(name, role, salt, hash, iterations, disabled, last_login) VALUES(?,?,?,?,?,?,?)"
            : "INSERT OR REPLACE INTO users(name, role, salt, hash, iterations) VALUES(?,?,?,?,?)")
        // Rewritten in place: REPLACE deleted and reinserted the row, a second page (the key's
        // index) in every commit.
        upsertMeta = try database.prepare("INSERT INTO meta(key, value) VALUES(?,?) ON CONFLICT(key) DO UPDATE SET value=excluded.value")
        upsertMailbox = try database.prepare("""
            INSERT OR REPLACE INTO mailbox(user, id, at, kind, line, personal, read, delivered) VALUES(?,?,?,?,?,?,?,?)
            """)
        insertMembership = try database.prepare("INSERT OR IGNORE INTO memberships(user, kind, name) VALUES(?,?,?)")
        deleteMembership = try database.prepare("DELETE FROM memberships WHERE user=? AND kind=? AND name=?")
        upsertThresholds = try database.prepare("INSERT OR REPLACE INTO thresholds(queue, warning, stuck, admins) VALUES(?,?,?,?)")
        insertAudit = try database.prepare("INSERT INTO audit(at, actor, action, detail) VALUES(?,?,?,?)")
    }

    public func commit(_ changes: [StoreChange]) throws {
        try database.execute("BEGIN IMMEDIATE")
        do {
            var counters: DeskCounters?
            for change in changes {
                switch change {
                case .order(let order):
                    try upsertOrder.run(StoreRows.order(order))
                    for hold in order.holds { try upsertHold.run(StoreRows.hold(hold, of: order.number)) }
                case .orderState(let number, let state): try updateOrderState.run(StoreRows.state(state, of: number))
                case .hold(let number, let hold): try upsertHold.run(StoreRows.hold(hold, of: number))
                case .note(let number, let sequence, let note): try insertNote.run(StoreRows.note(note, of: number) + [.integer(sequence)])
                case .history(let number, let sequence, let entry):
                    try insertHistory.run(StoreRows.history(entry, of: number) + [.integer(sequence)])
                case .user(let user): try upsertUser.run(StoreRows.user(user))
                case .counters(let latest): counters = latest
                case .mailbox(let user, let entry): try upsertMailbox.run(StoreRows.mailbox(entry, of: user))
                case .membership(let user, let kind, let name, let isMember):
                    try (isMember ? insertMembership : deleteMembership).run([.text(user), .text(kind), .text(name)])
                case .thresholds(let queue, let value): try upsertThresholds.run(StoreRows.thresholds(value, of: queue))
                case .audit(let entry): try insertAudit.run(StoreRows.audit(entry))
                case .away: break  // a restart forgets who was away (a cluster keeps it: PostgresStore)
                }
            }
            if let counters {
                for row in StoreRows.counters(counters) { try upsertMeta.run([.text(row.key), row.value]) }
            }
            try database.execute("COMMIT")
        } catch {
            try? database.execute("ROLLBACK")
            throw error
        }
    }

    public func load() throws -> DeskSnapshot {
        var snapshot = DeskSnapshot()
        let meta = try database.prepare("SELECT key, value FROM meta")
        while try meta.step() { StoreRows.read(meta: meta.text(0), value: meta.int(1), into: &snapshot.counters) }
        let users = try database.prepare(hasUserStates ? "SELECT \(StoreRows.userColumns) FROM users"
                                                        : "SELECT name, role, salt, hash, iterations, 0, NULL FROM users")
        while try users.step() { snapshot.users.append(try StoreRows.user(from: users)) }
        var holds: [String: [Hold]] = [:]
        let holdRows = try database.prepare(StoreRows.selectHolds)
        while try holdRows.step() {
            let (number, hold) = try StoreRows.hold(from: holdRows)
            holds[number, default: []].append(hold)
        }
        // Notes and history of finished (shipped, cancelled) orders stay on disk: `thread(of:)`
        // reads them when someone looks. That keeps a restart fast however long the past.
        snapshot.orders = try OrderRowReader.orders(
            from: try database.prepare(OrderRowReader.select), count: Int(try largestRowID("orders")), holds: holds,
            notes: try database.prepare(OrderRowReader.selectNotes(where: threadKey.condition)),
            history: try database.prepare(OrderRowReader.selectHistory(where: threadKey.condition)), by: threadKey)
        try loadMailboxes(into: &snapshot)
        let memberships = try database.prepare("SELECT user, kind, name FROM memberships")
        while try memberships.step() { snapshot.memberships.append((memberships.text(0), memberships.text(1), memberships.text(2))) }
        let thresholds = try database.prepare("SELECT queue, warning, stuck, admins FROM thresholds")
        while try thresholds.step() {
            guard let queue = QueueName(wireName: thresholds.text(0)) else { continue }
            snapshot.thresholds[queue] = EscalationThresholds(warning: Milliseconds(thresholds.int(1)), stuck: Milliseconds(thresholds.int(2)),
                                                              admins: Milliseconds(thresholds.int(3)))
        }
        return snapshot
    }

    /// Loads each user's newest `Mailbox.capacity` events with one index range scan per user.
    /// Older rows stay on disk until `maintain` drops them; RESUME from before the oldest
    /// loaded event says it is incomplete.
    private func loadMailboxes(into snapshot: inout DeskSnapshot) throws {
        var dropped: [String: UInt64] = [:]
        let droppedRows = try database.prepare("SELECT user, through FROM mailbox_dropped")
        while try droppedRows.step() { dropped[droppedRows.text(0)] = UInt64(clamping: droppedRows.int(1)) }
        let rows = try database.prepare("""
            SELECT id, at, kind, line, personal, read, delivered FROM mailbox WHERE user=? ORDER BY id DESC LIMIT \(Mailbox.capacity)
            """)
        for user in snapshot.users.map(\.name) {
            try rows.bind([.text(user)])
            var entries: [MailboxEntry] = []
            while try rows.step() { entries.append(try StoreRows.mailboxEntry(from: rows)) }
            rows.reset()
            snapshot.mailboxes[user] = StoreRows.mailbox(entries: entries.reversed(), droppedThrough: dropped[user] ?? 0)
        }
    }

    /// Drops mailbox events (and, when the setting says so, audit entries) older than their
    /// retention window, remembering per user the newest mailbox id dropped (so RESUME can tell
    /// it is incomplete). Runs on the store queue after start and then periodically.
    public func maintain(now: Instant) throws -> Bool {
        let slice = 5000
        if let keep = retention.audit {
            let cutoff = now.milliseconds - keep.value
            try database.execute("DELETE FROM audit WHERE id IN (SELECT id FROM audit WHERE at < \(cutoff) ORDER BY id LIMIT \(slice))")
            if sqlite3_changes(database.handle) >= slice { return true }
        }
        let cutoff = now.milliseconds - retention.mailboxes.value
        try database.execute("""
            BEGIN IMMEDIATE;
            CREATE TEMP TABLE IF NOT EXISTS expired(user TEXT, id INTEGER);
            DELETE FROM expired;
            INSERT INTO expired SELECT user, id FROM mailbox WHERE at < \(cutoff) LIMIT \(slice);
            INSERT INTO mailbox_dropped(user, through) SELECT user, MAX(id) FROM expired GROUP BY user
                ON CONFLICT(user) DO UPDATE SET through = MAX(through, excluded.through);
            DELETE FROM mailbox WHERE (user, id) IN (SELECT user, id FROM expired);
            COMMIT;
            """)
        return sqlite3_changes(database.handle) >= slice
    }

    /// The table's largest rowid: its row count, or more, for tables that never lose rows (orders),
    /// without `count`'s walk of the whole table.
    private func largestRowID(_ table: String) throws -> Int64 {
        let statement = try database.prepare("SELECT max(rowid) FROM \(table)")
        return try statement.step() ? statement.int(0) : 0
    }

    public func thread(of order: String) throws -> (notes: [Note], history: [HistoryEntry]) {
        try OrderRowReader.thread(notes: try database.prepare(OrderRowReader.selectNotes(where: threadKey.conditionByNumber)),
                                  history: try database.prepare(OrderRowReader.selectHistory(where: threadKey.conditionByNumber)),
                                  values: [.text(order)])
    }

    /// The schema version the file is at (`PRAGMA user_version`).
    public func schemaVersion() throws -> Int64 { try SchemaMigration.version(of: database) }

    /// Every audit entry, oldest first.
    func auditEntries() throws -> [AuditEntry] {
        try audit(AuditQuery(limit: Int.max)).records.reversed().map(\.entry)
    }

    public func audit(_ query: AuditQuery) throws -> AuditPage {
        // Only the filters given go into the SQL, so SQLite can use the (actor, id) and (action, id)
        // indexes. `rowid` is `id` from schema version 2 on, and the same order in version 1 files.
        var conditions: [String] = []
        var values: [StoreValue] = []
        if let user = query.user {
            conditions.append("actor = ?")
            values.append(.text(user))
        }
        if let action = query.action {
            conditions.append("action = ?")
            values.append(.text(action))
        }
        let filters = values
        if let before = query.before {
            conditions.append("rowid < ?")
            values.append(.integer(Int64(clamping: before)))
        }
        func clause(_ parts: [String]) -> String { parts.isEmpty ? "" : " WHERE " + parts.joined(separator: " AND ") }
        let rows = try database.prepare("SELECT rowid, at, actor, action, detail FROM audit" + clause(conditions) + " ORDER BY rowid DESC LIMIT ?")
        // One row past the limit tells whether older entries remain.
        let (fetch, overflow) = Int64(clamping: query.limit).addingReportingOverflow(1)
        try rows.bind(values + [.integer(overflow ? Int64.max : fetch)])
        var records: [AuditRecord] = []
        while try rows.step() {
            records.append(AuditRecord(id: UInt64(clamping: rows.int(0)), entry: AuditEntry(
                at: Instant(milliseconds: rows.int(1)), actor: rows.text(2), action: rows.text(3), detail: rows.text(4))))
        }
        let hasMore = records.count > query.limit
        if hasMore { records.removeLast() }
        let counting = try database.prepare("SELECT COUNT(*) FROM audit" + clause(Array(conditions.prefix(filters.count))))
        try counting.bind(filters)
        let total = try counting.step() ? Int(counting.int(0)) : 0
        return AuditPage(records: records, total: total, hasMore: hasMore)
    }

    /// Notes and history rows of an order that exists, filed under another sequence than the
    /// order's (schema version 4 on), per table: the order's thread does not show them. Older
    /// files file threads by number and have none.
    public func threadRowsMisfiled() throws -> [(String, Int64)] {
        guard threadKey == .sequence else { return [] }
        return try ["notes", "history"].map { table in
            let statement = try database.prepare(
                "SELECT COUNT(*) FROM \(table) t JOIN orders o ON o.number = t.order_number WHERE t.order_sequence IS NOT o.sequence")
            return (table, try statement.step() ? statement.int(0) : 0)
        }
    }

    /// Rows of holds, notes and history whose order does not exist, per table.
    public func rowsWithoutOrder() throws -> [(String, Int64)] {
        try ["holds", "notes", "history"].map { table in
            let statement = try database.prepare("SELECT COUNT(*) FROM \(table) WHERE order_number NOT IN (SELECT number FROM orders)")
            return (table, try statement.step() ? statement.int(0) : 0)
        }
    }

    /// Runs `PRAGMA integrity_check`; returns "ok" for a sound file.
    public func integrityCheck() throws -> String {
        let statement = try database.prepare("PRAGMA integrity_check")
        var result: [String] = []
        while try statement.step() { result.append(statement.text(0)) }
        return result.joined(separator: "; ")
    }
}

extension SQLiteStore {
    /// How long the store keeps mailbox events and audit entries; `orderdesk serve
    /// --mailbox-retention-days` and `--audit-retention-days` set it.
    public struct Retention: Sendable, Equatable {
        /// Mailbox events older than this are dropped (default 14 days).
        public var mailboxes: Milliseconds
        /// Audit entries older than this are dropped; nil (the default) keeps them for as long
        /// as the orders, which are never dropped.
        public var audit: Milliseconds?

        public init(mailboxes: Milliseconds = Milliseconds(14 * 86_400_000), audit: Milliseconds? = nil) {
            self.mailboxes = mailboxes
            self.audit = audit
        }
    }
}
