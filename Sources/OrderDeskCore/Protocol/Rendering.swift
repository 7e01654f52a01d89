import OrderDeskWire

/// How orders, holds, notes and history appear in data lines (protocol.md, "Data lines").
public enum Rendering {
    /// One order on one line, for QUEUE and FIND.
    public static func summary(_ order: Order, now: Instant) -> String {
        var writer = WireWriter(capacity: 160)
        writer.summary(order, now: now)
        return writer.text
    }

    /// The status card of ORDER as data lines (without their `* `): a header line, then lines,
    /// holds, claim, watchers, notes.
    public static func card(_ order: Order, now: Instant, noteLimit: Int = 10) -> [String] {
        var writer = WireWriter(capacity: 512)
        writer.card(OrderView(order, now: now, noteLimit: noteLimit))
        return writer.text.split(separator: "\n").map { String($0.dropFirst(2)) }
    }

    public static func holdLine(_ hold: Hold) -> String {
        var writer = WireWriter()
        writer.holdLine(hold)
        return writer.text
    }

    public static func noteLine(_ note: Note) -> String {
        var writer = WireWriter()
        writer.noteLine(note)
        return writer.text
    }

    public static func historyLine(_ entry: HistoryEntry) -> String {
        var writer = WireWriter()
        writer.historyLine(entry)
        return writer.text
    }

    public static func join(_ fields: [(String, String)]) -> String {
        var writer = WireWriter(capacity: fields.reduce(0) { $0 + $1.0.utf8.count + $1.1.utf8.count + 4 })
        for (key, value) in fields { writer.field(named: key, value) }
        return writer.text
    }
}
