import Foundation
import OrderDeskWire

/// Turns replies and pushes into lines for people: order lists as aligned tables, an order
/// as a status card, other data as tables, pushes as one timed line each.
///
/// Pure: no terminal, no clock reads except through `now`; tests fix `now` and `timeZone`.
/// With `style` off the output has no escape codes at all.
public struct Renderer: Sendable {
    public var style: Style
    /// The logged-in user: their own claims and pings stand out.
    public var user: String?
    public var timeZone: TimeZone
    public var now: @Sendable () -> Date
    /// Columns the output may use (the terminal's width); nil when there is no limit (a pipe).
    public var maximumWidth: Int?

    public init(style: Style, user: String? = nil, timeZone: TimeZone = .current, now: @escaping @Sendable () -> Date = { Date() }) {
        self.style = style
        self.user = user
        self.timeZone = timeZone
        self.now = now
    }

    /// The lines that show `reply`.
    public func lines(for reply: ServerReply) -> [String] {
        switch reply.outcome {
        case .failure(let code, let message):
            return [style.red("error " + code + ":") + " " + errorText(message)]
        case .ok(let summary):
            if reply.commandName == "HELP" { return helpLines(reply) }
            if reply.commandName == "INBOX" { return inboxLines(reply.data, summary: summary) }
            if reply.data.isEmpty { return [style.green("ok") + "  " + describe(Record(summary))] }
            if reply.data.first?.hasPrefix("order ") == true { return cardLines(reply.data) + cardFooter(summary) }
            if reply.data.first?.hasPrefix("card ") == true { return plainCardLines(reply.data) }
            return dataLines(reply.data) + footer(summary)
        }
    }

    /// Data lines grouped by shape, each group a table (or one line when alone).
    func dataLines(_ data: [String]) -> [String] {
        var out: [String] = []
        var group: [Record] = []
        var groupShape = ""
        func flush() {
            guard !group.isEmpty else { return }
            out += lines(forGroup: group, shape: groupShape)
            group = []
        }
        for line in data {
            let record = Record(line)
            let shape = Self.shape(of: record)
            if shape != groupShape { flush() }
            groupShape = shape
            group.append(record)
        }
        flush()
        return out
    }

    /// Rows that start with an order number are order lists; rows of bare fields share one
    /// table; otherwise the first word names the group (`queue`, `hold`, `ops` in METRICS).
    static func shape(of record: Record) -> String {
        guard let first = record.words.first else { return "" }
        return Vocabulary.looksLikeOrderNumber(first) ? "#order" : first
    }

    private func lines(forGroup records: [Record], shape: String) -> [String] {
        switch shape {
        case "#order": return orderTable(records)
        case "": return fieldTable(records, indent: "")
        default:
            if records.count == 1 {
                let record = records[0]
                let rest = Record(words: Array(record.words.dropFirst()), fields: record.fields)
                return [style.bold(shape) + "  " + describe(rest)]
            }
            return [style.bold(shape)] + fieldTable(records, indent: "  ")
        }
    }

    /// The fields of an order summary line, in protocol.md's order: order tables show their
    /// columns in this order whichever fields the first rows happen to have.
    static let summaryFieldOrder = ["stage", "priority", "customer", "rep", "po", "total", "currency", "age", "holds", "holder", "until"]
    /// Left out first, in this order, when a table is too wide for the terminal.
    static let droppableSummaryFields = ["po", "rep", "age", "priority"]

    /// The column keys of an order table. Each row's fields keep their relative order (new keys
    /// go in after the key before them in that row); summary lines (`stage=` present) then
    /// follow `summaryFieldOrder`, so the column order never depends on which rows came first.
    static func columnKeys(_ records: [Record], hiding hidden: Set<String>) -> [String] {
        var keys: [String] = []
        for record in records {
            var insertAt = 0
            for key in record.fields.map(\.key) where !hidden.contains(key) {
                if let existing = keys.firstIndex(of: key) {
                    insertAt = existing + 1
                } else {
                    keys.insert(key, at: insertAt)
                    insertAt += 1
                }
            }
        }
        guard keys.contains("stage") else { return keys }
        let rank = { (key: String) in summaryFieldOrder.firstIndex(of: key) ?? summaryFieldOrder.count }
        return keys.enumerated().sorted { (rank($0.element), $0.offset) < (rank($1.element), $1.offset) }.map(\.element)
    }

    /// QUEUE, FIND, STUCK, WHOAMI: one row per order, its fields as columns. On a narrow
    /// terminal the order number, the total and the holder are never cut; the PO, rep, age and
    /// priority columns are left out, in that order, before a customer name is cut short.
    func orderTable(_ records: [Record]) -> [String] {
        let keys = Self.columnKeys(records, hiding: ["currency", "until"])
        var table = Table(header: ["ORDER"] + keys.map { $0.uppercased() })
        table.totalWidthLimit = maximumWidth
        table.kept = [0]
        if let total = keys.firstIndex(of: "total") {
            table.rightAligned = [total + 1]
            table.kept.insert(total + 1)
        }
        // A holder cut short loses the lease end, the part that matters.
        if let holder = keys.firstIndex(of: "holder") { table.kept.insert(holder + 1) }
        table.droppable = Self.droppableSummaryFields.compactMap { key in keys.firstIndex(of: key).map { $0 + 1 } }
        // Customer names are cut only past 16 columns before a column is left out.
        table.comfortableWidth = 16
        table.maximumWidth = 28
        for record in records {
            var row = [Table.Cell(record.words.first ?? "", paint: style.bold)]
            for key in keys {
                row.append(cell(key: key, record: record))
            }
            table.rows.append(row)
        }
        return table.lines(style: style)
    }

    private func cell(key: String, record: Record) -> Table.Cell {
        let value = record[key] ?? ""
        switch key {
        case "total":
            return Table.Cell(record["currency"].map { value + " " + $0 } ?? value)
        case "holder":
            let text = record["until"].map { value + " until " + shortTime($0) } ?? value
            let style = self.style
            let isMine = value == user
            return Table.Cell(text) { isMine ? style.green($0) : $0 }
        case "priority":
            return Table.Cell(value, paint: priorityPaint(value))
        case "stage":
            return Table.Cell(value, paint: stagePaint(value))
        case "holds":
            return Table.Cell(value, paint: style.yellow)
        default:
            return Table.Cell(shortTime(value))
        }
    }

    /// Rows of bare fields (WHO, USERS, HISTORY, THRESHOLDS...): one column per key.
    func fieldTable(_ records: [Record], indent: String) -> [String] {
        var keys: [String] = []
        for record in records {
            for field in record.fields where !keys.contains(field.key) { keys.append(field.key) }
        }
        let extraWords = records.contains { $0.words.count > 1 }
        var table = Table(header: (extraWords ? [""] : []) + keys.map { $0.uppercased() })
        table.indent = indent
        table.maximumWidth = 60
        table.totalWidthLimit = maximumWidth
        for record in records {
            var row: [Table.Cell] = extraWords ? [Table.Cell(record.words.dropFirst().joined(separator: " "))] : []
            row += keys.map { Table.Cell(shortTime(record[$0] ?? "")) }
            table.rows.append(row)
        }
        return table.lines(style: style)
    }

    /// Words and `key value` pairs on one line: `order SO-10042 · token 198 · until 14:20`.
    func describe(_ record: Record) -> String {
        let words = record.words.joined(separator: " ")
        let fields = record.fields.map { style.dim($0.key) + " " + shortTime($0.value) }.joined(separator: style.dim(" · "))
        return [words, fields].filter { !$0.isEmpty }.joined(separator: "  ")
    }

    /// An ERR message for people: its words first, then the leading `key=value` fields that
    /// they do not already name, times in local time:
    /// `order=SO-1 holder=ana until=2026-11-22T03:56:59Z held by ana` → `held by ana (order SO-1, until 04:56)`.
    func errorText(_ message: String) -> String {
        guard let tokens = try? Tokenizer.tokens(message) else { return message }
        let leading = tokens.prefix { $0.key != nil }
        guard !leading.isEmpty else { return message }
        let rest = tokens.dropFirst(leading.count).first.map { String(decoding: message.utf8.dropFirst($0.offset), as: UTF8.self) } ?? ""
        let named = Set(rest.split(separator: " ").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: ",.;:!?()")) })
        let facts = leading.filter { !named.contains($0.value) }.map { ($0.key ?? "") + " " + shortTime($0.value) }
        guard !facts.isEmpty else { return rest }
        let detail = style.dim("(") + facts.joined(separator: style.dim(", ")) + style.dim(")")
        return rest.isEmpty ? detail : rest + " " + detail
    }

    /// The OK line under a table, dimmed; nothing when it only repeats what is shown.
    /// Under a card: only what the card does not say, i.e. the events it marked read.
    private func cardFooter(_ summary: String) -> [String] {
        let record = Record(summary)
        guard let marked = record["marked"].flatMap(Int.init), marked > 0 else { return [] }
        let left = record["unread"].flatMap(Int.init).map { " · \($0) unread left" } ?? ""
        return [style.dim("(\(marked) unread event\(marked == 1 ? "" : "s") on this order marked read\(left))")]
    }

    private func footer(_ summary: String) -> [String] {
        let record = Record(summary)
        guard !record.fields.isEmpty else { return [] }
        return [style.dim("(") + describe(record) + style.dim(")")]
    }

    /// A wire time (`2026-11-22T03:39:13Z`) as `14:05` or `19 Nov 14:05`; other text unchanged.
    func shortTime(_ text: String) -> String {
        guard text.count == 20, text.hasSuffix("Z") else { return text }
        return Timestamps.short(wire: text, now: now(), timeZone: timeZone)
    }

    func priorityPaint(_ priority: String) -> (String) -> String {
        switch priority {
        case "urgent": style.red
        case "high": style.yellow
        default: { $0 }
        }
    }

    func stagePaint(_ stage: String) -> (String) -> String {
        switch stage {
        case "captured": style.cyan
        case "released": style.green
        case "shipped", "cancelled": style.dim
        default: { $0 }
        }
    }
}
