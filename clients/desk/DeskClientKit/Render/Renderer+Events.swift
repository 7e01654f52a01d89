/// Pushes as one line each: `14:05 SO-10042 ben: customer agreed the new price`.
extension Renderer {
    /// The line for a push. `isReplayed` marks events replayed after a reconnect.
    public func line(for event: ServerEvent, isReplayed: Bool = false) -> String {
        let time = Timestamps.clock(event.date ?? now(), timeZone: timeZone)
        var out = style.dim(time) + " "
        if isReplayed { out += style.dim("(missed)") + " " }
        let text = describe(event)
        out += event.isPing(for: user) ? style.ping("» " + text) : text
        return out
    }

    /// What happened, in words.
    public func describe(_ event: ServerEvent) -> String {
        let f = event.fields
        let order = f["order"] ?? "?"
        let by = f["by"] ?? "?"
        func because(_ key: String) -> String { f[key].map { ": " + $0 } ?? "" }
        switch event.kind {
        case "captured": return "\(order) captured for \(f["customer"] ?? "?") by \(by)"
        case "note": return "\(order) \(by): \(f["text"] ?? "")"
        case "mention": return "\(order) \(by) mentioned you: \(f["text"] ?? "")"
        case "hold": return "\(order) \(f["type"] ?? "?") hold by \(by)" + because("reason")
        case "unhold": return "\(order) \(f["type"] ?? "?") hold released by \(by)" + because("reason")
        case "stage": return "\(order) \(f["from"] ?? "?") → \(f["to"] ?? "?") by \(by)" + because("reason")
        case "claimed": return "\(order) claimed by \(by)"
        case "handed-back", "released": return "\(order) handed back by \(by)" + because("reason")
        case "reassigned":
            let from = f["from"] ?? "nobody"
            let to = f["to"] ?? "nobody"
            if let user, to == user { return "\(order) reassigned to you by \(by)" + (from == "nobody" ? "" : " (was \(from))") + because("reason") }
            if let user, from == user { return "\(order) taken from you by \(by), now \(to)" + because("reason") }
            return "\(order) reassigned \(from) → \(to) by \(by)" + because("reason")
        case "lease-warning":
            let until = f["until"].map(shortTime) ?? "soon"
            if let holder = event.otherHolder(than: user) { return "\(order) \(holder)'s claim runs out at \(until)" }
            return "your claim on \(order) runs out at \(until); TOUCH \(order) to keep it"
        case "lease-expired":
            let why = f["reason"].map { " (\($0))" } ?? ""
            if let holder = event.otherHolder(than: user) { return "\(order) \(holder)'s claim ran out\(why); it went back to its queue" }
            return "your claim on \(order) ran out\(why); it went back to its queue"
        case "queue": return "\(order) \(f["change"] ?? "changed") \(f["queue"] ?? "?")"
        case "stuck-warning":
            if let holder = event.otherHolder(than: user) { return "\(order) held by \(holder) is getting stuck in \(f["queue"] ?? "?") (since \(shortTime(f["since"] ?? "")))" }
            return "\(order) is getting stuck in \(f["queue"] ?? "?") (since \(shortTime(f["since"] ?? "")))"
        case "stuck": return "\(order) is stuck in \(f["queue"] ?? "?") (since \(shortTime(f["since"] ?? "")))"
        case "escalated": return "\(order) stuck in \(f["queue"] ?? "?") since \(shortTime(f["since"] ?? "")): escalated to admins"
        case "message": return "\(f["from"] ?? "?") → you: \(f["text"] ?? "")"
        case "away": return "\(f["user"] ?? "?") is away: \(f["text"] ?? "")"
        case "say": return "#\(f["room"] ?? "?") \(by): \(f["text"] ?? "")"
        default:
            let rest = f.keys.sorted().filter { $0 != "at" }.map { "\($0)=\(f[$0] ?? "")" }.joined(separator: " ")
            return event.kind + (rest.isEmpty ? "" : " " + rest)
        }
    }

    /// INBOX: each entry as its push line, unread ones marked.
    func inboxLines(_ data: [String], summary: String) -> [String] {
        var out: [String] = []
        for line in data {
            let record = Record(line)
            guard record.words.count >= 2, let id = UInt64(record.words[0]) else {
                out.append(line)
                continue
            }
            var fields = record.fieldDictionary
            let isRead = fields.removeValue(forKey: "read") == "yes"
            let event = ServerEvent(id: id, kind: record.words[1], fields: fields)
            out.append((isRead ? "  " : style.bold("• ")) + self.line(for: event) + style.dim("  #\(id)"))
        }
        if out.isEmpty { out.append(style.dim("nothing in your inbox")) }
        let byOrder = StatusLine.unreadOrders(fromField: Record(summary)["unread-orders"])
        if !byOrder.isEmpty { out += unreadByOrderLines(byOrder) }
        var rest = Record(summary)
        rest.fields.removeAll { $0.key == "unread-orders" }
        out.append(style.dim("(") + describe(rest) + style.dim(")"))
        return out
    }

    /// Lines of `unread by order` that never wrap on the terminal: items flow onto lines of at
    /// most `maximumWidth` columns, broken between items (an order number is never split),
    /// continued under the first item; past `maximumLines` the rest is counted (`… 12 more`).
    /// The hint goes at the end of the last line when it fits, else on a line of its own.
    /// Without a width (a pipe), one line.
    func unreadByOrderLines(_ byOrder: [(order: String, count: Int)], maximumLines: Int = 3) -> [String] {
        let label = "unread by order: "
        let hint = "(ORDER or READ <number> reads them)"
        let items = byOrder.map { "\($0.order) \($0.count)" }
        let separator = " · "
        guard let width = maximumWidth else {
            return [style.bold(label) + items.joined(separator: separator) + "  " + style.dim(hint)]
        }
        // A label wider than a third of the screen leaves too little room: the items go under it.
        let longest = items.map { DisplayWidth.of($0) }.max() ?? 0
        let labelOnItsOwn = DisplayWidth.of(label) + longest > width || DisplayWidth.of(label) * 3 > width
        let indent = labelOnItsOwn ? "  " : String(repeating: " ", count: DisplayWidth.of(label))
        let room = max(1, width - DisplayWidth.of(indent))
        var rows: [[String]] = [[]]
        var rowWidth = 0
        for item in items {
            let itemWidth = DisplayWidth.of(item)
            let needed = rows[rows.count - 1].isEmpty ? itemWidth : rowWidth + DisplayWidth.of(separator) + itemWidth
            if needed > room, !rows[rows.count - 1].isEmpty {
                rows.append([item])
                rowWidth = itemWidth
            } else {
                rows[rows.count - 1].append(item)
                rowWidth = needed
            }
        }
        var texts = rows.map { $0.joined(separator: separator) }
        if texts.count > maximumLines {
            // Keep the first lines; the last one kept gives up items until the count fits.
            var kept = Array(rows.prefix(maximumLines))
            var hidden = items.count - kept.reduce(0) { $0 + $1.count }
            func last(_ row: [String]) -> String { (row + ["… \(hidden) more"]).joined(separator: separator) }
            while let row = kept.last, !row.isEmpty, DisplayWidth.of(last(row)) > room {
                kept[kept.count - 1].removeLast()
                hidden += 1
            }
            texts = kept.map { $0.joined(separator: separator) }
            texts[texts.count - 1] = DisplayWidth.truncated(last(kept[kept.count - 1]), to: room)
        }
        var lines: [String] = []
        if labelOnItsOwn { lines.append(style.bold(DisplayWidth.truncated(label.trimmingSpaces(), to: width))) }
        for (index, text) in texts.enumerated() {
            let lead = index == 0 && !labelOnItsOwn ? style.bold(label) : indent
            lines.append(lead + text)
        }
        let lastWidth = DisplayWidth.of(indent) + DisplayWidth.of(texts[texts.count - 1])
        if lastWidth + 2 + DisplayWidth.of(hint) <= width {
            lines[lines.count - 1] += "  " + style.dim(hint)
        } else {
            lines.append(indent + style.dim(DisplayWidth.truncated(hint, to: room)))
        }
        return lines
    }
}
