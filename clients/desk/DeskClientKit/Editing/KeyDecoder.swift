/// Turns bytes read from a terminal in raw mode into key presses.
///
/// Knows the sequences xterm, VTE, tmux, screen and the Linux console send for the keys the
/// editor uses (CSI and SS3 forms). Sequences and UTF-8 characters split across reads are
/// kept until the rest arrives; a lone ESC at the end of a read is kept too, since it may
/// start a sequence, and comes out as `.escape` when the next byte does not continue it or
/// when `flush()` is called.
///
/// A bracketed paste (the terminal sends `ESC[200~`, the text, `ESC[201~` once the app has
/// asked with `ESC[?2004h`) comes out as one `.paste` key, however many reads it spans: its
/// bytes are gathered without being decoded as keys, so a pasted line break never acts as
/// Enter. Each byte is looked at a bounded number of times, so a long paste costs linear time.
public struct KeyDecoder: Sendable {
    private var pending: [UInt8] = []
    /// The bytes of a bracketed paste whose end has not arrived yet; nil outside a paste.
    private var pasted: [UInt8]?

    static let pasteStart = Array("\u{1B}[200~".utf8)
    static let pasteEnd = Array("\u{1B}[201~".utf8)
    /// A paste longer than this is ended there (a terminal that never sends the end marker
    /// must not swallow the keyboard for good).
    static let maximumPasteBytes = 1 << 20

    public init() {}

    /// Feeds bytes in; returns the keys they complete, in order.
    public mutating func feed<Bytes: Sequence>(_ bytes: Bytes) -> [Key] where Bytes.Element == UInt8 {
        var keys: [Key] = []
        if var paste = pasted {
            let searchFrom = max(0, paste.count - Self.pasteEnd.count + 1)
            paste.append(contentsOf: bytes)
            guard let end = Self.find(Self.pasteEnd, in: paste, from: searchFrom) else {
                if paste.count >= Self.maximumPasteBytes {
                    pasted = nil
                    return [.paste(String(decoding: paste, as: UTF8.self))]
                }
                pasted = paste
                return []
            }
            pasted = nil
            keys.append(.paste(String(decoding: paste[..<end], as: UTF8.self)))
            pending = Array(paste[(end + Self.pasteEnd.count)...])
        } else {
            pending.append(contentsOf: bytes)
        }
        var index = 0
        var text = ""
        func flushText() {
            if !text.isEmpty {
                keys.append(.text(text))
                text = ""
            }
        }
        while index < pending.count {
            let byte = pending[index]
            if byte >= 0x20 && byte != 0x7F {
                guard let (scalar, length) = Self.utf8Scalar(pending, at: index) else {
                    if Self.isIncompleteUTF8(pending, at: index) { break }
                    index += 1  // An invalid byte: dropped.
                    continue
                }
                text.unicodeScalars.append(scalar)
                index += length
                continue
            }
            flushText()
            if byte == 0x1B, Self.hasPrefix(Self.pasteStart, in: pending, at: index) {
                let contentStart = index + Self.pasteStart.count
                if let end = Self.find(Self.pasteEnd, in: pending, from: contentStart) {
                    keys.append(.paste(String(decoding: pending[contentStart..<end], as: UTF8.self)))
                    index = end + Self.pasteEnd.count
                    continue
                }
                pasted = Array(pending[contentStart...])
                index = pending.count
                break
            }
            if byte == 0x1B {
                guard let (key, length) = Self.escapeSequence(pending, at: index) else { break }
                keys.append(key)
                index += length
                continue
            }
            keys.append(Self.controlKey(byte))
            index += 1
        }
        flushText()
        pending.removeFirst(index)
        return keys
    }

    /// Keys held back waiting for more bytes (a lone ESC): returns them now. A paste in
    /// progress is left alone (see `endPaste`).
    public mutating func flush() -> [Key] {
        defer { pending.removeAll() }
        if pending == [0x1B] { return [.escape] }
        return pending.isEmpty ? [] : [.unknown]
    }

    /// True while bytes other than a paste's are held back.
    public var hasPending: Bool { !pending.isEmpty }

    /// True between a paste's start marker and its end.
    public var isPasting: Bool { pasted != nil }

    /// Ends a paste whose end marker never came, returning what arrived of it.
    public mutating func endPaste() -> [Key] {
        guard let paste = pasted else { return [] }
        pasted = nil
        return [.paste(String(decoding: paste, as: UTF8.self))]
    }

    private static func hasPrefix(_ marker: [UInt8], in bytes: [UInt8], at start: Int) -> Bool {
        guard start + marker.count <= bytes.count else {
            return false
        }
        for offset in marker.indices where bytes[start + offset] != marker[offset] { return false }
        return true
    }

    /// Where `marker` first starts in `bytes` at or after `start`.
    private static func find(_ marker: [UInt8], in bytes: [UInt8], from start: Int) -> Int? {
        guard bytes.count >= marker.count else { return nil }
        var index = start
        while index <= bytes.count - marker.count {
            if bytes[index] == marker[0], hasPrefix(marker, in: bytes, at: index) { return index }
            index += 1
        }
        return nil
    }

    private static func controlKey(_ byte: UInt8) -> Key {
        switch byte {
        case 0x0D, 0x0A: .enter
        case 0x09: .tab
        case 0x7F, 0x08: .backspace
        case 0x01...0x1A: .control(Character(Unicode.Scalar(byte + 0x60)))
        default: .unknown
        }
    }

    /// Decodes the escape sequence at `start`; nil when it is not complete yet.
    private static func escapeSequence(_ bytes: [UInt8], at start: Int) -> (Key, Int)? {
        guard start + 1 < bytes.count else { return nil }
        let second = bytes[start + 1]
        switch second {
        case UInt8(ascii: "["):
            return controlSequence(bytes, at: start)
        case UInt8(ascii: "O"):
            guard start + 2 < bytes.count else { return nil }
            let key: Key = switch bytes[start + 2] {
            case UInt8(ascii: "A"): .up
            case UInt8(ascii: "B"): .down
            case UInt8(ascii: "C"): .right
            case UInt8(ascii: "D"): .left
            case UInt8(ascii: "H"): .home
            case UInt8(ascii: "F"): .end
            // xterm's F1-F4.
            case UInt8(ascii: "P"): .function(1)
            case UInt8(ascii: "Q"): .function(2)
            case UInt8(ascii: "R"): .function(3)
            case UInt8(ascii: "S"): .function(4)
            default: .unknown
            }
            return (key, 3)
        case 0x7F, 0x08:
            return (.altBackspace, 2)
        case 0x1B:
            return (.escape, 1)
        default:
            if second >= 0x20, second < 0x7F {
                return (.alt(Character(Unicode.Scalar(second))), 2)
            }
            return (.escape, 1)
        }
    }

    /// `ESC [ params final`: parameters are digits and `;`, the final byte 0x40...0x7E.
    private static func controlSequence(_ bytes: [UInt8], at start: Int) -> (Key, Int)? {
        var index = start + 2
        while index < bytes.count, (0x30...0x3F).contains(bytes[index]) { index += 1 }
        while index < bytes.count, (0x20...0x2F).contains(bytes[index]) { index += 1 }
        guard index < bytes.count else { return nil }
        let final = bytes[index]
        let parameters = String(decoding: bytes[(start + 2)..<index], as: UTF8.self).split(separator: ";").map { Int($0) ?? 0 }
        let length = index - start + 1
        // Modifier parameter: 1 + (shift 1, alt 2, ctrl 4); 3 = alt, 5 = ctrl.
        let modifier = parameters.count >= 2 ? parameters[1] : 1
        let isWordMove = modifier == 3 || modifier == 5 || modifier == 7
        switch final {
        case UInt8(ascii: "A"): return (.up, length)
        case UInt8(ascii: "B"): return (.down, length)
        case UInt8(ascii: "C"): return (isWordMove ? .wordRight : .right, length)
        case UInt8(ascii: "D"): return (isWordMove ? .wordLeft : .left, length)
        case UInt8(ascii: "H"): return (.home, length)
        case UInt8(ascii: "F"): return (.end, length)
        case UInt8(ascii: "~"):
            switch parameters.first ?? 0 {
            case 1, 7: return (.home, length)
            case 4, 8: return (.end, length)
            case 3: return (.delete, length)
            // F1-F5 as rxvt and the Linux console send them, then F6-F12 as every terminal does.
            case 11...15: return (.function(parameters[0] - 10), length)
            case 17...21: return (.function(parameters[0] - 11), length)
            case 23, 24: return (.function(parameters[0] - 12), length)
            default: return (.unknown, length)
            }
        default: return (.unknown, length)
        }
    }

    private static func utf8Scalar(_ bytes: [UInt8], at start: Int) -> (Unicode.Scalar, Int)? {
        let lead = bytes[start]
        let length: Int
        switch lead {
        case 0x00...0x7F: return (Unicode.Scalar(lead), 1)
        case 0xC2...0xDF: length = 2
        case 0xE0...0xEF: length = 3
        case 0xF0...0xF4: length = 4
        default: return nil
        }
        guard start + length <= bytes.count else { return nil }
        var decoder = UTF8()
        var iterator = bytes[start..<(start + length)].makeIterator()
        guard case .scalarValue(let scalar) = decoder.decode(&iterator) else { return nil }
        return (scalar, length)
    }

    /// True when the bytes at `start` are a valid UTF-8 prefix that needs more bytes.
    private static func isIncompleteUTF8(_ bytes: [UInt8], at start: Int) -> Bool {
        let lead = bytes[start]
        let length: Int
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0...0xEF: length = 3
        case 0xF0...0xF4: length = 4
        default: return false
        }
        let available = bytes.count - start
        guard available < length else { return false }
        return bytes[(start + 1)...].allSatisfy { (0x80...0xBF).contains($0) }
    }
}
