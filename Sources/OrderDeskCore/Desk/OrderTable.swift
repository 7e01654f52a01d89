/// Every order on the desk, in the order it came: one dense array, and a dictionary from each
/// order's number to its position.
///
/// Orders are never removed, so positions never move; a scan walks positions a slice at a time.
/// The layout is for memory: a `[String: Order]` of a million orders keeps 2^21 buckets of key
/// and value (an `Order` is 280 bytes inline), over 600 MB; this keeps the million values once
/// (280 MB) and 2^21 buckets of a number and an Int (50 MB).
public struct OrderTable: Sendable {
    /// The orders by position.
    public private(set) var values: [Order] = []
    private var positions: [String: Int] = [:]

    public init() {}

    /// A table of `orders` in that order, taking the array over without copying an order (a
    /// restart restores a million). Should a number come twice, the later order replaces the
    /// earlier in its place, as `updateValue` does.
    public init(restoring orders: [Order]) {
        values = orders
        positions.reserveCapacity(values.count)
        for position in values.indices where positions.updateValue(position, forKey: values[position].number) != nil {
            self = OrderTable()
            reserveCapacity(orders.count)
            for order in orders { updateValue(order, forKey: order.number) }
            return
        }
    }

    public var count: Int { values.count }

    /// Every order number (in no particular order).
    public var keys: Dictionary<String, Int>.Keys { positions.keys }

    public mutating func reserveCapacity(_ capacity: Int) {
        values.reserveCapacity(capacity)
        positions.reserveCapacity(capacity)
    }

    /// The order numbered `number`. Setting replaces it, or appends it when new; setting nil does
    /// nothing (orders are never removed).
    public subscript(number: String) -> Order? {
        get {
            guard let position = positions[number] else { return nil }
            return values[position]
        }
        set {
            guard let newValue else { return }
            updateValue(newValue, forKey: number)
        }
    }

    /// Stores `order` under `number` (its own number); returns the order it replaced, or nil when
    /// it is new (it then goes last).
    @discardableResult
    public mutating func updateValue(_ order: Order, forKey number: String) -> Order? {
        if let position = positions[number] {
            let previous = values[position]
            values[position] = order
            return previous
        }
        positions[number] = values.count
        values.append(order)
        return nil
    }

    /// Changes the order numbered `number` in place (no copy of its arrays); false when there is none.
    @discardableResult
    public mutating func modify(_ number: String, _ body: (inout Order) -> Void) -> Bool {
        guard let position = positions[number] else { return false }
        body(&values[position])
        return true
    }

    /// The number of the order at `position` (0 ..< count).
    public func number(at position: Int) -> String { values[position].number }
}

extension OrderTable: Sequence {
    /// The orders with their numbers, in the order they came.
    public func makeIterator() -> some IteratorProtocol<(key: String, value: Order)> {
        values.lazy.map { (key: $0.number, value: $0) }.makeIterator()
    }
}

extension OrderTable: Equatable {
    /// The same orders in the same order (positions follow from that).
    public static func == (lhs: OrderTable, rhs: OrderTable) -> Bool { lhs.values == rhs.values }
}
