import DeskClientKit

/// A tiny terminal emulator for tests: enough of VT100 to follow what `desk` writes.
///
/// Rows grow without limit (nothing scrolls away), so every line ever shown can be checked.
/// Handles printable text (wide characters take two cells), CR, LF, BS, BEL, and the CSI
/// sequences `K` (erase to end of line), `C`/`D`/`A`/`B` (cursor moves), `J` (`2J` clears all,
/// `J` erases to the end of the screen), `H` and
/// `m` (colours, ignored). Lines wider than `columns` wrap, as on a real terminal.
/// The alternate screen (`?1049h`/`?1049l`) is a fresh grid of its own, where `H` moves to a
/// row and column; leaving it brings the main screen back as it was.
struct VirtualScreen {
    var columns: Int
    private(set) var rows: [[String]] = [[]]
    private(set) var row = 0
    private(set) var column = 0
    private(set) var bells = 0
    /// The main screen while the alternate one is up.
    private var savedMain: (rows: [[String]], row: Int, column: Int)?
    /// True while the alternate screen is up.
    var isAlternate: Bool { savedMain != nil }
    /// Times the alternate screen was entered.
    private(set) var alternateEntries = 0
    private var pendingBytes: [UInt8] = []
    private var escape: String?

    /// Marks the right half of a wide character.
    private static let continuation = "\u{0}"

    init(columns: Int) { self.columns = columns }

    mutating func feed(_ bytes: [UInt8]) {
        pendingBytes += bytes
        // Keep an incomplete UTF-8 sequence at the end for the next read.
        var end = pendingBytes.count
        var back = 0
        while back < 4, end - back - 1 >= 0, (pendingBytes[end - back - 1] & 0xC0) == 0x80 { back += 1 }
        if end - back - 1 >= 0 {
            let lead = pendingBytes[end - back - 1]
            let needed = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1
            if needed > back + 1 { end = end - back - 1 }
        }
        let text = String(decoding: pendingBytes[..<end], as: UTF8.self)
        pendingBytes.removeFirst(end)
        for scalarRun in text { feed(character: scalarRun) }
    }

    private mutating func feed(character: Character) {
        if var sequence = escape {
            sequence.append(character)
            if sequence == "[" || (sequence.count > 1 && !isFinal(character)) {
                escape = sequence
                return
            }
            escape = nil
            if sequence.hasPrefix("[") { control(sequence) }
            return
        }
        switch character {
        case "\u{1B}": escape = ""
        case "\r\n":
            column = 0
            lineFeed()
        case "\r": column = 0
        case "\n": lineFeed()
        case "\u{07}": bells += 1
        case "\u{08}": column = max(0, column - 1)
        default:
            let width = DisplayWidth.of(character)
            if width == 0 {
                if column > 0, column - 1 < rows[row].count { rows[row][column - 1] += String(character) }
                return
            }
            if column + width > columns {
                column = 0
                lineFeed()
            }
            put(String(character), at: column)
            if width == 2 { put(Self.continuation, at: column + 1) }
            column += width
        }
    }

    private func isFinal(_ character: Character) -> Bool {
        guard let scalar = character.unicodeScalars.first, character.unicodeScalars.count == 1 else { return true }
        return (0x40...0x7E).contains(scalar.value)
    }

    private mutating func control(_ sequence: String) {
        let body = sequence.dropFirst()
        guard let final = body.last else { return }
        if body.hasPrefix("?") {
            privateMode(String(body.dropFirst()))
            return
        }
        let parameters = body.dropLast().split(separator: ";").map { Int($0) ?? 0 }
        let count = max(1, parameters.first ?? 1)
        switch final {
        case "K":
            if rows[row].count > column { rows[row].removeSubrange(column...) }
        case "C": column = min(columns - 1, column + count)
        case "D": column = max(0, column - count)
        case "A": row = max(0, row - count)
        case "B":
            row += count
            while rows.count <= row { rows.append([]) }
        case "J":
            if parameters.first == 2 {
                rows = [[]]
                row = 0
                column = 0
            } else if (parameters.first ?? 0) == 0 {
                // Erase from the cursor to the end of the screen.
                if rows[row].count > column { rows[row].removeSubrange(column...) }
                rows.removeSubrange((row + 1)...)
            }
        case "H":
            if isAlternate {
                // Absolute: rows count from the top of the alternate grid.
                row = max(0, (parameters.first ?? 1) - 1)
                while rows.count <= row { rows.append([]) }
                column = min(columns - 1, max(0, (parameters.count > 1 ? parameters[1] : 1) - 1))
            } else {
                column = 0
            }
        default: break  // "m" and the rest change nothing we check.
        }
    }

    /// `?1049h` / `?1049l`: in and out of the alternate screen; other private modes change nothing we check.
    private mutating func privateMode(_ body: String) {
        switch body {
        case "1049h":
            guard savedMain == nil else { return }
            savedMain = (rows, row, column)
            alternateEntries += 1
            rows = [[]]
            row = 0
            column = 0
        case "1049l":
            guard let main = savedMain else { return }
            (rows, row, column) = main
            savedMain = nil
        default: break
        }
    }

    private mutating func lineFeed() {
        row += 1
        while rows.count <= row { rows.append([]) }
    }

    private mutating func put(_ cell: String, at position: Int) {
        while rows[row].count <= position { rows[row].append(" ") }
        rows[row][position] = cell
    }

    /// Every row as text, trailing spaces trimmed.
    var lines: [String] { rows.indices.map(line) }

    /// The row the cursor is on (the input line while `desk` waits for keys).
    var currentLine: String { line(row) }

    /// The cursor's column (0-based).
    var cursorColumn: Int { column }

    func line(_ index: Int) -> String {
        var text = rows[index].filter { $0 != Self.continuation }.joined()
        while text.hasSuffix(" ") { text.removeLast() }
        return text
    }

    /// True when any row contains `text`.
    func contains(_ text: String) -> Bool { lines.contains { $0.contains(text) } }
}
