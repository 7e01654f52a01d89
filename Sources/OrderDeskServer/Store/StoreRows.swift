import OrderDeskCore

/// A statement parameter, bound the same way by both stores: SQLite writes a boolean as the
/// integer 0 or 1 and bytes as a blob, PostgreSQL as `boolean` and `bytea`.
enum StoreValue {
    case null
    case integer(Int64)
    case text(String)
    case bytes([UInt8])
    case boolean(Bool)

    static func optional(_ text: String?) -> StoreValue { text.map(StoreValue.text) ?? .null }
    static func optional(_ number: Int64?) -> StoreValue { number.map(StoreValue.integer) ?? .null }
    static func optional(_ flag: Bool?) -> StoreValue { flag.map(StoreValue.boolean) ?? .null }
}

/// What every store writes for a `StoreChange`: the row's values, and for the wide order and hold
/// rows the statement too, so the SQLite and PostgreSQL stores cannot disagree on a column or its
/// place. The two schemas name these columns alike; each store passes its own placeholders.
/// The values of the narrower rows follow the column order each store's statement names.
enum StoreRows {
    /// How a dialect spells the n-th parameter (from 1): SQLite `?`, PostgreSQL `$n`.
    typealias Placeholder = (Int) -> String

    // MARK: Orders

    /// The order row's columns; `number` is the key.
    static let orderColumns = [
        "number", "sequence", "customer", "rep", "po", "currency", "priority", "ship", "stage", "captured_at",
        "stage_changed_at", "lines", "watchers", "claim_holder", "claim_token", "claim_since", "claim_expires", "claim_warned",
        "claim_grace", "episodes", "released_by", "released_at",
    ]

    /// Inserts an order, or on a second capture of its number rewrites all but its sequence and capture instant.
    static func upsertOrder(_ placeholder: Placeholder) -> String {
        let kept: Set = ["number", "sequence", "captured_at"]
        return upsert(table: "orders", columns: orderColumns, key: ["number"],
                      updating: orderColumns.filter { !kept.contains($0) }, placeholder)
    }

    /// An order's values in `orderColumns` order.
    static func order(_ order: Order) -> [StoreValue] {
        [.text(order.number), .integer(order.sequence), .text(order.customer), .text(order.rep), .text(order.purchaseOrder),
         .text(order.currency), .text(order.priority.rawValue), .optional(order.requestedShipDate), .text(order.stage.rawValue),
         .integer(order.capturedAt.milliseconds), .integer(order.stageChangedAt.milliseconds),
         .text(StoreEncoding.encode(order.lines)), .text(StoreEncoding.encode(watchers: order.watchers))]
            + claim(order.claim)
            + [.text(StoreEncoding.encode(order.episodes)), .optional(order.release?.by), .optional(order.release?.at.milliseconds)]
    }

    /// What a change after capture writes (`StoreChange.orderState`): these columns and nothing else.
    static let stateColumns = [
        "stage", "stage_changed_at", "watchers", "claim_holder", "claim_token", "claim_since", "claim_expires", "claim_warned",
        "claim_grace", "episodes", "released_by", "released_at",
    ]

    /// One UPDATE of `stateColumns` by number: an order that does not exist gets no row.
    static func updateOrderState(_ placeholder: Placeholder) -> String {
        let assignments = stateColumns.enumerated().map { "\($0.element)=\(placeholder($0.offset + 1))" }
        return "UPDATE orders SET \(assignments.joined(separator: ", ")) WHERE number=\(placeholder(stateColumns.count + 1))"
    }

    /// A state's values in `stateColumns` order, then the order's number.
    static func state(_ state: OrderState, of number: String) -> [StoreValue] {
        [.text(state.stage.rawValue), .integer(state.stageChangedAt.milliseconds), .text(StoreEncoding.encode(watchers: state.watchers))]
            + claim(state.claim)
            + [.text(StoreEncoding.encode(state.episodes)), .optional(state.releasedBy), .optional(state.releasedAt?.milliseconds),
               .text(number)]
    }

    /// The six claim columns: all NULL when unclaimed.
    private static func claim(_ claim: ClaimState) -> [StoreValue] {
        guard case .claimed(let lease) = claim else { return Array(repeating: .null, count: 6) }
        return [.text(lease.holder), .integer(Int64(lease.token)), .integer(lease.since.milliseconds), .integer(lease.expires.milliseconds),
                .boolean(lease.isWarned), .optional(lease.graceEnds?.milliseconds)]
    }

    // MARK: Holds

    static let holdColumns = ["order_number", "id", "type", "reason", "placed_by", "placed_at", "released_by", "released_at", "release_reason"]

    /// A hold placed or released: its whole row, inserted or rewritten in place.
    static func upsertHold(_ placeholder: Placeholder) -> String {
        upsert(table: "holds", columns: holdColumns, key: ["order_number", "id"], updating: Array(holdColumns.dropFirst(2)), placeholder)
    }

    /// A hold's values in `holdColumns` order.
    static func hold(_ hold: Hold, of number: String) -> [StoreValue] {
        var released: [StoreValue] = [.null, .null, .null]
        if case .released(let by, let at, let reason) = hold.status { released = [.text(by), .integer(at.milliseconds), .text(reason)] }
        return [.text(number), .integer(Int64(hold.id)), .text(hold.type.rawValue), .text(hold.reason), .text(hold.placedBy),
                .integer(hold.placedAt.milliseconds)] + released
    }

    // MARK: The narrower rows

    /// (order, at, author, text)
    static func note(_ note: Note, of number: String) -> [StoreValue] {
        [.text(number), .integer(note.at.milliseconds), .text(note.author), .text(note.text)]
    }

    /// (order, at, actor, action, detail)
    static func history(_ entry: HistoryEntry, of number: String) -> [StoreValue] {
        [.text(number), .integer(entry.at.milliseconds), .text(entry.actor), .text(entry.action), .text(entry.detail)]
    }

    /// (name, role, salt, hash, iterations, disabled, last login)
    static func user(_ user: User) -> [StoreValue] {
        [.text(user.name), .text(user.role.rawValue), .bytes(user.credential.salt), .bytes(user.credential.hash),
         .integer(Int64(user.credential.iterations)), .boolean(user.isDisabled), .optional(user.lastLogin?.milliseconds)]
    }

    /// (user, id, at, kind, line, personal, read, delivered)
    static func mailbox(_ entry: MailboxEntry, of user: String) -> [StoreValue] {
        [.text(user), .integer(Int64(entry.id)), .integer(entry.at.milliseconds), .text(entry.kind), .text(entry.line),
         .boolean(entry.isPersonal), .boolean(entry.isRead), .boolean(entry.isDelivered)]
    }

    /// (queue, warning, stuck, admins)
    static func thresholds(_ value: EscalationThresholds, of queue: QueueName) -> [StoreValue] {
        [.text(queue.wireName), .integer(value.warning.value), .integer(value.stuck.value), .integer(value.admins.value)]
    }

    /// (at, actor, action, detail)
    static func audit(_ entry: AuditEntry) -> [StoreValue] {
        [.integer(entry.at.milliseconds), .text(entry.actor), .text(entry.action), .text(entry.detail)]
    }

    /// The meta table's (key, value) rows for the desk's counters.
    static func counters(_ counters: DeskCounters) -> [(key: String, value: StoreValue)] {
        [("next_token", .integer(Int64(counters.nextToken))), ("next_event_id", .integer(Int64(counters.nextEventID))),
         ("next_sequence", .integer(counters.nextSequence))]
    }

    /// `INSERT ... ON CONFLICT(key) DO UPDATE SET` the `updating` columns: the same text in SQLite (3.24 and later) and PostgreSQL.
    private static func upsert(table: String, columns: [String], key: [String], updating: [String], _ placeholder: Placeholder) -> String {
        """
        INSERT INTO \(table)(\(columns.joined(separator: ", "))) VALUES(\(columns.indices.map { placeholder($0 + 1) }.joined(separator: ",")))
        ON CONFLICT(\(key.joined(separator: ", "))) DO UPDATE SET \(updating.map { "\($0)=excluded.\($0)" }.joined(separator: ", "))
        """
    }
}
