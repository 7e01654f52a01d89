/// `desk.conf`: `key=value` lines; blank lines and lines starting with `#` are skipped.
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
            let line = raw.trimmingSpaces()
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let equals = line.firstIndex(of: "=") else {
                throw UsageError("\(path):\(offset + 1): expected key=value, found \(line)")
            }
            entries.append(Entry(key: String(line[..<equals]).trimmingSpaces().lowercased(),
                                 value: String(line[line.index(after: equals)...]).trimmingSpaces(), line: offset + 1))
        }
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
