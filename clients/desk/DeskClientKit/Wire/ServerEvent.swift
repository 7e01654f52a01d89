import Foundation

/// A push: `EVENT <id> <kind> key=value...`.
public struct ServerEvent: Equatable, Sendable {
    public var id: UInt64
    public var kind: String
    public var fields: [String: String]

    public init(id: UInt64, kind: String, fields: [String: String]) {
        self.id = id
        self.kind = kind
        self.fields = fields
    }

    public var order: String? { fields["order"] }

    /// True for events meant for `user` personally, which the screen makes stand out and rings
    /// the bell for: a mention, a direct message, their own lease running out or gone, an order
    /// reassigned to or from them, an escalation nudge. A watcher told that someone else's
    /// claim ended is not pinged.
    public func isPing(for user: String?) -> Bool {
        guard let user else { return false }
        switch kind {
        case "mention", "lease-warning", "lease-expired", "stuck-warning", "message", "reassigned": return isPersonal(for: user)
        default: return false
        }
    }

    /// Whether the server counts this event as unread for `user` (protocol.md, section 11): it
    /// names them as its holder, old or new holder, or recipient. Events from a server that did
    /// not name the holder yet (no `holder=`) count as they did then.
    public func isPersonal(for user: String?) -> Bool {
        guard let user else { return false }
        switch kind {
        case "mention", "stuck", "escalated": return true
        case "message": return fields["from"] != user
        case "lease-warning", "lease-expired", "stuck-warning": return fields["holder"].map { $0 == user } ?? true
        case "reassigned": return fields["from"] == user || fields["to"] == user
        default: return false
        }
    }

    /// The holder an event names, when it is someone other than `user`.
    func otherHolder(than user: String?) -> String? {
        guard let holder = fields["holder"], holder != user else { return nil }
        return holder
    }

    /// When it happened, from its `at=` field.
    public var date: Date? { fields["at"].flatMap(Timestamps.date) }
}
