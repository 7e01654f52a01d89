import OrderDeskWire

/// The encoder: replies, events and the data lines they carry, written as bytes.
///
/// This file and its extensions (WireEncoder+Metrics.swift, WireEncoder+DataLines.swift,
/// WireEncoder+Events.swift) are together the only place a reply's or an event's field keys
/// are spelled (protocol.md, "Replies", "Data lines", "Events"). The server encodes a reply
/// straight into the connection's buffer and an event once for all of its recipients. Here:
/// field values, and the replies' `OK` and `ERR` lines with the data lines they alone carry.
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

    /// `HELLO orderdesk 1 max-line=… …`, ending in LF (protocol.md, "Connecting").
    public mutating func greeting(_ greeting: Greeting) {
        raw("HELLO orderdesk 1")
        field("max-line", greeting.limits.maximumLineLength)
        field("max-note", greeting.limits.maximumNoteLength)
        field("max-order-lines", greeting.limits.maximumOrderLines)
        field("lease", greeting.leaseSeconds)
        field("grace", greeting.graceSeconds)
        field("max-sessions", greeting.maximumSessions)
        field("max-unsent", greeting.maximumUnsentBytes)
        field("idle-timeout", greeting.idleTimeoutSeconds)
        field("login-timeout", greeting.loginTimeoutSeconds)
        field("max-input", greeting.inputBudget)
        newline()
    }

    /// The whole reply: its data lines, then `OK …` or `ERR …`, each ending in LF.
    public mutating func reply(_ reply: Reply) {
        switch reply {
        case .answer(let answer): self.answer(answer)
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
        case .reassigned(let order, let from, let to, let lease):
            raw("OK")
            field("order", order)
            field("from", from ?? "nobody")
            field("to", to ?? "nobody")
            leaseFields(lease)
        case .whoami(let user, let role, let claims, let now, let unread):
            for order in claims { dataLine { $0.summary(order, now: now) } }
            raw("OK")
            field("user", user)
            field("role", role.rawValue)
            field("claims", claims.count)
            if let unread {
                field("unread", unread.unread)
                unreadOrders(unread.byOrder)
            }
        case .users(let listings):
            for listing in listings {
                dataLine {
                    $0.field("user", listing.user.name)
                    $0.field("role", listing.user.role.rawValue)
                    $0.field("online", listing.isOnline)
                    $0.field("claims", listing.claims)
                    $0.field("disabled", listing.user.isDisabled)
                    if let last = listing.user.lastLogin { $0.field("last-login", last) } else { $0.field("last-login", "never") }
                }
            }
            raw("OK")
            field("users", listings.count)
        case .orders(let page):
            for order in page.orders { dataLine { $0.summary(order, now: page.now) } }
            raw("OK")
            switch page.source {
            case .queue(let queue):
                field("queue", queue.wireName)
                field("count", page.count)
            case .search:
                field("found", page.count)
            }
            field("shown", page.orders.count)
        case .history(let order, let entries):
            for entry in entries { dataLine { $0.historyLine(entry) } }
            raw("OK")
            field("order", order)
            field("entries", entries.count)
        case .plainCard(let order, let status):
            dataLine {
                $0.raw("card")
                $0.field("order", order.number)
                $0.field("customer", order.customer)
                $0.field("po", order.purchaseOrder)
                $0.field("stage", order.stage.rawValue)
            }
            dataLine { $0.raw("stage"); $0.field("text", status.stage) }
            for block in status.blocks { dataLine { $0.raw("blocked"); $0.field("text", block) } }
            dataLine { $0.raw("people"); $0.field("text", status.people) }
            dataLine { $0.raw("ship"); $0.field("text", status.shipping) }
            raw("OK")
            field("order", order.number)
        case .stuck(let total, let rows):
            for row in rows { dataLine { $0.stuckRow(row) } }
            raw("OK")
            field("stuck", total)
            field("shown", rows.count)
        case .audit(let page):
            for record in page.records {
                dataLine {
                    $0.field("at", record.entry.at)
                    $0.field("by", record.entry.actor)
                    $0.field("action", record.entry.action)
                    $0.field("detail", record.entry.detail)
                    $0.field("id", record.id)
                }
            }
            raw("OK")
            field("entries", page.total)
            field("shown", page.records.count)
            if page.hasMore, let oldest = page.records.last { field("more-before", oldest.id) }
        case .inbox(let page):
            for entry in page.entries {
                dataLine {
                    // The event's own line without its `EVENT ` word, then whether it was read.
                    $0.raw(String(entry.line.dropFirst("EVENT ".count)))
                    $0.field("read", entry.isRead)
                }
            }
            raw("OK")
            field("unread", page.unread)
            field("shown", page.entries.count)
            if let before = page.moreBefore { field("more-before", before) }
            unreadOrders(page.unreadByOrder)
        case .marked(let order, let marked, let unread):
            raw("OK")
            if let order { field("order", order) }
            field("marked", marked)
            field("unread", unread)
        case .presence(let people):
            for person in people {
                dataLine {
                    $0.field("user", person.user)
                    $0.field("role", person.role.rawValue)
                    $0.field("status", person.away == nil ? "online" : "away")
                    $0.field("sessions", person.sessions)
                    $0.field("claims", person.claims)
                    if let away = person.away { $0.field("away", away) }
                }
            }
            raw("OK")
            field("online", people.count)
        case .status(let isAway):
            raw("OK")
            field("status", isAway ? "away" : "online")
        case .messageSent(let to, let isDelivered):
            raw("OK")
            field("to", to)
            field("delivered", isDelivered ? "now" : "at-login")
        case .room(let room, let members):
            raw("OK")
            field("room", room)
            field("members", members)
        case .rooms(let rooms):
            for room in rooms {
                dataLine {
                    $0.field("room", room.room)
                    $0.field("members", room.members)
                    $0.field("joined", room.isJoined)
                }
            }
            raw("OK")
            field("rooms", rooms.count)
        case .subscriptions(let topics):
            raw("OK")
            list("subscriptions", topics)
        case .thresholds(let listings):
            for listing in listings {
                dataLine {
                    $0.thresholdFields(listing.queue, listing.value)
                    $0.field("default", listing.isDefault)
                }
            }
            raw("OK")
            field("queues", listings.count)
        case .thresholdSet(let queue, let value):
            raw("OK")
            thresholdFields(queue, value)
        case .userAdded(let name, let role):
            raw("OK")
            field("user", name)
            field("role", role.rawValue)
        case .roleChanged(let name, let role, let was):
            raw("OK")
            field("user", name)
            field("role", role.rawValue)
            field("was", was.rawValue)
        case .disabled(let name, let handedBack):
            raw("OK")
            field("user", name)
            field("disabled", true)
            field("handed-back", handedBack)
        case .enabled(let name):
            raw("OK")
            field("user", name)
            field("disabled", false)
        case .passwordSet(let name, let isOwnChange):
            raw("OK")
            field("user", name)
            field("password", isOwnChange ? "changed" : "reset")
        case .metrics(let report):
            metrics(report)
            raw("OK")
            field("window", report.window.duration)
            field("at", report.at)
        case .commands:
            for spec in CommandSpec.all {
                dataLine {
                    $0.field("command", spec.name)
                    $0.field("usage", spec.usage)
                    $0.field("summary", spec.summary)
                }
            }
            raw("OK")
            field("commands", CommandSpec.all.count)
        case .commandHelp(let name):
            guard let spec = CommandSpec.named(name) else { return reply(.failure(.unknownCommand(name, suggestion: nil))) }
            dataLine { $0.field("usage", spec.usage) }
            dataLine { $0.field("summary", spec.summary) }
            dataLine { $0.field("roles", spec.roles.map { $0.map(\.rawValue).sorted().joined(separator: ",") } ?? "anyone") }
            dataLine { $0.field("example", spec.example) }
            raw("OK ")
            raw(spec.name)
        case .resumed(let count, let isComplete):
            raw("OK")
            field("resumed", count)
            field("complete", isComplete)
        case .unlocked(let target, let cleared):
            for address in cleared { dataLine { $0.field("address", address) } }
            raw("OK")
            field("target", target)
            field("cleared", cleared.count)
        }
        newline()
    }

    /// `unread-orders=SO-1:2,SO-7:1`, or nothing when no unread event is about an order.
    public mutating func unreadOrders(_ counts: [OrderCount]) {
        guard !counts.isEmpty else { return }
        field("unread-orders", counts.map { "\($0.order):\($0.count)" }.joined(separator: ","))
    }

    private mutating func thresholdFields(_ queue: QueueName, _ value: EscalationThresholds) {
        field("queue", queue.wireName)
        field("warning", value.warning.duration)
        field("stuck", value.stuck.duration)
        field("admins", value.admins.duration)
    }

    private mutating func stuckRow(_ row: StuckRow) {
        word(row.order)
        field("queue", row.queue.wireName)
        field("since", row.since)
        field("age", row.age.compact)
        field("level", row.level == .admins ? "admins" : "rep")
        field("told", row.told.joined(separator: ","))
        field("priority", row.priority.rawValue)
        field("customer", row.customer)
        if let holder = row.holder { field("holder", holder) }
    }
}
