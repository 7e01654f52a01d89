import OrderDeskWire

/// Free text (a note, a reason, a message) as desk sends it: exactly as typed.
///
/// On the wire, free text that starts with `"` must be one whole quoted string (protocol.md,
/// section 4), so a person's `NOTE SO-1 "rush" per customer` would be `ERR bad-line`. The
/// protocol stays exact for programs; desk, for people, sends such text as a quoted string
/// holding what was typed, quotes and all. Which argument is free text comes from the
/// command's usage line in the server's HELP (the last argument, when it is `<text>`,
/// `<reason>` or `<message>`, in angle or square brackets), so the client keeps no copy of
/// the command table.
enum FreeText {
    /// Placeholder names that stand for free text running to the end of the line.
    static let placeholderNames: Set<String> = ["text", "reason", "message"]

    /// The position (0 = the first argument) of the free-text argument in `usage`, if any.
    static func argumentIndex(inUsage usage: String) -> Int? {
        // `USER ADD ... | USER ROLE ...`: alternatives; none of them ends in free text.
        guard !usage.contains(" | ") else { return nil }
        let words = usage.split(separator: " ").dropFirst()
        guard let last = words.last, last.count > 2 else { return nil }
        let isBracketed = (last.hasPrefix("<") && last.hasSuffix(">")) || (last.hasPrefix("[") && last.hasSuffix("]"))
        guard isBracketed, placeholderNames.contains(String(last.dropFirst().dropLast())) else { return nil }
        return words.count - 1
    }

    /// `line` as it should go on the wire, given its command's usage line: unchanged unless
    /// its free text starts with a quote, which the server would read as a quoted string.
    static func encoded(_ line: String, usage: String?) -> String {
        guard let usage, let index = argumentIndex(inUsage: usage) else { return line }
        // Skip the command and the arguments before the free text, as the server does: words
        // are separated by runs of spaces.
        var rest = Substring(line)
        for _ in 0...index {
            rest = rest.drop { $0 == " " }
            guard !rest.isEmpty else { return line }
            rest = rest.drop { $0 != " " }
        }
        let text = rest.drop { $0 == " " }
        guard text.first == "\"" else { return line }
        var trimmed = text
        while trimmed.last == " " { trimmed = trimmed.dropLast() }
        return String(line[..<text.startIndex]) + Quoting.quoted(String(trimmed))
    }
}
