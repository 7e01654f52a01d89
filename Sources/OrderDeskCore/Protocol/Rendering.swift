import OrderDeskWire

/// How orders, holds, notes and history appear in data lines (protocol.md, "Data lines").
public enum Rendering {
    /// One order on one line, for QUEUE and FIND.
    public static func summary(_ order: Order, now: Instant) -> String {
        var fields: [(String, String)] = [
            ("stage", order.stage.rawValue), ("priority", order.priority.rawValue), ("customer", order.customer),
            ("rep", order.rep), ("po", order.purchaseOrder), ("total", order.total.decimal), ("currency", order.currency),
            ("age", (now - order.capturedAt).compact),
        ]
        let open = order.openHolds
        if !open.isEmpty { fields.append(("holds", open.map(\.type.rawValue).joined(separator: ","))) }
        if let lease = order.lease { fields += [("holder", lease.holder), ("until", lease.expires.iso8601)] }
        return order.number + " " + join(fields)
    }

    /// The status card of ORDER: a header line, then lines, holds, claim, watchers, notes.
    public static func card(_ order: Order, now: Instant, noteLimit: Int = 10) -> [String] {
        var lines: [String] = []
        var header: [(String, String)] = [
            ("stage", order.stage.rawValue), ("priority", order.priority.rawValue), ("customer", order.customer),
            ("rep", order.rep), ("po", order.purchaseOrder), ("total", order.total.decimal), ("currency", order.currency),
            ("captured", order.capturedAt.iso8601), ("age", (now - order.capturedAt).compact),
        ]
        if let ship = order.requestedShipDate { header.append(("ship", ship)) }
        lines.append("order " + order.number + " " + join(header))
        for line in order.lines {
            lines.append("line " + join([("sku", line.sku), ("qty", String(line.quantity)), ("price", line.unitPrice.decimal), ("amount", line.amount.decimal)]))
        }
        for hold in order.holds { lines.append(holdLine(hold)) }
        if let lease = order.lease {
            var fields = [("holder", lease.holder), ("token", String(lease.token)), ("since", lease.since.iso8601), ("until", lease.expires.iso8601)]
            if let grace = lease.graceEnds { fields.append(("grace-until", grace.iso8601)) }
            lines.append("claim " + join(fields))
        } else {
            lines.append("claim holder=nobody")
        }
        lines.append((["watchers"] + order.watchers.sorted()).joined(separator: " "))
        let shown = order.notes.suffix(noteLimit)
        if order.notes.count > shown.count { lines.append("notes " + join([("shown", String(shown.count)), ("total", String(order.notes.count))])) }
        for note in shown { lines.append(noteLine(note)) }
        return lines
    }

    public static func holdLine(_ hold: Hold) -> String {
        var fields = [("id", String(hold.id)), ("type", hold.type.rawValue)]
        switch hold.status {
        case .open:
            fields.append(("status", "open"))
        case .released:
            fields.append(("status", "released"))
        }
        fields += [("by", hold.placedBy), ("at", hold.placedAt.iso8601), ("reason", hold.reason)]
        if case .released(let by, let at, let reason) = hold.status {
            fields += [("released-by", by), ("released-at", at.iso8601), ("release-reason", reason)]
        }
        return "hold " + join(fields)
    }

    public static func noteLine(_ note: Note) -> String {
        "note " + join([("at", note.at.iso8601), ("by", note.author), ("text", note.text)])
    }

    public static func historyLine(_ entry: HistoryEntry) -> String {
        join([("at", entry.at.iso8601), ("by", entry.actor), ("action", entry.action), ("detail", entry.detail)])
    }

    public static func join(_ fields: [(String, String)]) -> String {
        var text = ""
        text.reserveCapacity(fields.reduce(0) { $0 + $1.0.utf8.count + $1.1.utf8.count + 4 })
        for (index, field) in fields.enumerated() {
            if index > 0 { text += " " }
            Quoting.appendField(field.0, field.1, to: &text)
        }
        return text
    }
}
