/// METRICS for administrators: the order-cycle figures leadership asks for.
extension Desk {
    /// METRICS once a scan has read every order: queue depths, cycle time, hold resolution,
    /// clean shipments and throughput over `window`. The server appends its operational counters.
    func metricsReply(_ tally: MetricsTally, window: Milliseconds, now: Instant) -> Reply {
        var lines: [String] = []
        for queue in QueueName.all where queue != .mine {
            let age = tally.oldest[queue].map { now - $0 } ?? Milliseconds(0)
            lines.append("queue " + Rendering.join([("name", queue.wireName), ("depth", String(index.members[queue]?.count ?? 0)),
                                                    ("oldest-seconds", String(age.value / 1000)), ("oldest", age.compact),
                                                    ("stuck", String(tally.stuck[queue] ?? 0))]))
        }
        let windowText = window.duration
        lines.append("cycle " + Rendering.join([("window", windowText), ("shipped", String(tally.cycles.count))] + Self.percentiles(tally.cycles)))
        for type in HoldType.allCases {
            let values = tally.resolutions[type] ?? []
            lines.append("hold " + Rendering.join([("type", type.rawValue), ("window", windowText), ("resolved", String(values.count)),
                                                   ("open", String(tally.openHolds[type] ?? 0))] + Self.percentiles(values)))
        }
        let share = tally.cycles.isEmpty ? "0.00" : Self.ratio(tally.cleanShipments, tally.cycles.count)
        lines.append("clean-ship " + Rendering.join([("window", windowText), ("shipped", String(tally.cycles.count)),
                                                     ("without-hold", String(tally.cleanShipments)), ("share", share)]))
        for user in users.values.filter({ $0.role == .processor || tally.releasedBy[$0.name] != nil }).map(\.name).sorted() {
            lines.append("processor " + Rendering.join([("user", user), ("window", windowText), ("released", String(tally.releasedBy[user] ?? 0))]))
        }
        return .ok(Rendering.join([("window", windowText), ("at", now.iso8601)]), data: lines)
    }

    /// `p50-seconds`, `p90-seconds` and human forms, by nearest rank; none when there are no values.
    static func percentiles(_ values: [Int64]) -> [(String, String)] {
        guard !values.isEmpty else { return [] }
        let sorted = values.sorted()
        func rank(_ fraction: Double) -> Int64 {
            let position = Int((fraction * Double(sorted.count)).rounded(.up)) - 1
            return sorted[max(0, min(sorted.count - 1, position))]
        }
        let p50 = rank(0.5)
        let p90 = rank(0.9)
        return [("p50-seconds", String(p50 / 1000)), ("p90-seconds", String(p90 / 1000)),
                ("p50", Milliseconds(p50).compact), ("p90", Milliseconds(p90).compact)]
    }

    /// `part / whole` with two decimals.
    static func ratio(_ part: Int, _ whole: Int) -> String {
        let hundredths = (part * 100 + whole / 2) / whole
        return "\(hundredths / 100)." + (hundredths % 100 < 10 ? "0" : "") + "\(hundredths % 100)"
    }
}

extension MetricsTally {
    /// Counts one order: its queues' ages, and what of it falls in the window from `start`.
    mutating func add(_ order: Order, since start: Instant) {
        // An order's episodes are its current queues (see `Desk.save`).
        for episode in order.episodes {
            oldest[episode.queue] = oldest[episode.queue].map { min($0, episode.since) } ?? episode.since
            // As STUCK lists them: a stay at the stuck level or past it.
            if episode.level >= .stuck { stuck[episode.queue, default: 0] += 1 }
        }
        if order.stage == .shipped, order.stageChangedAt >= start {
            cycles.append((order.stageChangedAt - order.capturedAt).value)
            if order.holds.isEmpty { cleanShipments += 1 }
        }
        for hold in order.holds {
            switch hold.status {
            case .open: openHolds[hold.type, default: 0] += 1
            case .released(_, let at, _) where at >= start: resolutions[hold.type, default: []].append((at - hold.placedAt).value)
            case .released: break
            }
        }
        if let release = order.release, release.at >= start { releasedBy[release.by, default: 0] += 1 }
    }
}

/// Gauges cheap enough to read on every scrape: counts the desk keeps current, never a scan.
public struct DeskGauges: Sendable, Equatable {
    /// One shared queue's gauges.
    public struct QueueGauge: Sendable, Equatable {
        /// The queue's wire name.
        public var queue: String
        public var depth: Int
        /// Seconds since the longest current stay in the queue began; 0 when it is empty.
        public var oldestSeconds: Int64
        /// Orders stuck in the queue (as `STUCK queue=` counts them).
        public var stuck: Int
    }

    /// Every queue but `mine`, in HELP's order.
    public var queues: [QueueGauge]
    public var claimedOrders: Int
    public var orders: Int
    public var users: Int
    public var disabledUsers: Int
    public var usersOnline: Int
}

extension Desk {
    /// What a scrape reads on the desk queue at `now`: O(queues + users), so a scraper never holds it up.
    public func gauges(now: Instant) -> DeskGauges {
        let queues = QueueName.all.filter { $0 != .mine }.map { queue in
            // A stay that began after `now` (a clock stepped back) counts as just begun.
            let age = stays.oldest(in: queue).map { max(Int64(0), (now - $0).value / 1000) } ?? 0
            return DeskGauges.QueueGauge(queue: queue.wireName, depth: index.members[queue]?.count ?? 0, oldestSeconds: age,
                                         stuck: stays.stuck(in: queue))
        }
        return DeskGauges(queues: queues, claimedOrders: index.claimedCount, orders: orders.count, users: users.count,
                          disabledUsers: users.values.reduce(0) { $0 + ($1.isDisabled ? 1 : 0) }, usersOnline: online.count)
    }
}
