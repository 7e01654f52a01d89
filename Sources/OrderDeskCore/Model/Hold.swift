/// The kinds of exception a processor can put an order on hold for.
public enum HoldType: String, CaseIterable, Sendable {
    case credit, pricing, inventory, address, other
}

/// A typed exception on an order. An order moves on only when all its holds are released.
public struct Hold: Sendable, Equatable {
    /// Position of the hold on its order, from 1.
    public var id: Int
    public var type: HoldType
    public var reason: String
    public var placedBy: String
    public var placedAt: Instant
    public var status: Status

    /// Whether a hold still blocks the order.
    public enum Status: Sendable, Equatable {
        case open
        case released(by: String, at: Instant, reason: String)
    }

    public init(id: Int, type: HoldType, reason: String, placedBy: String, placedAt: Instant, status: Status = .open) {
        self.id = id
        self.type = type
        self.reason = reason
        self.placedBy = placedBy
        self.placedAt = placedAt
        self.status = status
    }

    public var isOpen: Bool { status == .open }
}
