import OrderDeskWire

/// The encoder: replies, events and the data lines they carry, written as bytes.
///
/// The only place a reply's or an event's field keys are spelled (protocol.md, "Replies",
/// "Data lines", "Events"). The server encodes a reply straight into the connection's buffer
/// and an event once for all of its recipients.
extension WireWriter {
    // MARK: Values

    /// An instant as `YYYY-MM-DDTHH:MM:SSZ`.
    public mutating func instant(_ instant: Instant) {
        let milliseconds = instant.milliseconds
        let seconds = milliseconds / 1000 - (milliseconds % 1000 < 0 ? 1 : 0)
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let (year, month, day) = CivilDate.from(daysSinceEpoch: days)
        guard (0...9999).contains(year) else { return raw(instant.iso8601) }
        padded(year, width: 4); raw(UInt8(ascii: "-"))
        padded(month, width: 2); raw(UInt8(ascii: "-"))
        padded(day, width: 2); raw(UInt8(ascii: "T"))
        padded(secondOfDay / 3600, width: 2); raw(UInt8(ascii: ":"))
        padded(secondOfDay / 60 % 60, width: 2); raw(UInt8(ascii: ":"))
        padded(secondOfDay % 60, width: 2); raw(UInt8(ascii: "Z"))
    }

    public mutating func field(_ key: StaticString, _ value: Instant) {
        fieldKey(key)
        instant(value)
    }

    /// An amount as `units.cents`.
    public mutating func field(_ key: StaticString, _ value: Money) {
        fieldKey(key)
        guard value.cents >= 0 else { return raw(value.decimal) }
        number(value.cents / 100)
        raw(UInt8(ascii: "."))
        padded(value.cents % 100, width: 2)
    }

    public mutating func field(_ key: StaticString, _ value: Bool) {
        fieldKey(key)
        raw(value ? "yes" : "no")
    }

    /// Names joined by commas, `none` when there are none.
    mutating func list(_ key: StaticString, _ names: [String]) {
        fieldKey(key)
        if names.isEmpty { return raw("none") }
        word(names.joined(separator: ","))
    }

    /// `token=` and `until=` of a lease, when there is one.
    mutating func leaseFields(_ lease: Lease?) {
        guard let lease else { return }
        field("token", lease.token)
        field("until", lease.expires)
    }

    // MARK: Replies

    /// The whole reply: its data lines, then `OK …` or `ERR …`, each ending in LF.
    public mutating func reply(_ reply: Reply) {
        switch reply {
        case .answer(let answer): self.answer(answer)
        case .ok(let summary, let data):
            for line in data {
                raw("* ")
                raw(line)
                newline()
            }
            raw("OK")
            if !summary.isEmpty {
                space()
                raw(summary)
            }
            newline()
        case .failure(let error):
            raw("ERR ")
            raw(error.code)
            space()
            raw(error.message)
            newline()
        }
    }

    private mutating func answer(_ answer: Answer) {
        switch answer {
        case .pong: raw("OK PONG")
        case .bye: raw("OK bye")
        case .captured(let order, let total, let currency):
            raw("OK")
            field("order", order)
            field("total", total)
            field("currency", currency)
        case .claimed(let view):
            card(view)
            raw("OK")
            field("order", view.order.number)
            leaseFields(view.order.lease)
        case .card(let view, let marks):
            card(view)
            raw("OK")
            field("order", view.order.number)
            if let marks {
                field("marked", marks.marked)
                field("unread", marks.unread)
            }
        case .renewed(let order, let lease):
            raw("OK")
            field("order", order)
            leaseFields(lease)
        case .handedBack(let order, let queue):
            raw("OK")
            field("order", order)
            field("queue", queue?.wireName ?? "none")
        case .held(let order, let hold, let type, let lease):
            raw("OK")
            field("order", order)
            field("hold", hold)
            field("type", type.rawValue)
            leaseFields(lease)
        case .unheld(let order, let type, let open, let lease):
            raw("OK")
            field("order", order)
            field("type", type.rawValue)
            list("open-holds", open.map(\.rawValue))
            leaseFields(lease)
        case .moved(let order, let stage):
            raw("OK")
            field("order", order)
            field("stage", stage.rawValue)
        case .noted(let order, let notes, let mentioned):
            raw("OK")
            field("order", order)
            field("notes", notes)
            if !mentioned.isEmpty { field("mentioned", mentioned.joined(separator: ",")) }
        case .watching(let order, let isWatching):
            raw("OK")
            field("order", order)
            field("watching", isWatching)
        }
        newline()
    }

    // MARK: Data lines

    /// The status card's data lines (`* order …`, lines, holds, claim, watchers, notes), each ending in LF.
    public mutating func card(_ view: OrderView) {
        let order = view.order
        raw("* order ")
        word(order.number)
        field("stage", order.stage.rawValue)
        field("priority", order.priority.rawValue)
        field("customer", order.customer)
        field("rep", order.rep)
        field("po", order.purchaseOrder)
        field("total", order.total)
        field("currency", order.currency)
        field("captured", order.capturedAt)
        field("age", (view.now - order.capturedAt).compact)
        if let ship = order.requestedShipDate { field("ship", ship) }
        newline()
        for line in order.lines {
            raw("* line")
            field("sku", line.sku)
            field("qty", line.quantity)
            field("price", line.unitPrice)
            field("amount", line.amount)
            newline()
        }
        for hold in order.holds {
            raw("* ")
            holdLine(hold)
            newline()
        }
        if let lease = order.lease {
            raw("* claim")
            field("holder", lease.holder)
            field("token", lease.token)
            field("since", lease.since)
            field("until", lease.expires)
            if let grace = lease.graceEnds { field("grace-until", grace) }
        } else {
            raw("* claim holder=nobody")
        }
        newline()
        raw("* watchers")
        for watcher in order.watchers.sorted() {
            space()
            raw(watcher)
        }
        newline()
        let shown = order.notes.suffix(view.noteLimit)
        if order.notes.count > shown.count {
            raw("* notes")
            field("shown", shown.count)
            field("total", order.notes.count)
            newline()
        }
        for note in shown {
            raw("* ")
            noteLine(note)
            newline()
        }
    }

    /// `SO-1 stage=… priority=…`: one order on one line, for QUEUE, FIND and WHOAMI.
    public mutating func summary(_ order: Order, now: Instant) {
        word(order.number)
        field("stage", order.stage.rawValue)
        field("priority", order.priority.rawValue)
        field("customer", order.customer)
        field("rep", order.rep)
        field("po", order.purchaseOrder)
        field("total", order.total)
        field("currency", order.currency)
        field("age", (now - order.capturedAt).compact)
        let open = order.openHolds
        if !open.isEmpty { field("holds", open.map(\.type.rawValue).joined(separator: ",")) }
        if let lease = order.lease {
            field("holder", lease.holder)
            field("until", lease.expires)
        }
    }

    public mutating func holdLine(_ hold: Hold) {
        raw("hold")
        field("id", hold.id)
        field("type", hold.type.rawValue)
        switch hold.status {
        case .open: field("status", "open")
        case .released: field("status", "released")
        }
        field("by", hold.placedBy)
        field("at", hold.placedAt)
        field("reason", hold.reason)
        if case .released(let by, let at, let reason) = hold.status {
            field("released-by", by)
            field("released-at", at)
            field("release-reason", reason)
        }
    }

    public mutating func noteLine(_ note: Note) {
        raw("note")
        field("at", note.at)
        field("by", note.author)
        field("text", note.text)
    }

    public mutating func historyLine(_ entry: HistoryEntry) {
        field("at", entry.at)
        field("by", entry.actor)
        field("action", entry.action)
        field("detail", entry.detail)
    }

    // MARK: Events

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
