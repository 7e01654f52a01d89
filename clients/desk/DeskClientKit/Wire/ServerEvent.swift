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
    /// the bell for: a mention, a direct message, their lease running out or gone, an order
    /// reassigned to or from them, an escalation nudge.
    public func isPing(for user: String?) -> Bool {
        guard let user else { return false }
        switch kind {
        case "mention", "lease-warning", "lease-expired", "stuck-warning": return true
        case "message": return fields["from"] != user
        case "reassigned": return fields["from"] == user || fields["to"] == user
        default: return false
        }
    }

    /// When it happened, from its `at=` field.
    public var date: Date? { fields["at"].flatMap(Timestamps.date) }
}
