/// Rows of cells laid out in aligned columns, measured in terminal columns (`DisplayWidth`),
/// so CJK text and emoji line up. Colour is applied after padding, so escapes never count.
struct Table {
    /// One cell: its plain text, and how to paint it once padded.
    struct Cell {
        var text: String
        var paint: (String) -> String = { $0 }

        init(_ text: String, paint: @escaping (String) -> String = { $0 }) {
            self.text = text
            self.paint = paint
        }
    }

    var header: [String]
    var rows: [[Cell]] = []
    /// Columns aligned right (numbers).
    var rightAligned: Set<Int> = []
    /// Widest a column may be; longer text is cut with `…`.
    var maximumWidth = 40
    /// Widest the whole table may be (the terminal's width). When the table is wider, the
    /// widest columns give way first, down to `comfortableWidth`; then the `droppable` columns
    /// are left out, in that order; then the columns give way down to `minimumWidth`. The
    /// `kept` columns are never cut.
    var totalWidthLimit: Int?
    /// Columns never cut (an order number, an amount): cutting them would make them wrong.
    var kept: Set<Int> = []
    /// Columns to leave out, first to last, when giving way is not enough.
    var droppable: [Int] = []
    var comfortableWidth = 12
    var minimumWidth = 5
    var indent = ""

    /// The table's lines; trailing spaces trimmed.
    func lines(style: Style) -> [String] {
        let columnCount = max(header.count, rows.map(\.count).max() ?? 0)
        var widths = [Int](repeating: 0, count: columnCount)
        for (column, title) in header.enumerated() { widths[column] = DisplayWidth.of(title) }
        for row in rows {
            for (column, cell) in row.enumerated() {
                widths[column] = max(widths[column], min(maximumWidth, DisplayWidth.of(cell.text)))
            }
        }
        // Columns empty in every row are left out.
        var shown = (0..<columnCount).filter { column in rows.contains { column < $0.count && !$0[column].text.isEmpty } }
        if let limit = totalWidthLimit {
            fit(&widths, shown: &shown, limit: limit)
        }
        func line(_ cells: [Cell]) -> String {
            let parts = shown.map { column -> String in
                let cell = column < cells.count ? cells[column] : Cell("")
                let text = DisplayWidth.truncated(cell.text, to: widths[column])
                let isRight = rightAligned.contains(column)
                // The last column is not padded, so lines end with text, not spaces.
                let padded = column == shown.last && !isRight ? text : DisplayWidth.padded(text, to: widths[column], alignRight: isRight)
                return cell.paint(padded)
            }
            return indent + trimTrailingSpaces(parts.joined(separator: "  "))
        }
        var out: [String] = []
        if !header.isEmpty { out.append(line(header.map { Cell($0, paint: style.dim) })) }
        out += rows.map(line)
        return out
    }

    /// Leaves out columns and narrows `widths` until the table fits in `limit` columns, if it can.
    private func fit(_ widths: inout [Int], shown: inout [Int], limit: Int) {
        let gaps = { (columns: [Int]) in DisplayWidth.of(indent) + 2 * max(0, columns.count - 1) }
        let cuttable = { (column: Int) in !kept.contains(column) }
        // Drop columns while the rest would not fit even with every cuttable one at a comfortable width.
        for column in droppable {
            let comfortable = gaps(shown) + shown.reduce(0) { $0 + (cuttable($1) ? min(widths[$1], comfortableWidth) : widths[$1]) }
            guard comfortable > limit else { break }
            shown.removeAll { $0 == column }
        }
        // Then the widest cuttable columns give way, one column at a time.
        var excess = gaps(shown) + shown.reduce(0) { $0 + widths[$1] } - limit
        while excess > 0, let widest = shown.filter({ cuttable($0) && widths[$0] > minimumWidth }).max(by: { widths[$0] < widths[$1] }) {
            widths[widest] -= 1
            excess -= 1
        }
    }

    private func trimTrailingSpaces(_ text: String) -> String {
        var text = text
        while text.hasSuffix(" ") { text.removeLast() }
        return text
    }
}
