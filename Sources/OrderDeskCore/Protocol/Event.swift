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
        /// About one holder's lease; watchers who get `leaseExpired` learn whose claim ended.
        case leaseWarning(order: String, holder: String, until: Instant, token: UInt64)
        case leaseExpired(order: String, holder: String, token: UInt64, reason: String)
        /// An order entered or left a queue the recipient subscribes to.
        case queue(order: String, queue: String, change: String)
        /// Escalation steps: the holder is nudged, the rep pinged, the admins told.
        case stuckWarning(order: String, queue: String, since: Instant, holder: String)
        case stuck(order: String, queue: String, since: Instant)
        case escalated(order: String, queue: String, since: Instant)
        /// A direct message, and the automatic answer of someone away.
        case message(from: String, text: String)
        case away(user: String, text: String)
        /// A post in a room.
        case say(room: String, by: String, text: String)
    }

    public init(id: UInt64, at: Instant, kind: Kind) {
        self.id = id
        self.at = at
        self.kind = kind
    }

    /// The order the event is about, if it is about one.
    public var order: String? {
        switch kind {
        case .message, .away, .say: return nil
        case .queue(let order, _, _), .stuckWarning(let order, _, _, _), .stuck(let order, _, _), .escalated(let order, _, _):
            return order
        case .captured(let order, _, _), .note(let order, _, _), .mention(let order, _, _), .hold(let order, _, _, _),
             .unhold(let order, _, _, _), .stage(let order, _, _, _, _), .claimed(let order, _, _), .handedBack(let order, _, _),
             .reassigned(let order, _, _, _, _, _), .leaseWarning(let order, _, _, _), .leaseExpired(let order, _, _, _):
            return order
        }
    }

    /// Whether the event is addressed to `user` by name, and so counts as unread in their inbox
    /// (and rings their bell): a mention of them, a message to them, their own lease or stuck
    /// claim, an order reassigned to or from them, their customer's stuck order, an escalation
    /// (sent to admins only). A watcher who hears of someone else's claim ending is only told.
    public func isPersonal(for user: String) -> Bool {
        switch kind {
        case .mention, .message, .stuck, .escalated: true
        case .leaseWarning(_, let holder, _, _), .leaseExpired(_, let holder, _, _), .stuckWarning(_, _, _, let holder):
            holder == user
        case .reassigned(_, let from, let to, _, _, _): from == user || to == user
        default: false
        }
    }

    /// Direct messages that find their recipient offline are pushed at the next login.
    public var waitsForLogin: Bool {
        if case .message = kind { return true }
        return false
    }

    /// The wire name of the event's kind.
    public var kindName: String {
        switch kind {
        case .captured: "captured"
        case .note: "note"
        case .mention: "mention"
        case .hold: "hold"
        case .unhold: "unhold"
        case .stage: "stage"
        case .claimed: "claimed"
        case .handedBack: "handed-back"
        case .reassigned: "reassigned"
        case .leaseWarning: "lease-warning"
        case .leaseExpired: "lease-expired"
        case .queue: "queue"
        case .stuckWarning: "stuck-warning"
        case .stuck: "stuck"
        case .escalated: "escalated"
        case .message: "message"
        case .away: "away"
        case .say: "say"
        }
    }

    /// `EVENT <id> <kind> key=value...`, without the line end.
    public var wireLine: String {
        var fields: [(String, String)] = order.map { [("order", $0)] } ?? []
        switch kind {
        case .captured(_, let customer, let by):
            fields += [("customer", customer), ("by", by)]
        case .note(_, let by, let text), .mention(_, let by, let text):
            fields += [("by", by), ("text", text)] + Self.orderReferences(in: text)
        case .hold(_, let type, let by, let reason), .unhold(_, let type, let by, let reason):
            fields += [("type", type.rawValue), ("by", by), ("reason", reason)]
        case .stage(_, let from, let to, let by, let reason):
            fields += [("from", from.rawValue), ("to", to.rawValue), ("by", by)]
            if let reason { fields.append(("reason", reason)) }
        case .claimed(_, let by, let token):
            fields += [("by", by), ("token", String(token))]
        case .handedBack(_, let by, let reason):
            fields += [("by", by), ("reason", reason)]
        case .reassigned(_, let from, let to, let by, let reason, let token):
            fields += [("from", from ?? "nobody"), ("to", to ?? "nobody"), ("by", by), ("reason", reason)]
            if let token { fields.append(("token", String(token))) }
        case .leaseWarning(_, let holder, let until, let token):
            fields += [("until", until.iso8601), ("token", String(token)), ("holder", holder)]
        case .leaseExpired(_, let holder, let token, let reason):
            fields += [("token", String(token)), ("reason", reason), ("holder", holder)]
        case .queue(_, let queue, let change):
            fields += [("queue", queue), ("change", change)]
        case .stuckWarning(_, let queue, let since, let holder):
            fields += [("queue", queue), ("since", since.iso8601), ("holder", holder)]
        case .stuck(_, let queue, let since), .escalated(_, let queue, let since):
            fields += [("queue", queue), ("since", since.iso8601)]
        case .message(let from, let text):
            fields += [("from", from), ("text", text)] + Self.orderReferences(in: text)
        case .away(let user, let text):
            fields += [("user", user), ("text", text)]
        case .say(let room, let by, let text):
            fields += [("room", room), ("by", by), ("text", text)] + Self.orderReferences(in: text)
        }
        fields.append(("at", at.iso8601))
        return "EVENT \(id) \(kindName) " + Rendering.join(fields)
    }

    /// `orders=SO-1,SO-2` for the order numbers a free text mentions, so clients can link them.
    static func orderReferences(in text: String) -> [(String, String)] {
        let numbers = OrderNumber.references(in: text)
        return numbers.isEmpty ? [] : [("orders", numbers.joined(separator: ","))]
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
