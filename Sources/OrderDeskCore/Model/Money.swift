/// An amount in minor units (cents), so totals never suffer binary rounding.
public struct Money: Hashable, Comparable, Sendable {
    public var cents: Int64

    public init(cents: Int64) { self.cents = cents }

    public static func < (lhs: Money, rhs: Money) -> Bool { lhs.cents < rhs.cents }
    public static func + (lhs: Money, rhs: Money) -> Money { Money(cents: lhs.cents + rhs.cents) }

    /// Parses `12`, `12.5` or `12.50`; at most two decimals, never negative.
    public init?(_ text: Substring) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, let whole = parts.first, !whole.isEmpty, whole.count <= 12,
              whole.allSatisfy(\.isASCIIDigit), let units = Int64(whole)
        else { return nil }
        var fraction: Int64 = 0
        if parts.count == 2 {
            let digits = parts[1]
            guard (1...2).contains(digits.count), digits.allSatisfy(\.isASCIIDigit), let value = Int64(digits) else { return nil }
            fraction = digits.count == 1 ? value * 10 : value
        }
        cents = units * 100 + fraction
    }

    /// `1234.50`
    public var decimal: String {
        let fraction = cents % 100
        return "\(cents / 100)." + (fraction < 10 ? "0" : "") + "\(fraction)"
    }

    /// The amount times a whole quantity.
    public func times(_ quantity: Int) -> Money { Money(cents: cents * Int64(quantity)) }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
