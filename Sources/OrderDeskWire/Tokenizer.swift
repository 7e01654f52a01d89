/// One word of a line: a bare word, a quoted string, or a `key=value` field.
public struct Token: Equatable, Sendable {
    /// The key of a `key=value` field; nil for a plain word.
    public var key: String?
    /// The word's text, or the field's value, with quotes and escapes removed.
    public var value: String
    /// Byte offset in the line where this token starts (used to take "the rest of the line").
    public var offset: Int

    public init(key: String?, value: String, offset: Int) {
        self.key = key
        self.value = value
        self.offset = offset
    }
}

/// Why a line could not be split into tokens.
public enum TokenizeError: Error, Equatable, Sendable {
    /// A quoted string has no closing quote.
    case unterminatedQuote
    /// A backslash escape that protocol.md does not define.
    case badEscape
    /// A control character outside a quoted string's escapes.
    case controlCharacter
}

/// Splits lines into tokens; see `Quoting` for the rules.
public enum Tokenizer {
    /// Splits `line` into tokens separated by one or more spaces.
    public static func tokens(_ line: String) throws(TokenizeError) -> [Token] {
        let bytes = Array(line.utf8)
        var tokens: [Token] = []
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: " ") { index += 1; continue }
            let start = index
            var key: String?
            // A bare key followed by '=' makes a field.
            var scan = index
            while scan < bytes.count, isKeyByte(bytes[scan]) { scan += 1 }
            if scan > index, scan < bytes.count, bytes[scan] == UInt8(ascii: "=") {
                key = String(decoding: bytes[index..<scan], as: UTF8.self)
                index = scan + 1
            }
            let value: String
            if index < bytes.count, bytes[index] == UInt8(ascii: "\"") {
                (value, index) = try quotedString(bytes, from: index)
                if index < bytes.count, bytes[index] != UInt8(ascii: " ") {
                    // Text glued to a closing quote is part of no token: refuse rather than guess.
                    throw .unterminatedQuote
                }
            } else {
                let valueStart = index
                while index < bytes.count, bytes[index] != UInt8(ascii: " ") {
                    if bytes[index] < 0x20 || bytes[index] == 0x7F { throw .controlCharacter }
                    index += 1
                }
                value = String(decoding: bytes[valueStart..<index], as: UTF8.self)
            }
            tokens.append(Token(key: key, value: value, offset: start))
        }
        return tokens
    }

    /// Reads free text starting at byte `offset` of `line`: a quoted string if it starts with a
    /// quote, otherwise the rest of the line with surrounding spaces trimmed.
    public static func freeText(_ line: String, from offset: Int) throws(TokenizeError) -> String {
        let bytes = Array(line.utf8)
        var start = offset
        while start < bytes.count, bytes[start] == UInt8(ascii: " ") { start += 1 }
        if start < bytes.count, bytes[start] == UInt8(ascii: "\"") {
            let (text, end) = try quotedString(bytes, from: start)
            if bytes[end...].contains(where: { $0 != UInt8(ascii: " ") }) { throw .unterminatedQuote }
            return text
        }
        var end = bytes.count
        while end > start, bytes[end - 1] == UInt8(ascii: " ") { end -= 1 }
        if bytes[start..<end].contains(where: { $0 < 0x20 || $0 == 0x7F }) { throw .controlCharacter }
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }

    private static func isKeyByte(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
            || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
    }

    /// Decodes the quoted string that opens at `start`; returns it and the index after its closing quote.
    private static func quotedString(_ bytes: [UInt8], from start: Int) throws(TokenizeError) -> (String, Int) {
        var out: [UInt8] = []
        var index = start + 1
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                return (String(decoding: out, as: UTF8.self), index + 1)
            case UInt8(ascii: "\\"):
                index += 1
                guard index < bytes.count else { throw .unterminatedQuote }
                switch bytes[index] {
                case UInt8(ascii: "\""): out.append(UInt8(ascii: "\""))
                case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\"))
                case UInt8(ascii: "n"): out.append(UInt8(ascii: "\n"))
                case UInt8(ascii: "r"): out.append(UInt8(ascii: "\r"))
                case UInt8(ascii: "t"): out.append(UInt8(ascii: "\t"))
                default: throw .badEscape
                }
            default:
                if byte < 0x20 || byte == 0x7F { throw .controlCharacter }
                out.append(byte)
            }
            index += 1
        }
        throw .unterminatedQuote
    }
}
