/// Bytes of wire text under construction: words, `key=value` fields and quoted strings written
/// straight into one growing buffer, with no intermediate `String` per field.
///
/// The quoting rules (protocol.md, "Words, fields and quoting") live here once; `Quoting`'s
/// String conveniences are built on this writer.
public struct WireWriter: Sendable {
    public var bytes: [UInt8]

    public init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public var count: Int { bytes.count }
    public var isEmpty: Bool { bytes.isEmpty }

    /// Hands the bytes over and leaves the writer empty (keeping no capacity).
    public mutating func take() -> [UInt8] {
        defer { bytes = [] }
        return bytes
    }

    public mutating func removeAll(keepingCapacity: Bool = true) { bytes.removeAll(keepingCapacity: keepingCapacity) }

    // MARK: Raw pieces

    /// Appends `text` as it is (a keyword, a known-safe word, or a line already in wire form).
    @inlinable public mutating func raw(_ text: String) {
        var text = text
        text.withUTF8 { bytes.append(contentsOf: $0) }
    }

    @inlinable public mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    @inlinable public mutating func raw(_ byte: UInt8) { bytes.append(byte) }

    public mutating func raw<C: Collection>(contentsOf other: C) where C.Element == UInt8 { bytes.append(contentsOf: other) }

    public mutating func space() { bytes.append(0x20) }
    public mutating func newline() { bytes.append(0x0A) }

    /// Appends a decimal number.
    public mutating func number(_ value: Int64) {
        if value < 0 {
            bytes.append(UInt8(ascii: "-"))
            // The magnitude of Int64.min does not fit in Int64; it does in UInt64.
            number(UInt64(bitPattern: 0 &- value))
        } else {
            number(UInt64(value))
        }
    }

    public mutating func number(_ value: Int) { number(Int64(value)) }

    public mutating func number(_ value: UInt64) {
        var divisor: UInt64 = 1
        while value / divisor >= 10 { divisor *= 10 }  // at most 10^19, which UInt64 holds
        while divisor > 0 {
            bytes.append(UInt8(truncatingIfNeeded: 48 &+ value / divisor % 10))
            divisor /= 10
        }
    }

    /// Appends `value` (0 or more) with at least `width` digits, zero-padded (times and dates).
    public mutating func padded(_ value: Int64, width: Int) {
        var digits = 1
        var rest = value / 10
        while rest > 0 {
            digits += 1
            rest /= 10
        }
        if value >= 0, digits < width {
            for _ in 0..<(width - digits) { bytes.append(48) }
        }
        number(value)
    }

    // MARK: Words and fields

    /// Appends `text` as one wire word, quoted only when it must be.
    public mutating func word(_ text: String) {
        var text = text
        text.withUTF8 { utf8 in
            if !utf8.isEmpty && !utf8.contains(where: Self.needsQuoting) {
                bytes.append(contentsOf: utf8)
            } else {
                appendQuoted(utf8)
            }
        }
    }

    /// Appends `text` as a quoted string, always.
    public mutating func quoted(_ text: String) {
        var text = text
        text.withUTF8 { appendQuoted($0) }
    }

    /// Appends ` key=value` (a space first unless the line is empty so far, see `fieldStart`).
    public mutating func field(_ key: StaticString, _ value: String) {
        fieldKey(key)
        word(value)
    }

    public mutating func field(_ key: StaticString, _ value: Int64) {
        fieldKey(key)
        number(value)
    }

    public mutating func field(_ key: StaticString, _ value: Int) { field(key, Int64(value)) }

    public mutating func field(_ key: StaticString, _ value: UInt64) {
        fieldKey(key)
        number(value)
    }

    /// A field whose key is only known at run time (the long tail of reply lines).
    public mutating func field(named key: String, _ value: String) {
        separate()
        raw(key)
        bytes.append(UInt8(ascii: "="))
        word(value)
    }

    /// Writes ` key=`; the separating space is left out at the start of a line.
    public mutating func fieldKey(_ key: StaticString) {
        separate()
        raw(key)
        bytes.append(UInt8(ascii: "="))
    }

    /// A space, unless the buffer is empty or ends a line or a space already.
    public mutating func separate() {
        if let last = bytes.last, last != 0x0A, last != 0x20 { bytes.append(0x20) }
    }

    private mutating func appendQuoted(_ utf8: UnsafeBufferPointer<UInt8>) {
        bytes.append(UInt8(ascii: "\""))
        for byte in utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "\""))
            case UInt8(ascii: "\\"): bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "\\"))
            case 0x0A: bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "n"))
            case 0x0D: bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "r"))
            case 0x09: bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "t"))
            // Other control characters have no escape: they travel as a space.
            case 0..<0x20, 0x7F: bytes.append(0x20)
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    @inlinable public static func needsQuoting(_ byte: UInt8) -> Bool {
        byte <= 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte == UInt8(ascii: "=") || byte == 0x7F
    }

    /// The bytes as a String (they are valid UTF-8 when every piece was).
    public var text: String { String(decoding: bytes, as: UTF8.self) }
}
