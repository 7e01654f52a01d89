import OrderDeskWire

/// The data lines that describe an order: the status card, the summary line, and hold, note and
/// history lines (protocol.md, "Data lines"); and `dataLine`, which writes any `* …` line. Part
/// of the encoder: with WireEncoder.swift and its other extensions, the only place field keys
/// are spelled.
extension WireWriter {
    /// One `* …` data line written by `body`.
    mutating func dataLine(_ body: (inout WireWriter) -> Void) {
        raw("* ")
        body(&self)
        newline()
    }

    /// The status card's data lines (`* order …`, lines, holds, claim, watchers, notes), each ending in LF.
    public mutating func card(_ view: OrderView) {
        let order = view.order
        raw("* order ")
        headline(order)
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

    /// The number, stage, priority, customer, rep, PO and total that a card's first line and a
    /// summary line both begin with.
    private mutating func headline(_ order: Order) {
        word(order.number)
        field("stage", order.stage.rawValue)
        field("priority", order.priority.rawValue)
        field("customer", order.customer)
        field("rep", order.rep)
        field("po", order.purchaseOrder)
        field("total", order.total)
        field("currency", order.currency)
    }

    /// `SO-1 stage=… priority=…`: one order on one line, for QUEUE, FIND and WHOAMI.
    public mutating func summary(_ order: Order, now: Instant) {
        headline(order)
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
}
