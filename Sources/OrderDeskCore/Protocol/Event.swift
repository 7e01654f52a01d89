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

    /// `EVENT <id> <kind> key=value...`, without the line end (see `WireWriter.event`).
    public var wireLine: String {
        var writer = WireWriter(capacity: 128)
        writer.event(self)
        return writer.text
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
    /// The event as wire bytes, LF included: encoded once for every recipient.
    public let line: [UInt8]

    public init(recipients: [String], event: Event) {
        self.recipients = recipients
        self.event = event
        var writer = WireWriter(capacity: 160)
        writer.event(event)
        writer.newline()
        line = writer.bytes
    }

    /// The event's line as text, without its LF (for mailboxes).
    public var text: String { String(decoding: line.dropLast(), as: UTF8.self) }
}
