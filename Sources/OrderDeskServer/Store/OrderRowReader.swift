import OrderDeskCore
#if canImport(Glibc)
import Glibc
#endif

/// Reads the `orders` table into `Order` values for a restart, which reads every order the
/// desk ever had (a million and more).
///
/// One statement streamed in rowid order (capture order, so no sort of the table; a file whose
/// rows are out of sequence order is sorted afterwards). Columns are decoded from SQLite's bytes:
/// stage and priority without a `String`, and values many orders repeat (a watcher list, a rep,
/// a long customer name) are built once and shared by the orders that have them (Swift's
/// copy-on-write keeps each order's value its own). Notes and history are read, by index, only
/// for orders not yet finished: finished ones are archived, their threads left on disk.
struct OrderRowReader {
    /// The columns both stores read (`StoreRows.orderColumns`), in rowid order: no sort.
    static let select = "SELECT \(StoreRows.orderColumns.joined(separator: ", ")) FROM orders ORDER BY rowid"
    /// An order's notes and history, in the order they were written, where `condition` holds
    /// (a `ThreadKey`'s: by sequence from schema version 4 on, by number in an older file).
    static func selectNotes(where condition: String) -> String { "SELECT at, author, text FROM notes WHERE \(condition) ORDER BY rowid" }
    static func selectHistory(where condition: String) -> String {
        "SELECT at, actor, action, detail FROM history WHERE \(condition) ORDER BY rowid"
    }

    /// One order's thread: `notes` and `history` (prepared from `selectNotes` and `selectHistory`)
    /// run with `values` bound to their condition, and reset for the next order.
    static func thread(notes noteRows: SQLiteStatement, history historyRows: SQLiteStatement,
                       values: [StoreValue]) throws -> (notes: [Note], history: [HistoryEntry]) {
        var notes: [Note] = []
        try noteRows.bind(values)
        while try noteRows.step() {
            notes.append(Note(author: noteRows.text(1), at: Instant(milliseconds: noteRows.int(0)), text: noteRows.text(2)))
        }
        noteRows.reset()
        var history: [HistoryEntry] = []
        try historyRows.bind(values)
        while try historyRows.step() {
            history.append(HistoryEntry(at: Instant(milliseconds: historyRows.int(0)), actor: historyRows.text(1),
                                        action: historyRows.text(2), detail: historyRows.text(3)))
        }
        historyRows.reset()
        return (notes, history)
    }

    /// What a file files an order's thread under (`SchemaMigration.version4`).
    enum ThreadKey {
        case sequence
        case number

        /// The condition on a thread row, its parameters from `values`. The number is checked as
        /// well as the sequence (which the index finds): a damaged file can give two orders one
        /// sequence (`check` reports it), and their threads must stay apart.
        var condition: String { self == .sequence ? "order_sequence=? AND order_number=?" : "order_number=?" }

        /// The same condition with the order's number as its only parameter, whatever the key.
        var conditionByNumber: String {
            self == .sequence ? "order_sequence=(SELECT sequence FROM orders WHERE number=?1) AND order_number=?1" : "order_number=?1"
        }

        /// The parameters of `condition` for an order.
        func values(number: String, sequence: Int64) -> [StoreValue] { self == .sequence ? [.integer(sequence), .text(number)] : [.text(number)] }
    }

    /// Distinct values kept for sharing, at most; past it, values are built per order.
    private static let sharingLimit = 4096
    private var watcherSets: [String: Set<String>] = [:]
    /// The previous row's watcher list, as bytes and as a set: consecutive orders often share it.
    private var lastWatchers: (bytes: [UInt8], set: Set<String>) = ([], [])
    private var texts: [String: String] = [:]
    /// Each column's text in the previous row, as bytes and as a `String` (rep, currency and the
    /// releaser are often the same from one order to the next).
    private var lastTexts = [(bytes: [UInt8], text: String)?](repeating: nil, count: StoreRows.orderColumns.count)
    static let stages: [(text: StaticString, value: Stage)] = [
        ("captured", .captured), ("released", .released), ("shipped", .shipped), ("cancelled", .cancelled),
    ]
    static let priorities: [(text: StaticString, value: Priority)] = [
        ("urgent", .urgent), ("high", .high), ("normal", .normal), ("low", .low),
    ]

    /// Every row of `rows` (prepared from `select`) as an order, in sequence order; `holds` by
    /// order number; `notes` and `history` prepared from `selectNotes` and `selectHistory` with `key.condition`.
    static func orders(from rows: SQLiteStatement, count: Int, holds: [String: [Hold]],
                       notes: SQLiteStatement, history: SQLiteStatement, by key: ThreadKey) throws -> [Order] {
        var reader = OrderRowReader()
        var orders: [Order] = []
        // `count` comes from the file (its largest rowid): a guide, never trusted with memory.
        orders.reserveCapacity(min(max(0, count), 1 << 22))
        var isInSequence = true
        var lastSequence = Int64.min
        while try rows.step() {
            let sequence = rows.int(1)
            if sequence < lastSequence { isInSequence = false }
            lastSequence = sequence
            orders.append(try reader.order(from: rows, holds: holds, notes: notes, history: history, by: key))
        }
        if !isInSequence { orders.sort { $0.sequence < $1.sequence } }
        return orders
    }

    private mutating func order(from row: SQLiteStatement, holds: [String: [Hold]],
                                notes noteRows: SQLiteStatement, history historyRows: SQLiteStatement, by key: ThreadKey) throws -> Order {
        let number = row.text(0)
        guard let priority = Self.match(row.textBytes(6), in: Self.priorities), let stage = Self.match(row.textBytes(8), in: Self.stages) else {
            throw StoreError.corrupt("priority or stage of \(number)")
        }
        var claim = ClaimState.unclaimed
        if !row.isNull(13) {
            claim = .claimed(Lease(holder: shared(row, 13), token: try StoreEncoding.unsigned(row.int(14), "claim token of \(number)"), since: Instant(milliseconds: row.int(15)),
                                   expires: Instant(milliseconds: row.int(16)), isWarned: row.int(17) != 0,
                                   graceEnds: row.optionalInt(18).map(Instant.init(milliseconds:))))
        }
        var (notes, history): ([Note], [HistoryEntry]) = ([], [])
        if !stage.isTerminal {
            (notes, history) = try Self.thread(notes: noteRows, history: historyRows, values: key.values(number: number, sequence: row.int(1)))
        }
        return Order(
            number: number, customer: shared(row, 2), rep: shared(row, 3), purchaseOrder: row.text(4),
            currency: shared(row, 5), lines: try StoreEncoding.decodeLines(row.textBytes(11)), priority: priority,
            requestedShipDate: row.optionalText(7), stage: stage, holds: holds.isEmpty ? [] : holds[number] ?? [], claim: claim,
            watchers: watchers(row, 12), notes: notes, history: history,
            episodes: row.textBytes(19).isEmpty ? [] : try StoreEncoding.decodeEpisodes(row.text(19)),
            release: row.isNull(20) ? nil : (shared(row, 20), Instant(milliseconds: row.int(21))),
            isArchived: stage.isTerminal, capturedAt: Instant(milliseconds: row.int(9)),
            stageChangedAt: Instant(milliseconds: row.int(10)), sequence: row.int(1))
    }

    /// The value whose wire name is `bytes` (the tables spell them as `rawValue` does; a test checks).
    static func match<Value>(_ bytes: UnsafeBufferPointer<UInt8>, in table: [(text: StaticString, value: Value)]) -> Value? {
        for (text, value) in table where text.utf8CodeUnitCount == bytes.count {
            if let base = bytes.baseAddress, memcmp(base, text.utf8Start, bytes.count) == 0 { return value }
        }
        return nil
    }

    /// The column as a `String`, shared with earlier rows that had the same one. Short texts
    /// live inside the `String` itself (no allocation to share), so only longer ones are looked up.
    private mutating func shared(_ row: SQLiteStatement, _ column: Int32) -> String {
        let bytes = row.textBytes(column)
        if let last = lastTexts[Int(column)], last.bytes.elementsEqual(bytes) { return last.text }
        var text = String(decoding: bytes, as: UTF8.self)
        if bytes.count > 15 {
            if let known = texts[text] { text = known } else if texts.count < Self.sharingLimit { texts[text] = text }
        }
        lastTexts[Int(column)] = (Array(bytes), text)
        return text
    }

    /// The space-separated watcher list as a set, shared with earlier rows that had the same list
    /// (most orders are watched by their rep alone).
    private mutating func watchers(_ row: SQLiteStatement, _ column: Int32) -> Set<String> {
        let bytes = row.textBytes(column)
        if lastWatchers.bytes.elementsEqual(bytes) { return lastWatchers.set }
        let text = String(decoding: bytes, as: UTF8.self)
        let set: Set<String>
        if let known = watcherSets[text] {
            set = known
        } else {
            set = Set(text.split(separator: " ").map(String.init))
            if watcherSets.count < Self.sharingLimit { watcherSets[text] = set }
        }
        lastWatchers = (Array(bytes), set)
        return set
    }
}
