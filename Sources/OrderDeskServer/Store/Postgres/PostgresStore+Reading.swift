import OrderDeskCore

/// Loading the desk, threads and the audit trail, and the retention housekeeping: the SQLite
/// store's reads, row for row.
extension PostgresStore {
    public func load() throws -> DeskSnapshot {
        let connection = try session()
        // One snapshot for every read, so the desk is rebuilt from one instant of the database.
        return try connection.transaction(begin: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") { try load(on: connection) }
    }

    func load(on connection: PostgresConnection) throws -> DeskSnapshot {
        var snapshot = DeskSnapshot()
        for row in try connection.execute("SELECT key, value FROM meta").rows {
            StoreRows.read(meta: try row.text(0), value: try row.integer(1), into: &snapshot.counters)
        }
        for row in try connection.execute("SELECT \(StoreRows.userColumns) FROM users").rows {
            snapshot.users.append(try StoreRows.user(from: row))
        }
        var holds: [String: [Hold]] = [:]
        for row in try connection.execute(StoreRows.selectHolds).rows {
            let (number, hold) = try StoreRows.hold(from: row)
            holds[number, default: []].append(hold)
        }
        // As in SQLite: the threads of finished orders stay in the database until someone looks.
        let openOrders = "SELECT number FROM orders WHERE stage IN ('captured','released')"
        var notes: [String: [Note]] = [:]
        for row in try connection.execute("SELECT order_number, at, author, text FROM notes WHERE order_number IN (\(openOrders)) ORDER BY id").rows {
            notes[try row.text(0), default: []].append(Note(author: try row.text(2), at: Instant(milliseconds: try row.integer(1)), text: try row.text(3)))
        }
        var history: [String: [HistoryEntry]] = [:]
        let historyRows = try connection.execute(
            "SELECT order_number, at, actor, action, detail FROM history WHERE order_number IN (\(openOrders)) ORDER BY id")
        for row in historyRows.rows {
            history[try row.text(0), default: []].append(HistoryEntry(at: Instant(milliseconds: try row.integer(1)), actor: try row.text(2),
                                                                      action: try row.text(3), detail: try row.text(4)))
        }
        let orderRows = try connection.execute(StoreRows.selectOrders)
        snapshot.orders.reserveCapacity(orderRows.rowCount)
        for row in orderRows.rows {
            let number = try row.text(0)
            snapshot.orders.append(try StoreRows.order(from: row, holds: holds[number] ?? [], notes: notes[number] ?? [],
                                                       history: history[number] ?? []))
        }
        try loadMailboxes(into: &snapshot, on: connection)
        for row in try connection.execute("SELECT user_name, kind, name FROM memberships").rows {
            snapshot.memberships.append((try row.text(0), try row.text(1), try row.text(2)))
        }
        for row in try connection.execute("SELECT queue, warning, stuck, admins FROM thresholds").rows {
            guard let queue = QueueName(wireName: try row.text(0)) else { continue }
            snapshot.thresholds[queue] = EscalationThresholds(warning: Milliseconds(try row.integer(1)), stuck: Milliseconds(try row.integer(2)),
                                                              admins: Milliseconds(try row.integer(3)))
        }
        return snapshot
    }

    /// Each user's newest `Mailbox.capacity` events in one query; older rows stay until
    /// `maintain` drops them, and RESUME from before the oldest loaded one says it is incomplete.
    private func loadMailboxes(into snapshot: inout DeskSnapshot, on connection: PostgresConnection) throws {
        var dropped: [String: UInt64] = [:]
        for row in try connection.execute("SELECT user_name, through FROM mailbox_dropped").rows {
            dropped[try row.text(0)] = UInt64(clamping: try row.integer(1))
        }
        let rows = try connection.execute("""
            SELECT user_name, id, at, kind, line, personal, read, delivered FROM (
                SELECT *, row_number() OVER (PARTITION BY user_name ORDER BY id DESC) AS newness FROM mailbox) AS ranked
            WHERE newness <= $1 ORDER BY user_name, id
            """, [.integer(Int64(Mailbox.capacity))])
        var entries: [String: [MailboxEntry]] = [:]
        for row in rows.rows { entries[try row.text(0), default: []].append(try StoreRows.mailboxEntry(from: row, startingAt: 1)) }
        for user in snapshot.users.map(\.name) {
            snapshot.mailboxes[user] = StoreRows.mailbox(entries: entries[user] ?? [], droppedThrough: dropped[user] ?? 0)
        }
    }

    public func thread(of order: String) throws -> (notes: [Note], history: [HistoryEntry]) {
        let connection = try session()
        let notes = try connection.execute("SELECT at, author, text FROM notes WHERE order_number=$1 ORDER BY id", [.text(order)]).rows.map { row in
            Note(author: try row.text(1), at: Instant(milliseconds: try row.integer(0)), text: try row.text(2))
        }
        let history = try connection.execute("SELECT at, actor, action, detail FROM history WHERE order_number=$1 ORDER BY id",
                                             [.text(order)]).rows.map { row in
            HistoryEntry(at: Instant(milliseconds: try row.integer(0)), actor: try row.text(1), action: try row.text(2), detail: try row.text(3))
        }
        return (notes, history)
    }

    public func audit(_ query: AuditQuery) throws -> AuditPage {
        let connection = try session()
        var conditions: [String] = []
        var values: [StoreValue] = []
        if let user = query.user {
            values.append(.text(user))
            conditions.append("actor = $\(values.count)")
        }
        if let action = query.action {
            values.append(.text(action))
            conditions.append("action = $\(values.count)")
        }
        let filters = values
        if let before = query.before {
            values.append(.integer(Int64(clamping: before)))
            conditions.append("id < $\(values.count)")
        }
        func clause(_ parts: [String]) -> String { parts.isEmpty ? "" : " WHERE " + parts.joined(separator: " AND ") }
        // One row past the limit tells whether older entries remain.
        let (fetch, overflow) = Int64(clamping: query.limit).addingReportingOverflow(1)
        values.append(.integer(overflow ? Int64.max : fetch))
        let rows = try connection.execute("SELECT id, at, actor, action, detail FROM audit" + clause(conditions)
                                          + " ORDER BY id DESC LIMIT $\(values.count)", values)
        var records = try rows.rows.map { row in
            AuditRecord(id: UInt64(clamping: try row.integer(0)), entry: AuditEntry(
                at: Instant(milliseconds: try row.integer(1)), actor: try row.text(2), action: try row.text(3), detail: try row.text(4)))
        }
        let hasMore = records.count > query.limit
        if hasMore { records.removeLast() }
        let total = try connection.execute("SELECT COUNT(*) FROM audit" + clause(Array(conditions.prefix(filters.count))), filters)
            .single().integer(0)
        return AuditPage(records: records, total: Int(total), hasMore: hasMore)
    }

    /// Drops mailbox events (and, when the setting says so, audit entries) older than their
    /// retention window, a slice at a time, remembering per user the newest mailbox id dropped.
    /// Each slice is one statement, so one transaction.
    public func maintain(now: Instant) throws -> Bool {
        let connection = try session()
        if node.cluster != nil { try trimLog() }
        let slice: Int64 = 5000
        if let keep = retention.audit {
            let deleted = try connection.execute("DELETE FROM audit WHERE id IN (SELECT id FROM audit WHERE at < $1 ORDER BY id LIMIT $2)",
                                                 [.integer(now.milliseconds - keep.value), .integer(slice)]).affectedRows
            if deleted >= slice { return true }
        }
        let expired = try connection.execute("""
            WITH expired AS (
                DELETE FROM mailbox WHERE (user_name, id) IN (SELECT user_name, id FROM mailbox WHERE at < $1 LIMIT $2)
                RETURNING user_name, id),
            noted AS (
                INSERT INTO mailbox_dropped(user_name, through) SELECT user_name, MAX(id) FROM expired GROUP BY user_name
                ON CONFLICT(user_name) DO UPDATE SET through = GREATEST(mailbox_dropped.through, excluded.through))
            SELECT COUNT(*) FROM expired
            """, [.integer(now.milliseconds - retention.mailboxes.value), .integer(slice)]).single().integer(0)
        return expired >= slice
    }
}
