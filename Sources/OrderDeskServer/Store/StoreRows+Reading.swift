import OrderDeskCore

/// A result row as both stores read it: columns by 0-based index in the order the SELECT names them.
/// SQLite's statement reads a boolean from 0/1 and never throws; PostgreSQL's row throws on a NULL
/// where a value must be, and on text that is not the column's type.
protocol StoreRow {
    func text(_ column: Int) throws -> String
    func optionalText(_ column: Int) throws -> String?
    func integer(_ column: Int) throws -> Int64
    func optionalInteger(_ column: Int) throws -> Int64?
    func boolean(_ column: Int) throws -> Bool
    func binary(_ column: Int) throws -> [UInt8]
}

/// Reading back what `StoreRows` writes, the same for every store: an order from its
/// `orderColumns`, a hold from its `holdColumns`, a user and a mailbox.
extension StoreRows {
    /// `SELECT <orderColumns> FROM orders ORDER BY sequence`: every order in capture order.
    static let selectOrders = "SELECT \(orderColumns.joined(separator: ", ")) FROM orders ORDER BY sequence"

    /// `SELECT <holdColumns> FROM holds ORDER BY order_number, id`.
    static let selectHolds = "SELECT \(holdColumns.joined(separator: ", ")) FROM holds ORDER BY order_number, id"

    /// The users' columns, in the order `user(from:)` reads them.
    static let userColumns = "name, role, salt, hash, iterations, disabled, last_login"

    /// An order from a row of `selectOrders`, with the holds and thread the store read apart.
    /// A finished order loads archived: its thread stays in the store until someone looks.
    static func order(from row: some StoreRow, holds: [Hold], notes: [Note], history: [HistoryEntry]) throws -> Order {
        let number = try row.text(0)
        guard let priority = Priority(rawValue: try row.text(6)), let stage = Stage(rawValue: try row.text(8)) else {
            throw StoreError.corrupt("priority or stage of \(number)")
        }
        var claim = ClaimState.unclaimed
        if let holder = try row.optionalText(13) {
            claim = .claimed(Lease(holder: holder, token: try StoreEncoding.unsigned(try row.integer(14), "claim token of \(number)"), since: Instant(milliseconds: try row.integer(15)),
                                   expires: Instant(milliseconds: try row.integer(16)), isWarned: try row.boolean(17),
                                   graceEnds: try row.optionalInteger(18).map(Instant.init(milliseconds:))))
        }
        var release: (by: String, at: Instant)?
        if let by = try row.optionalText(20) { release = (by, Instant(milliseconds: try row.integer(21))) }
        return Order(
            number: number, customer: try row.text(2), rep: try row.text(3), purchaseOrder: try row.text(4),
            currency: try row.text(5), lines: try StoreEncoding.decodeLines(try row.text(11)), priority: priority,
            requestedShipDate: try row.optionalText(7), stage: stage, holds: holds, claim: claim,
            watchers: StoreEncoding.decodeWatchers(try row.text(12)), notes: notes, history: history,
            episodes: try StoreEncoding.decodeEpisodes(try row.text(19)), release: release,
            isArchived: stage.isTerminal, capturedAt: Instant(milliseconds: try row.integer(9)),
            stageChangedAt: Instant(milliseconds: try row.integer(10)), sequence: try row.integer(1))
    }

    /// A hold and its order's number from a row of `selectHolds`.
    static func hold(from row: some StoreRow) throws -> (order: String, hold: Hold) {
        guard let type = HoldType(rawValue: try row.text(2)) else { throw StoreError.corrupt("hold type \(try row.text(2))") }
        var status = Hold.Status.open
        if let by = try row.optionalText(6) {
            status = .released(by: by, at: Instant(milliseconds: try row.integer(7)), reason: try row.text(8))
        }
        return (try row.text(0), Hold(id: Int(try row.integer(1)), type: type, reason: try row.text(3), placedBy: try row.text(4),
                                      placedAt: Instant(milliseconds: try row.integer(5)), status: status))
    }

    /// Takes one `meta` row written by `counters(_:)` back (ids and tokens count from 1; other keys are left alone).
    static func read(meta key: String, value: Int64, into counters: inout DeskCounters) {
        switch key {
        case "next_token": counters.nextToken = UInt64(max(1, value))
        case "next_event_id": counters.nextEventID = UInt64(max(1, value))
        case "next_sequence": counters.nextSequence = value
        default: break
        }
    }

    /// A user from a row of `userColumns`.
    static func user(from row: some StoreRow) throws -> User {
        let name = try row.text(0)
        guard let role = Role(rawValue: try row.text(1)) else { throw StoreError.corrupt("role of \(name)") }
        return User(name: name, role: role,
                    credential: Credential(salt: try row.binary(2), hash: try row.binary(3), iterations: Int(try row.integer(4))),
                    isDisabled: try row.boolean(5), lastLogin: try row.optionalInteger(6).map { Instant(milliseconds: $0) })
    }

    /// A mailbox entry from `id, at, kind, line, personal, read, delivered`, starting at column `first`.
    static func mailboxEntry(from row: some StoreRow, startingAt first: Int = 0) throws -> MailboxEntry {
        MailboxEntry(id: try StoreEncoding.unsigned(try row.integer(first), "mailbox id"), at: Instant(milliseconds: try row.integer(first + 1)), kind: try row.text(first + 2),
                     line: try row.text(first + 3), isPersonal: try row.boolean(first + 4), isRead: try row.boolean(first + 5),
                     isDelivered: try row.boolean(first + 6))
    }

    /// A user's mailbox from its newest `Mailbox.capacity` entries (oldest first), or nil when
    /// it has none. A full load means older rows may remain: RESUME from before the oldest
    /// loaded one says it is incomplete.
    static func mailbox(entries: [MailboxEntry], droppedThrough: UInt64) -> Mailbox? {
        guard let oldest = entries.first else { return nil }
        var through = droppedThrough
        if entries.count == Mailbox.capacity, oldest.id > 0 { through = max(through, oldest.id - 1) }
        return Mailbox(entries: entries, droppedThrough: through)
    }
}

extension SQLiteStatement: StoreRow {
    func text(_ column: Int) -> String { text(Int32(column)) }
    func optionalText(_ column: Int) -> String? { optionalText(Int32(column)) }
    func integer(_ column: Int) -> Int64 { int(Int32(column)) }
    func optionalInteger(_ column: Int) -> Int64? { optionalInt(Int32(column)) }
    func boolean(_ column: Int) -> Bool { int(Int32(column)) != 0 }
    func binary(_ column: Int) -> [UInt8] { blob(Int32(column)) }
}

extension PostgresResult.Row: StoreRow {
    func binary(_ column: Int) throws -> [UInt8] { try bytea(column) }
}
