/// CARD: the order in plain words, as customer service reads it to a caller.
///
/// ```
/// SO-10089 · Massive Dynamic · PO PO-4242
///   Where it is   Received on 1 December 2026; it cannot go to the warehouse until the
///                 question below is settled.
///   Holding it up Waiting for a price to be confirmed since 1 December 2026 (5 hours).
///   Who           ana is working on it now. The customer's sales rep is rita.
///   Shipping      The customer asked for it to ship by 7 December 2026.
/// ```
extension Renderer {
    func plainCardLines(_ data: [String]) -> [String] {
        let records = data.map(Record.init)
        guard let header = records.first, header.words.first == "card" else { return dataLines(data) }
        var title = [style.bold(header["order"] ?? "?")]
        if let customer = header["customer"] { title.append(customer) }
        if let po = header["po"], !po.isEmpty { title.append("PO " + po) }
        var out = [title.joined(separator: style.dim(" · "))]
        let labels = ["stage": "Where it is", "blocked": "Holding it up", "people": "Who", "ship": "Shipping"]
        let indent = 16
        let width = max(40, (maximumWidth ?? 100) - indent)
        for record in records.dropFirst() {
            guard let kind = record.words.first, let text = record["text"] else { continue }
            let label = labels[kind] ?? kind
            let wrapped = Self.wrap(text, width: width)
            let pad = String(repeating: " ", count: max(1, indent - 2 - label.count))
            out.append("  " + style.dim(label) + pad + (wrapped.first ?? ""))
            out += wrapped.dropFirst().map { String(repeating: " ", count: indent) + $0 }
        }
        return out
    }

    /// `text` in lines of at most `width` columns, broken at spaces (a longer word stands alone).
    static func wrap(_ text: String, width: Int) -> [String] {
        var lines: [String] = []
        var current = ""
        for word in text.split(separator: " ") {
            let candidate = current.isEmpty ? String(word) : current + " " + word
            if DisplayWidth.of(candidate) > width, !current.isEmpty {
                lines.append(current)
                current = String(word)
            } else {
                current = candidate
            }
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }
}
