/// `desk.conf`: `key=value` lines; blank lines and lines starting with `#` are skipped, and a
/// `#` after a space or tab starts a comment to the end of the line (`bell=off  # quiet`).
/// No value desk reads holds such a `#`, so nothing is lost.
struct ConfigFile {
    struct Entry {
        var key: String
        var value: String
        var line: Int
    }

    let path: String
    private(set) var entries: [Entry] = []

    init(text: String, path: String) throws(UsageError) {
        self.path = path
        for (offset, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = Self.withoutComment(raw).trimmingSpaces()
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let equals = line.firstIndex(of: "=") else {
                throw UsageError("\(path):\(offset + 1): expected key=value, found \(line)")
            }
            entries.append(Entry(key: String(line[..<equals]).trimmingSpaces().lowercased(),
                                 value: String(line[line.index(after: equals)...]).trimmingSpaces(), line: offset + 1))
        }
    }
}

extension ConfigFile {
    /// The line up to a `#` that starts it or follows a space or tab.
    static func withoutComment(_ line: Substring) -> Substring {
        var previous: Character = " "
        for index in line.indices {
            if line[index] == "#", previous == " " || previous == "\t" { return line[..<index] }
            previous = line[index]
        }
        return line
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces, tabs and carriage returns.
    func trimmingSpaces() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
