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
        } else {
            try DataFile.createIfMissing(path)
            database = try SQLiteDatabase(path: path)
            try database.execute("PRAGMA synchronous=FULL; PRAGMA foreign_keys=OFF;")
            try SchemaMigration.migrate(database, path: path, with: migrations)
            try database.execute("PRAGMA journal_mode=WAL")
        }
        upsertOrder = try database.prepare("""
            INSERT INTO orders(number, sequence, customer, rep, po, currency, priority, ship, stage, captured_at,
                stage_changed_at, lines, watchers, claim_holder, claim_token, claim_since, claim_expires, claim_warned, claim_grace,
                episodes, released_by, released_at)
            VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
            ON CONFLICT(number) DO UPDATE SET customer=excluded.customer, rep=excluded.rep, po=excluded.po,
                currency=excluded.currency, priority=excluded.priority, ship=excluded.ship, stage=excluded.stage,
                stage_changed_at=excluded.stage_changed_at, lines=excluded.lines, watchers=excluded.watchers,
                claim_holder=excluded.claim_holder, claim_token=excluded.claim_token, claim_since=excluded.claim_since,
                claim_expires=excluded.claim_expires, claim_warned=excluded.claim_warned, claim_grace=excluded.claim_grace,
                episodes=excluded.episodes, released_by=excluded.released_by, released_at=excluded.released_at
            """)
        updateOrderState = try database.prepare("""
            UPDATE orders SET stage=?, stage_changed_at=?, watchers=?, claim_holder=?, claim_token=?, claim_since=?,
                claim_expires=?, claim_warned=?, claim_grace=?, episodes=?, released_by=?, released_at=?
            WHERE number=?
            """)
        upsertHold = try database.prepare("""
            INSERT OR REPLACE INTO holds(order_number, id, type, reason, placed_by, placed_at, released_by, released_at, release_reason)
            VALUES(?,?,?,?,?,?,?,?,?)
            """)
        insertNote = try database.prepare("INSERT INTO notes(order_number, at, author, text) VALUES(?,?,?,?)")
        insertHistory = try database.prepare("INSERT INTO history(order_number, at, actor, action, detail) VALUES(?,?,?,?,?)")
        // A read-only store never writes: for an old file, a statement that prepares is enough.
        upsertUser = try database.prepare(hasUserStates
            ? "INSERT OR REPLACE INTO users(name, role, salt, hash, iterations, disabled, last_login) VALUES(?,?,?,?,?,?,?)"
            : "INSERT OR REPLACE INTO users(name, role, salt, hash, iterations) VALUES(?,?,?,?,?)")
        upsertMeta = try database.prepare("INSERT OR REPLACE INTO meta(key, value) VALUES(?,?)")
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
                case .order(let order): try write(order)
                case .orderState(let number, let state): try write(state, of: number)
                case .hold(let number, let hold): try write(hold, of: number)
                case .note(let number, let note):
                    try insertNote.run([.text(number), .integer(note.at.milliseconds), .text(note.author), .text(note.text)])
                case .history(let number, let entry):
                    try insertHistory.run([.text(number), .integer(entry.at.milliseconds), .text(entry.actor),
                                           .text(entry.action), .text(entry.detail)])
                case .user(let user):
                    try upsertUser.run([.text(user.name), .text(user.role.rawValue), .blob(user.credential.salt),
                                        .blob(user.credential.hash), .integer(Int64(user.credential.iterations)),
                                        .integer(user.isDisabled ? 1 : 0), .optional(user.lastLogin?.milliseconds)])
                case .counters(let latest): counters = latest
                case .mailbox(let user, let entry):
                    try upsertMailbox.run([.text(user), .integer(Int64(entry.id)), .integer(entry.at.milliseconds), .text(entry.kind),
                                           .text(entry.line), .integer(entry.isPersonal ? 1 : 0), .integer(entry.isRead ? 1 : 0),
                                           .integer(entry.isDelivered ? 1 : 0)])
                case .membership(let user, let kind, let name, let isMember):
                    try (isMember ? insertMembership : deleteMembership).run([.text(user), .text(kind), .text(name)])
                case .thresholds(let queue, let value):
                    try upsertThresholds.run([.text(queue.wireName), .integer(value.warning.value), .integer(value.stuck.value), .integer(value.admins.value)])
                case .audit(let entry):
                    try insertAudit.run([.integer(entry.at.milliseconds), .text(entry.actor), .text(entry.action), .text(entry.detail)])
                }
            }
            if let counters {
                try upsertMeta.run([.text("next_token"), .integer(Int64(counters.nextToken))])
                try upsertMeta.run([.text("next_event_id"), .integer(Int64(counters.nextEventID))])
                try upsertMeta.run([.text("next_sequence"), .integer(counters.nextSequence)])
            }
            try database.execute("COMMIT")
        } catch {
            try? database.execute("ROLLBACK")
            throw error
        }
    }

    private func write(_ order: Order) throws {
        let lease = order.lease
        try upsertOrder.run([
            .text(order.number), .integer(order.sequence), .text(order.customer), .text(order.rep), .text(order.purchaseOrder),
            .text(order.currency), .text(order.priority.rawValue), .optional(order.requestedShipDate), .text(order.stage.rawValue),
            .integer(order.capturedAt.milliseconds), .integer(order.stageChangedAt.milliseconds),
            .text(Self.encode(order.lines)), .text(order.watchers.sorted().joined(separator: " ")),
            .optional(lease?.holder), .optional(lease.map { Int64($0.token) }), .optional(lease?.since.milliseconds),
            .optional(lease?.expires.milliseconds), .optional(lease.map { $0.isWarned ? 1 : 0 }),
            .optional(lease?.graceEnds?.milliseconds), .text(Self.encode(order.episodes)),
            .optional(order.release?.by), .optional(order.release?.at.milliseconds),
        ])
        for hold in order.holds { try write(hold, of: order.number) }
    }

    /// Everything a change after capture touches, and nothing else (`StoreChange.orderState`).
    private func write(_ state: OrderState, of number: String) throws {
        let lease: Lease? = if case .claimed(let lease) = state.claim { lease } else { nil }
        try updateOrderState.run([
            .text(state.stage.rawValue), .integer(state.stageChangedAt.milliseconds), .text(state.watchers.sorted().joined(separator: " ")),
            .optional(lease?.holder), .optional(lease.map { Int64($0.token) }), .optional(lease?.since.milliseconds),
            .optional(lease?.expires.milliseconds), .optional(lease.map { $0.isWarned ? 1 : 0 }),
            .optional(lease?.graceEnds?.milliseconds), .text(Self.encode(state.episodes)),
            .optional(state.releasedBy), .optional(state.releasedAt?.milliseconds), .text(number),
        ])
    }

    private func write(_ hold: Hold, of number: String) throws {
        var released: (String, Int64, String)?
        if case .released(let by, let at, let reason) = hold.status { released = (by, at.milliseconds, reason) }
        try upsertHold.run([
            .text(number), .integer(Int64(hold.id)), .text(hold.type.rawValue), .text(hold.reason), .text(hold.placedBy),
            .integer(hold.placedAt.milliseconds), .optional(released?.0), .optional(released?.1), .optional(released?.2),
        ])
    }

    /// Lines as `sku:qty:cents` joined by commas; SKUs never hold `:` or `,` (the CAPTURE syntax forbids them).
    static func encode(_ lines: [OrderLine]) -> String {
        lines.map { "\($0.sku):\($0.quantity):\($0.unitPrice.cents)" }.joined(separator: ",")
    }

    /// Episodes as `queue@since@level` joined by `;`.
    static func encode(_ episodes: [EscalationEpisode]) -> String {
        episodes.map { "\($0.queue.wireName)@\($0.since.milliseconds)@\($0.level.rawValue)" }.joined(separator: ";")
    }

    static func decodeEpisodes(_ text: String) throws -> [EscalationEpisode] {
        try text.split(separator: ";").map { item in
            let parts = item.split(separator: "@")
            guard parts.count == 3, let queue = QueueName(wireName: String(parts[0])), let since = Int64(parts[1]),
                  let rawLevel = Int(parts[2]), let level = EscalationLevel(rawValue: rawLevel) else {
                throw StoreError.corrupt("episode \(item)")
            }
            return EscalationEpisode(queue: queue, since: Instant(milliseconds: since), level: level)
        }
    }

    /// Reads `sku:qty:cents,...` byte by byte: a restart decodes a million of these.
    static func decodeLines(_ text: String) throws -> [OrderLine] {
        var text = text
        return try text.withUTF8 { try decodeLines($0) }
    }

    /// The same from the bytes of a column, without a `String` first (`OrderRowReader`).
    static func decodeLines(_ bytes: UnsafeBufferPointer<UInt8>) throws -> [OrderLine] {
        func corrupt() -> StoreError { StoreError.corrupt("order lines \(String(decoding: bytes, as: UTF8.self))") }
        var lines: [OrderLine] = []
        lines.reserveCapacity(bytes.isEmpty ? 0 : bytes.count(where: { $0 == UInt8(ascii: ",") }) + 1)
        var index = 0
        if bytes.last == UInt8(ascii: ",") { throw StoreError.corrupt("order lines end in a comma") }
        /// The digits at `index`, which must end at `terminator` (or at the end, for the last number).
        func number(endingAt terminator: UInt8) throws(StoreError) -> Int64 {
            var value: Int64 = 0
            var digits = 0
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
                value = value * 10 + Int64(bytes[index] - UInt8(ascii: "0"))
                index += 1
                digits += 1
            }
            guard digits > 0, index == bytes.count ? terminator == UInt8(ascii: ",") : bytes[index] == terminator else { throw corrupt() }
            index += 1
            return value
        }
        while index < bytes.count {
            let skuStart = index
            while index < bytes.count, bytes[index] != UInt8(ascii: ":") { index += 1 }
            let skuEnd = index
            index += 1
            let quantity = try number(endingAt: UInt8(ascii: ":"))
            let cents = try number(endingAt: UInt8(ascii: ","))
            guard skuEnd > skuStart else { throw corrupt() }
            lines.append(OrderLine(sku: String(decoding: UnsafeBufferPointer(rebasing: bytes[skuStart..<skuEnd]), as: UTF8.self),
                                   quantity: Int(quantity), unitPrice: Money(cents: cents)))
        }
        return lines
    }

    public func load() throws -> DeskSnapshot {
        var snapshot = DeskSnapshot()
        let meta = try database.prepare("SELECT key, value FROM meta")
        while try meta.step() {
            switch meta.text(0) {
            case "next_token": snapshot.counters.nextToken = UInt64(max(1, meta.int(1)))
            case "next_event_id": snapshot.counters.nextEventID = UInt64(max(1, meta.int(1)))
            case "next_sequence": snapshot.counters.nextSequence = meta.int(1)
            default: break
            }
        }
        let users = try database.prepare(hasUserStates ? "SELECT name, role, salt, hash, iterations, disabled, last_login FROM users"
                                                        : "SELECT name, role, salt, hash, iterations, 0, NULL FROM users")
        while try users.step() {
            guard let role = Role(rawValue: users.text(1)) else { throw StoreError.corrupt("role of \(users.text(0))") }
            snapshot.users.append(User(name: users.text(0), role: role,
                                       credential: Credential(salt: users.blob(2), hash: users.blob(3), iterations: Int(users.int(4))),
                                       isDisabled: users.int(5) != 0, lastLogin: users.optionalInt(6).map { Instant(milliseconds: $0) }))
        }
        var holds: [String: [Hold]] = [:]
        let holdRows = try database.prepare("""
            SELECT order_number, id, type, reason, placed_by, placed_at, released_by, released_at, release_reason
            FROM holds ORDER BY order_number, id
            """)
        while try holdRows.step() {
            guard let type = HoldType(rawValue: holdRows.text(2)) else { throw StoreError.corrupt("hold type \(holdRows.text(2))") }
            var status = Hold.Status.open
            if let by = holdRows.optionalText(6) {
                status = .released(by: by, at: Instant(milliseconds: holdRows.int(7)), reason: holdRows.text(8))
            }
            holds[holdRows.text(0), default: []].append(Hold(id: Int(holdRows.int(1)), type: type, reason: holdRows.text(3),
                                                             placedBy: holdRows.text(4), placedAt: Instant(milliseconds: holdRows.int(5)),
                                                             status: status))
        }
        // Notes and history of finished (shipped, cancelled) orders stay on disk: `thread(of:)`
        // reads them when someone looks. That keeps a restart fast however long the past.
        snapshot.orders = try OrderRowReader.orders(
            from: try database.prepare(OrderRowReader.select), count: Int(try largestRowID("orders")), holds: holds,
            notes: try database.prepare(OrderRowReader.selectNotes), history: try database.prepare(OrderRowReader.selectHistory))
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
        while try droppedRows.step() { dropped[droppedRows.text(0)] = UInt64(droppedRows.int(1)) }
        let rows = try database.prepare("""
            SELECT id, at, kind, line, personal, read, delivered FROM mailbox WHERE user=? ORDER BY id DESC LIMIT \(Mailbox.capacity)
            """)
        for user in snapshot.users.map(\.name) {
            try rows.bind([.text(user)])
            var entries: [MailboxEntry] = []
            while try rows.step() {
                entries.append(MailboxEntry(
                    id: UInt64(rows.int(0)), at: Instant(milliseconds: rows.int(1)), kind: rows.text(2), line: rows.text(3),
                    isPersonal: rows.int(4) != 0, isRead: rows.int(5) != 0, isDelivered: rows.int(6) != 0))
            }
            rows.reset()
            guard !entries.isEmpty else { continue }
            var droppedThrough = dropped[user] ?? 0
            if entries.count == Mailbox.capacity, let oldest = entries.last { droppedThrough = max(droppedThrough, oldest.id - 1) }
            snapshot.mailboxes[user] = Mailbox(entries: entries.reversed(), droppedThrough: droppedThrough)
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
        var notes: [Note] = []
        let noteRows = try database.prepare("SELECT at, author, text FROM notes WHERE order_number=? ORDER BY rowid")
        try noteRows.bind([.text(order)])
        while try noteRows.step() { notes.append(Note(author: noteRows.text(1), at: Instant(milliseconds: noteRows.int(0)), text: noteRows.text(2))) }
        var history: [HistoryEntry] = []
        let historyRows = try database.prepare("SELECT at, actor, action, detail FROM history WHERE order_number=? ORDER BY rowid")
        try historyRows.bind([.text(order)])
        while try historyRows.step() {
            history.append(HistoryEntry(at: Instant(milliseconds: historyRows.int(0)), actor: historyRows.text(1), action: historyRows.text(2), detail: historyRows.text(3)))
        }
        return (notes, history)
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
        var values: [SQLiteValue] = []
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
