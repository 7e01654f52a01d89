/// Order numbers by their trailing digits (`10089` -> `SO-10089`), so a caller's bare number
/// finds the order when only one ends so.
///
/// A million orders are restored with this index, so it keeps one integer key and one Int per
/// order: digit strings of up to 17 digits are packed into a `UInt64` (the digits' value times
/// 32, plus their count, so `089` and `89` stay apart). Longer ones, and the lists of numbers
/// that share their digits, are rare and keep Strings.
struct TrailingDigitsIndex: Sendable {
    /// The position in the desk's `OrderTable` of the one order whose number ends in the digits,
    /// or -1 when several do (they are in `shared`).
    private var positions: [UInt64: Int] = [:]
    /// The same for digit strings too long to pack.
    private var longPositions: [String: Int] = [:]
    /// The numbers of the orders that share their trailing digits, by those digits.
    private var shared: [String: [String]] = [:]

    /// What a bare number finds.
    enum Match: Equatable {
        /// The one order, by its position in the `OrderTable`.
        case one(position: Int)
        /// The numbers of every order ending in those digits.
        case several([String])
    }

    private static let packedDigits = 17

    mutating func reserveCapacity(_ capacity: Int) { positions.reserveCapacity(capacity) }

    /// Files `number`, at `position` in `orders` (the desk's `OrderTable` values), under its
    /// trailing digits (not when it is all digits: it is found as given).
    mutating func add(_ number: String, at position: Int, in orders: [Order]) {
        var number = number
        let digits = number.withUTF8 { bytes -> Int in
            var count = 0
            while count < bytes.count, Self.isDigit(bytes[bytes.count - 1 - count]) { count += 1 }
            return count
        }
        guard digits > 0, digits < number.utf8.count else { return }
        if digits <= Self.packedDigits {
            let key = number.withUTF8 { Self.packed(UnsafeBufferPointer(rebasing: $0[($0.count - digits)...])) }
            switch positions[key] {
            case nil: positions[key] = position
            case let first? where first >= 0:
                positions[key] = -1
                shared[Self.text(of: number, digits: digits)] = [orders[first].number, number]
            case _?: shared[Self.text(of: number, digits: digits), default: []].append(number)
            }
        } else {
            let key = Self.text(of: number, digits: digits)
            switch longPositions[key] {
            case nil: longPositions[key] = position
            case let first? where first >= 0:
                longPositions[key] = -1
                shared[key] = [orders[first].number, number]
            case _?: shared[key, default: []].append(number)
            }
        }
    }

    /// The order or orders whose numbers end in `digits` (all of them digits), or nil.
    func match(_ digits: String) -> Match? {
        var digits = digits
        let count = digits.utf8.count
        // Anything but digits would pack into another number's key ("1:" as "20"), or trap.
        guard count > 0, digits.utf8.allSatisfy(Self.isDigit) else { return nil }
        let position: Int? = if count <= Self.packedDigits {
            positions[digits.withUTF8 { Self.packed($0) }]
        } else {
            longPositions[digits]
        }
        guard let position else { return nil }
        return position >= 0 ? .one(position: position) : .several(shared[digits] ?? [])
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    /// `digits` (at most `packedDigits` of them) as one key.
    private static func packed(_ digits: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var value: UInt64 = 0
        for byte in digits { value = value * 10 + UInt64(byte - UInt8(ascii: "0")) }
        return value << 5 | UInt64(digits.count)
    }

    private static func text(of number: String, digits: Int) -> String { String(decoding: number.utf8.suffix(digits), as: UTF8.self) }
}
