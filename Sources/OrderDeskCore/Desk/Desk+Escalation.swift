/// Stuck orders: each queue has thresholds; past the warning point the holder is nudged, past
/// the stuck point the rep is pinged, past the admin point the admins are told. Each step fires
/// once per episode (an order's stay in a queue) and is written to the order's history.
extension Desk {
    /// Schedules the next escalation step of the order's episodes (of those in `queues`, if given).
    mutating func scheduleEscalations(of order: Order, queues: [QueueName]? = nil) {
        for episode in order.episodes where queues?.contains(episode.queue) ?? true {
            guard let step = episode.nextStep(thresholds(for: episode.queue)) else { continue }
            escalations.push(EscalationDeadline(due: step.due, order: order.number, queue: episode.queue))
        }
    }

    /// Steps fired per tick at most, so a backlog (after downtime, or an import of old orders)
    /// is worked off over several ticks instead of stalling the desk queue.
    static let escalationBatch = 500

    /// Fires escalation steps due by `now`, at most `escalationBatch` of them.
    mutating func escalate(now: Instant) {
        var fired = 0
        lazy var admins = users.values.filter { $0.role == .admin }.map(\.name).sorted()
        while fired < Self.escalationBatch, let top = escalations.peek(), top.due <= now {
            _ = escalations.pop()
            // A stale entry: the step already fired, or the order left the queue and came back
            // (a new episode with an entry of its own).
            guard isCurrent(top), var order = orders[top.order],
                  let index = order.episodes.firstIndex(where: { $0.queue == top.queue }),
                  let step = order.episodes[index].nextStep(thresholds(for: top.queue)) else { continue }
            let episode = order.episodes[index]
            order.episodes[index].level = step.level
            fired += 1
            let queue = top.queue.wireName
            switch step.level {
            case .warned:
                record("stuck-warning", "\(queue) since \(episode.since.iso8601); told \(order.lease?.holder ?? "nobody")", by: "desk", on: &order, now: now)
                save(order, now: now)
                if let holder = order.lease?.holder {
                    notify([holder], except: nil, .stuckWarning(order: order.number, queue: queue, since: episode.since, holder: holder), now: now)
                }
            case .stuck:
                record("stuck", "\(queue) since \(episode.since.iso8601); told \(order.rep)", by: "desk", on: &order, now: now)
                save(order, now: now)
                notify([order.rep], except: nil, .stuck(order: order.number, queue: queue, since: episode.since), now: now)
                notifySubscribers(of: "stuck", order: order.number, change: "entered", now: now)
            case .admins:
                record("escalated", "\(queue) since \(episode.since.iso8601); told \(admins.joined(separator: ","))", by: "desk", on: &order, now: now)
                save(order, now: now)
                notify(admins, except: nil, .escalated(order: order.number, queue: queue, since: episode.since), now: now)
            case .none:
                break
            }
            if let next = order.episodes[index].nextStep(thresholds(for: top.queue)) {
                escalations.push(EscalationDeadline(due: next.due, order: order.number, queue: top.queue))
            }
        }
    }

    /// STUCK's rows for one order: each queue it is stuck in that passes `filter`.
    func stuckRows(of order: Order, _ filter: StuckFilter, now: Instant) -> [StuckRow] {
        guard order.escalationLevel >= .stuck else { return [] }
        if let rep = filter.rep, order.rep != rep { return [] }
        if let holder = filter.holder, order.lease?.holder != holder { return [] }
        var rows: [StuckRow] = []
        for episode in order.episodes where episode.level >= .stuck && (filter.queue.map { $0 == episode.queue } ?? true) {
            var told = [order.rep]
            if episode.level >= .admins { told += users.values.filter { $0.role == .admin }.map(\.name).sorted() }
            rows.append(StuckRow(order: order.number, queue: episode.queue, since: episode.since, age: now - episode.since,
                                 level: episode.level, told: told, priority: order.priority, customer: order.customer,
                                 holder: order.lease?.holder))
        }
        return rows
    }

    /// THRESHOLDS: every queue's thresholds.
    func thresholdListing() -> Reply {
        .answer(.thresholds(QueueName.all.filter { $0 != .mine }.map { queue in
            ThresholdListing(queue: queue, value: thresholds(for: queue), isDefault: thresholds[queue] == nil)
        }))
    }

    /// THRESHOLD: an admin changes a queue's thresholds; kept across restarts and audited.
    mutating func setThresholds(_ queue: QueueName, _ value: EscalationThresholds, by user: User, now: Instant) throws(DeskError) -> Reply {
        guard queue != .mine else { throw .badArguments(usage: "THRESHOLD <queue> warning=<d> stuck=<d> admins=<d>", detail: "mine has no thresholds") }
        guard value.isValid else {
            throw .badArguments(usage: "THRESHOLD <queue> warning=<d> stuck=<d> admins=<d>", detail: "need 0 < warning <= stuck <= admins")
        }
        thresholds[queue] = value
        changes.append(.thresholds(queue, value))
        recordAudit("threshold", "\(queue.wireName) warning=\(value.warning.duration) stuck=\(value.stuck.duration) admins=\(value.admins.duration)", by: user.name, now: now)
        escalations = MinHeap<EscalationDeadline>()
        for order in orders.values where !order.episodes.isEmpty { scheduleEscalations(of: order) }
        return .answer(.thresholdSet(queue, value))
    }
}

extension Milliseconds {
    /// The shortest exact form: `90s`, `45m`, `4h`, `2d`.
    public var duration: String {
        if value % 86_400_000 == 0 { return "\(value / 86_400_000)d" }
        if value % 3_600_000 == 0 { return "\(value / 3_600_000)h" }
        if value % 60_000 == 0 { return "\(value / 60_000)m" }
        return "\(value / 1000)s"
    }
}

/// An escalation step due for one order's episode in one queue.
struct EscalationDeadline: HeapOrdered, Sendable, Equatable {
    var due: Instant
    var order: String
    var queue: QueueName

    /// Steps due at the same instant fire in order-number order, then queue order: without the
    /// tie-break they came out in the order of the orders dictionary, which changes from run to run.
    func precedes(_ other: EscalationDeadline) -> Bool {
        if due != other.due { return due < other.due }
        if order != other.order { return order < other.order }
        return queue.wireName < other.queue.wireName
    }
}
