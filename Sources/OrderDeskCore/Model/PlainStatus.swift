/// An order as customer service reads it to a caller: the stage in words, what holds it up,
/// who is on it, when it ships. Pure: `now` comes in. Dates are UTC calendar days, written as
/// people say them (`7 December 2026`); holds are named by kind, never by their internal reason
/// (a reason may hold an `@name` or words not meant for a customer).
public struct PlainStatus: Sendable, Equatable {
    /// What the order's stage means for the customer.
    public var stage: String
    /// One sentence per open hold, or one saying nothing holds it up.
    public var blocks: [String]
    /// Who is working on it, and who the customer's rep is.
    public var people: String
    /// When it ships, shipped, or that no date was asked for.
    public var shipping: String

    public init(_ order: Order, now: Instant) {
        let captured = Self.day(order.capturedAt)
        let changed = Self.day(order.stageChangedAt)
        let open = order.holds.filter { if case .open = $0.status { true } else { false } }
        switch order.stage {
        case .captured:
            stage = open.isEmpty
                ? "Received on \(captured); it is being checked before it goes to the warehouse."
                : "Received on \(captured); it cannot go to the warehouse until the question below is settled."
        case .released:
            stage = open.isEmpty
                ? "Sent to the warehouse on \(changed); it is waiting to be shipped."
                : "Sent to the warehouse on \(changed), but held back from shipping until the question below is settled."
        case .shipped: stage = "Shipped on \(changed)."
        case .cancelled: stage = "Cancelled on \(changed)."
        }
        if open.isEmpty {
            blocks = [order.stage.isTerminal ? "Nothing is open on it." : "Nothing is holding it up."]
        } else {
            blocks = open.map { hold in
                "Waiting for \(Self.words(for: hold.type)) since \(Self.day(hold.placedAt)) (\(Self.span(now - hold.placedAt)))."
            }
        }
        let rep = "The customer's sales rep is \(order.rep)."
        if let lease = order.lease {
            people = "\(lease.holder) is working on it now. " + rep
        } else if order.stage.isTerminal {
            people = rep
        } else {
            people = "No one is working on it at this moment; it is in line to be picked up. " + rep
        }
        switch order.stage {
        case .shipped: shipping = "It left on \(changed)" + (order.requestedShipDate.map { "; the customer had asked for \(Self.day(isoDate: $0))." } ?? ".")
        case .cancelled: shipping = "It will not ship."
        case .captured, .released:
            shipping = order.requestedShipDate.map { "The customer asked for it to ship by \(Self.day(isoDate: $0))." }
                ?? "The customer did not ask for a ship date."
        }
    }

    /// What a hold type means to a caller.
    static func words(for type: HoldType) -> String {
        switch type {
        case .credit: "a credit check"
        case .pricing: "a price to be confirmed"
        case .inventory: "stock to become available"
        case .address: "the delivery address or other missing details"
        case .other: "a question to be answered"
        }
    }

    static let months = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
                         "November", "December"]

    /// `7 December 2026` for an instant (UTC).
    static func day(_ instant: Instant) -> String { day(isoDate: String(instant.iso8601.prefix(10))) }

    /// `7 December 2026` for `2026-12-07`; the text unchanged if it is not such a date.
    static func day(isoDate: String) -> String {
        let parts = isoDate.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, let month = Int(parts[1]), (1...12).contains(month), let day = Int(parts[2]), parts[0].count == 4 else {
            return isoDate
        }
        return "\(day) \(months[month - 1]) \(parts[0])"
    }

    /// `3 days`, `5 hours`, `20 minutes`, `less than a minute`: how long, in words, rounded down.
    static func span(_ span: Milliseconds) -> String {
        let minutes = max(0, span.value) / 60_000
        func plural(_ count: Int64, _ unit: String) -> String { "\(count) \(unit)\(count == 1 ? "" : "s")" }
        if minutes >= 2 * 24 * 60 { return plural(minutes / (24 * 60), "day") }
        if minutes >= 120 { return plural(minutes / 60, "hour") }
        if minutes >= 1 { return plural(minutes, "minute") }
        return "less than a minute"
    }
}
