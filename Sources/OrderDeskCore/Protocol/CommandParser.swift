import OrderDeskWire

/// Turns one protocol line into a command for the server or the desk, or the error to reply with.
///
/// The first word is matched whole and case-insensitively against the names of the command
/// table (`CommandSpec.all`), never by prefix; the row it finds reads the arguments, following
/// its usage and protocol.md.
public struct CommandParser: Sendable {
    public var limits: Limits

    public init(limits: Limits = Limits()) { self.limits = limits }

    public func parse(_ line: String) -> Result<ParsedCommand, DeskError> {
        do throws(DeskError) {
            return .success(try parseCommand(line))
        } catch {
            return .failure(error)
        }
    }

    /// Finds the row of the line's first word and lets the row read the arguments.
    private func parseCommand(_ line: String) throws(DeskError) -> ParsedCommand {
        let tokens: [Token]
        do {
            tokens = try Tokenizer.tokens(line)
        } catch {
            throw .badLine(Self.describe(error))
        }
        guard let first = tokens.first else { throw .badLine("empty line; try HELP") }
        let name = first.value.uppercased()
        if let key = first.key { throw .unknownCommand(key + "=" + first.value, suggestion: nil) }
        guard let spec = CommandSpec.named(name) else {
            throw .unknownCommand(first.value, suggestion: Self.suggestion(for: name))
        }
        var arguments = Arguments(line: line, tokens: Array(tokens.dropFirst()), spec: spec, limits: limits)
        let command = try spec.parse(&arguments)
        try arguments.expectEnd()
        return command
    }

    static func describe(_ error: TokenizeError) -> String {
        switch error {
        case .unterminatedQuote: "a quoted string is not closed (or has text right after its closing quote)"
        case .badEscape: "unknown escape in a quoted string; use \\\" \\\\ \\n \\r \\t"
        case .controlCharacter: "control characters are not allowed; use escapes in a quoted string"
        }
    }

    /// A command name close to `word`, for the unknown-command hint.
    public static func suggestion(for word: String) -> String? {
        var best: (name: String, distance: Int)?
        for spec in CommandSpec.all {
            let distance = editDistance(Array(word), Array(spec.name))
            if distance <= 2, distance < (best?.distance ?? Int.max) { best = (spec.name, distance) }
        }
        return best?.name
    }

    private static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}

/// The limits a server enforces on input; the greeting and protocol.md state them.
public struct Limits: Sendable, Equatable {
    public var maximumLineLength = 8192
    public var maximumNoteLength = 2000
    public var maximumOrderLines = 200
    public var maximumFieldLength = 200

    public init() {}
}

/// Rules for order numbers.
public enum OrderNumber {
    public static let maximumLength = 32

    public static func isValid(_ text: String) -> Bool {
        let bytes = text.utf8
        return !bytes.isEmpty && bytes.count <= maximumLength && bytes.allSatisfy { ASCII.isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") }
    }

    /// Order numbers are case-insensitive; the desk keeps them upper-case.
    public static func normalized(_ text: String) -> String { text.uppercased() }

    /// Words of `text` shaped like order numbers (letters, a dash, digits: `SO-10042`), upper-cased, in order.
    public static func references(in text: String) -> [String] {
        var found: [String] = []
        let bytes = Array(text.utf8)
        var index = 0
        while index < bytes.count {
            // A word: a run of ASCII letters, digits and dashes.
            guard ASCII.isAlphanumeric(bytes[index]) || bytes[index] == UInt8(ascii: "-") else { index += 1; continue }
            let start = index
            while index < bytes.count, ASCII.isAlphanumeric(bytes[index]) || bytes[index] == UInt8(ascii: "-") { index += 1 }
            let word = bytes[start..<index]
            guard let dash = word.firstIndex(of: UInt8(ascii: "-")) else { continue }
            let letters = word[start..<dash]
            let digits = word[(dash + 1)...]
            guard (1...6).contains(letters.count), letters.allSatisfy(ASCII.isLetter),
                  (1...12).contains(digits.count), digits.allSatisfy(ASCII.isDigit) else { continue }
            let number = String(decoding: word, as: UTF8.self).uppercased()
            if !found.contains(number) { found.append(number) }
        }
        return found
    }
}

/// Byte classes for ASCII-only rules, without Unicode property look-ups.
enum ASCII {
    static func isLetter(_ byte: UInt8) -> Bool { (byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z") }
    static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
    static func isAlphanumeric(_ byte: UInt8) -> Bool { isLetter(byte) || isDigit(byte) }
}
