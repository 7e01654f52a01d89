import OrderDeskWire

/// Events as `EVENT` lines, encoded once for all of their recipients (protocol.md, "Events").
/// Part of the encoder: with WireEncoder.swift and its other extensions, the only place field
/// keys are spelled.
extension WireWriter {
    /// `EVENT <id> <kind> key=value…`, without the line end.
    public mutating func event(_ event: Event) {
        raw("EVENT ")
        number(event.id)
        space()
        raw(event.kindName)
        if let order = event.order { field("order", order) }
        switch event.kind {
        case .captured(_, let customer, let by):
            field("customer", customer)
            field("by", by)
        case .note(_, let by, let text), .mention(_, let by, let text):
            field("by", by)
            field("text", text)
            orderReferences(in: text)
        case .hold(_, let type, let by, let reason), .unhold(_, let type, let by, let reason):
            field("type", type.rawValue)
            field("by", by)
            field("reason", reason)
        case .stage(_, let from, let to, let by, let reason):
            field("from", from.rawValue)
            field("to", to.rawValue)
            field("by", by)
            if let reason { field("reason", reason) }
        case .claimed(_, let by, let token):
            field("by", by)
            field("token", token)
        case .handedBack(_, let by, let reason):
            field("by", by)
            field("reason", reason)
        case .reassigned(_, let from, let to, let by, let reason, let token):
            field("from", from ?? "nobody")
            field("to", to ?? "nobody")
            field("by", by)
            field("reason", reason)
            if let token { field("token", token) }
        case .leaseWarning(_, let holder, let until, let token):
            field("until", until)
            field("token", token)
            field("holder", holder)
        case .leaseExpired(_, let holder, let token, let reason):
            field("token", token)
            field("reason", reason)
            field("holder", holder)
        case .queue(_, let queue, let change):
            field("queue", queue)
            field("change", change)
        case .stuckWarning(_, let queue, let since, let holder):
            field("queue", queue)
            field("since", since)
            field("holder", holder)
        case .stuck(_, let queue, let since), .escalated(_, let queue, let since):
            field("queue", queue)
            field("since", since)
        case .message(let from, let text):
            field("from", from)
            field("text", text)
            orderReferences(in: text)
        case .away(let user, let text):
            field("user", user)
            field("text", text)
        case .say(let room, let by, let text):
            field("room", room)
            field("by", by)
            field("text", text)
            orderReferences(in: text)
        }
        field("at", event.at)
    }

    private mutating func orderReferences(in text: String) {
        for (key, value) in Event.orderReferences(in: text) { field(named: key, value) }
    }
}
