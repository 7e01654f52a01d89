/// An amount in minor units (cents), so totals never suffer binary rounding.
///
/// Amounts come from the wire and from imports, so no arithmetic on them may trap: a product or
/// sum past `maximum` is `nil`, and the parser answers it with `ERR too-large`.
public struct Money: Hashable, Comparable, Sendable {
    public var cents: Int64

    public init(cents: Int64) { self.cents = cents }

    /// The largest amount the desk keeps, for a price, a line or an order total:
    /// 999,999,999,999.99 (twelve integer digits, as protocol.md says).
    public static let maximum = Money(cents: 99_999_999_999_999)

    public static func < (lhs: Money, rhs: Money) -> Bool { lhs.cents < rhs.cents }

    /// Parses `12`, `12.5` or `12.50`; at most twelve integer digits and two decimals, never negative.
    public init?(_ text: Substring) {
        var text = text
        guard let money = text.withUTF8({ Money(ascii: $0[...]) }) else { return nil }
        self = money
    }

    /// The same rule on the amount's bytes: digits, then at most one `.` and one or two digits.
    public init?<Bytes: Collection>(ascii bytes: Bytes) where Bytes.Element == UInt8 {
        var units: Int64 = 0, wholeDigits = 0
        var fraction: Int64 = 0, fractionDigits = 0
        var isFraction = false
        for byte in bytes {
            if byte == UInt8(ascii: "."), !isFraction {
                isFraction = true
                continue
            }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let digit = Int64(byte - UInt8(ascii: "0"))
            if isFraction {
                fractionDigits += 1
                guard fractionDigits <= 2 else { return nil }
                fraction = fraction * 10 + digit
            } else {
                wholeDigits += 1
                guard wholeDigits <= 12 else { return nil }
                units = units * 10 + digit  // at most 12 digits: far inside Int64
            }
        }
        guard wholeDigits > 0, !isFraction || fractionDigits > 0 else { return nil }
        cents = units * 100 + (fractionDigits == 1 ? fraction * 10 : fraction)
    }

    /// `1234.50`
    public var decimal: String {
        let fraction = cents % 100
        return "\(cents / 100)." + (fraction < 10 ? "0" : "") + "\(fraction)"
    }

    /// The amount times a whole quantity, or nil when that is past `maximum` (or negative).
    public func times(_ quantity: Int) -> Money? {
        let (product, overflow) = cents.multipliedReportingOverflow(by: Int64(quantity))
        guard !overflow, product >= 0, product <= Self.maximum.cents else { return nil }
        return Money(cents: product)
    }

    /// The sum, or nil when it is past `maximum`.
    public func adding(_ other: Money) -> Money? {
        let (sum, overflow) = cents.addingReportingOverflow(other.cents)
        guard !overflow, sum >= 0, sum <= Self.maximum.cents else { return nil }
        return Money(cents: sum)
    }

    /// The total of `lines`, or nil when a line or the sum is past `maximum`.
    public static func total(of lines: [OrderLine]) -> Money? {
        var total = Money(cents: 0)
        for line in lines {
            guard let amount = line.unitPrice.times(line.quantity), let sum = total.adding(amount) else { return nil }
            total = sum
        }
        return total
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
