import OrderDeskWire

/// A push: something happened that a user should hear about. Every event has an id that only grows.
public struct Event: Sendable, Equatable {
    public var id: UInt64
    public var at: Instant
    public var kind: Kind

    /// What happened. protocol.md, "Events", lists each with its fields.
    public enum Kind: Sendable, Equatable {
        case captured(order: String, customer: String, by: String)
        case note(order: String, by: String, text: String)
        case mention(order: String, by: String, text: String)
        case hold(order: String, type: HoldType, by: String, reason: String)
        case unhold(order: String, type: HoldType, by: String, reason: String)
        case stage(order: String, from: Stage, to: Stage, by: String, reason: String?)
        case claimed(order: String, by: String, token: UInt64)
        case handedBack(order: String, by: String, reason: String)
        case reassigned(order: String, from: String?, to: String?, by: String, reason: String, token: UInt64?)
        case leaseWarning(order: String, until: Instant, token: UInt64)
        case leaseExpired(order: String, token: UInt64, reason: String)
    }

    public init(id: UInt64, at: Instant, kind: Kind) {
        self.id = id
        self.at = at
        self.kind = kind
    }

    /// The order the event is about.
    public var order: String {
        switch kind {
        case .captured(let order, _, _), .note(let order, _, _), .mention(let order, _, _), .hold(let order, _, _, _),
             .unhold(let order, _, _, _), .stage(let order, _, _, _, _), .claimed(let order, _, _), .handedBack(let order, _, _),
             .reassigned(let order, _, _, _, _, _), .leaseWarning(let order, _, _), .leaseExpired(let order, _, _):
            order
        }
    }

    /// `EVENT <id> <kind> key=value...`, without the line end.
    public var wireLine: String {
        var fields: [(String, String)] = [("order", order)]
        let name: String
        switch kind {
        case .captured(_, let customer, let by):
            name = "captured"; fields += [("customer", customer), ("by", by)]
        case .note(_, let by, let text):
            name = "note"; fields += [("by", by), ("text", text)]
        case .mention(_, let by, let text):
            name = "mention"; fields += [("by", by), ("text", text)]
        case .hold(_, let type, let by, let reason):
            name = "hold"; fields += [("type", type.rawValue), ("by", by), ("reason", reason)]
        case .unhold(_, let type, let by, let reason):
            name = "unhold"; fields += [("type", type.rawValue), ("by", by), ("reason", reason)]
        case .stage(_, let from, let to, let by, let reason):
            name = "stage"; fields += [("from", from.rawValue), ("to", to.rawValue), ("by", by)]
            if let reason { fields.append(("reason", reason)) }
        case .claimed(_, let by, let token):
            name = "claimed"; fields += [("by", by), ("token", String(token))]
        case .handedBack(_, let by, let reason):
            name = "released"; fields += [("by", by), ("reason", reason)]
        case .reassigned(_, let from, let to, let by, let reason, let token):
            name = "reassigned"
            fields += [("from", from ?? "nobody"), ("to", to ?? "nobody"), ("by", by), ("reason", reason)]
            if let token { fields.append(("token", String(token))) }
        case .leaseWarning(_, let until, let token):
            name = "lease-warning"; fields += [("until", until.iso8601), ("token", String(token))]
        case .leaseExpired(_, let token, let reason):
            name = "lease-expired"; fields += [("token", String(token)), ("reason", reason)]
        }
        fields.append(("at", at.iso8601))
        return "EVENT \(id) \(name) " + fields.map { Quoting.field($0.0, $0.1) }.joined(separator: " ")
    }
}

/// An event and the users it goes to (every open session of each).
public struct Push: Sendable, Equatable {
    public var recipients: [String]
    public var event: Event

    public init(recipients: [String], event: Event) {
        self.recipients = recipients
        self.event = event
    }
}
