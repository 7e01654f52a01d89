/// A view of the orders that the desk keeps current. Listed by priority, then age.
public enum QueueName: Hashable, Sendable {
    /// Captured orders with no open hold: the day's new work.
    case new
    /// Orders not yet shipped or cancelled with an open hold of this type.
    case hold(HoldType)
    /// Orders released to fulfilment with no open hold, waiting to ship.
    case released
    /// The orders the asking user holds.
    case mine

    /// Every queue's wire name, in the order HELP lists them.
    public static let all: [QueueName] = [.new] + HoldType.allCases.map(QueueName.hold) + [.released, .mine]

    public init?(wireName: String) {
        switch wireName {
        case "new": self = .new
        case "released": self = .released
        case "mine": self = .mine
        default:
            guard let type = HoldType(rawValue: wireName) else { return nil }
            self = .hold(type)
        }
    }

    public var wireName: String {
        switch self {
        case .new: "new"
        case .hold(let type): type.rawValue
        case .released: "released"
        case .mine: "mine"
        }
    }

    /// The shared work queues an order belongs to right now (never `.mine`, which depends on who asks).
    public static func queues(of order: Order) -> [QueueName] {
        switch order.stage {
        case .shipped, .cancelled:
            return []
        case .captured, .released:
            let open = order.openHolds
            if open.isEmpty { return [order.stage == .captured ? .new : .released] }
            var queues: [QueueName] = []
            for hold in open where !queues.contains(.hold(hold.type)) { queues.append(.hold(hold.type)) }
            return queues
        }
    }
}
