/// ORDER (and NEXT, CLAIM): the order as a status card.
///
/// ```
/// SO-10001  captured  normal  Globex
///   rep       sam · PO PO-5495 · total 1372.50 USD
///   captured  19 Nov 21:53 (2d05h ago) · ship by 2026-11-30
///   claim     ana until 14:20 (token 190)
///   holds     pricing  open  cleo 19 Nov 22:11  price below list, needs approval
///   watchers  sam
///   lines     ...
///   notes     ...
/// ```
extension Renderer {
    func cardLines(_ data: [String]) -> [String] {
        let records = data.map(Record.init)
        var out: [String] = []
        func labelled(_ label: String, _ lines: [String]) {
            guard !lines.isEmpty else { return }
            let pad = String(repeating: " ", count: max(1, 10 - label.count))
            out.append("  " + style.dim(label) + pad + lines[0])
            out += lines.dropFirst().map { "            " + $0 }
        }
        guard let header = records.first, header.words.first == "order" else { return dataLines(data) }
        let number = header.words.dropFirst().first ?? "?"
        let stage = header["stage"] ?? "?"
        let priority = header["priority"] ?? "normal"
        out.append([style.bold(number), stagePaint(stage)(stage), priorityPaint(priority)(priority), header["customer"] ?? ""]
            .joined(separator: "  "))
        var facts = ["rep " + (header["rep"] ?? "?")]
        if let po = header["po"] { facts.append("PO " + po) }
        if let total = header["total"] { facts.append("total " + total + (header["currency"].map { " " + $0 } ?? "")) }
        labelled("order", [facts.joined(separator: style.dim(" · "))])
        var timing: [String] = []
        if let captured = header["captured"] { timing.append(shortTime(captured) + (header["age"].map { " (\($0) ago)" } ?? "")) }
        if let ship = header["ship"] { timing.append("ship by " + ship) }
        labelled("captured", timing.isEmpty ? [] : [timing.joined(separator: style.dim(" · "))])

        for record in records where record.words.first == "claim" {
            labelled("claim", [claimText(record)])
        }
        let holds = records.filter { $0.words.first == "hold" }
        labelled("holds", holds.isEmpty ? [style.dim("none")] : holdLines(holds))
        for record in records where record.words.first == "watchers" {
            let watchers = record.words.dropFirst()
            labelled("watchers", [watchers.isEmpty ? style.dim("nobody") : watchers.joined(separator: " ")])
        }
        let orderLines = records.filter { $0.words.first == "line" }
        if !orderLines.isEmpty {
            var table = Table(header: ["SKU", "QTY", "PRICE", "AMOUNT"])
            table.rightAligned = [1, 2, 3]
            table.rows = orderLines.map { line in ["sku", "qty", "price", "amount"].map { Table.Cell(line[$0] ?? "") } }
            labelled("lines", table.lines(style: style))
        }
        let notes = records.filter { $0.words.first == "note" }
        var noteLines: [String] = []
        if let counts = records.first(where: { $0.words.first == "notes" }), let shown = counts["shown"], let total = counts["total"] {
            noteLines.append(style.dim("last \(shown) of \(total)"))
        }
        noteLines += notes.map { note in
            style.dim(shortTime(note["at"] ?? "")) + " " + style.bold(note["by"] ?? "?") + ": " + (note["text"] ?? "")
        }
        labelled("notes", noteLines)
        return out
    }

    private func claimText(_ record: Record) -> String {
        guard let holder = record["holder"], holder != "nobody" else { return style.dim("nobody") }
        var text = holder == user ? style.green(holder + " (you)") : style.bold(holder)
        if let until = record["until"] { text += " until " + shortTime(until) }
        var details: [String] = []
        if let token = record["token"] { details.append("token " + token) }
        if let grace = record["grace-until"] { details.append("disconnected, grace until " + shortTime(grace)) }
        if !details.isEmpty { text += style.dim(" (" + details.joined(separator: ", ") + ")") }
        return text
    }

    /// Open holds first, then released ones, each with who, when and why.
    private func holdLines(_ holds: [Record]) -> [String] {
        let ordered = holds.filter { $0["status"] == "open" } + holds.filter { $0["status"] != "open" }
        return ordered.map { hold in
            let type = hold["type"] ?? "?"
            let placed = (hold["by"] ?? "?") + " " + shortTime(hold["at"] ?? "")
            if hold["status"] == "open" {
                return style.yellow(DisplayWidth.padded(type, to: 9) + " open") + "  " + style.dim(placed) + "  " + (hold["reason"] ?? "")
            }
            var text = style.dim(DisplayWidth.padded(type, to: 9) + " released") + "  " + style.dim(placed) + "  " + (hold["reason"] ?? "")
            if let by = hold["released-by"] {
                text += style.dim(" → released by " + by + " " + shortTime(hold["released-at"] ?? "")) + ": " + (hold["release-reason"] ?? "")
            }
            return text
        }
    }
}
