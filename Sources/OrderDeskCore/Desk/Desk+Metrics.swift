/// METRICS for administrators: the order-cycle figures leadership asks for.
extension Desk {
    /// METRICS once a scan has read every order: queue depths, cycle time, hold resolution,
    /// clean shipments and throughput over `window`. The server appends its operational counters.
    func metricsReply(_ tally: MetricsTally, window: Milliseconds, now: Instant) -> Reply {
        let queues = QueueName.all.filter { $0 != .mine }.map { queue in
            MetricsReport.QueueFigures(queue: queue, depth: index.members[queue]?.count ?? 0,
                                       oldest: tally.oldest[queue].map { now - $0 } ?? Milliseconds(0), stuck: tally.stuck[queue] ?? 0)
        }
        let holds = HoldType.allCases.map { type in
            MetricsReport.HoldFigures(type: type, open: tally.openHolds[type] ?? 0, resolutions: Percentiles(tally.resolutions[type] ?? []))
        }
        let releases = users.values.filter { $0.role == .processor || tally.releasedBy[$0.name] != nil }.map(\.name).sorted().map { user in
            MetricsReport.Releases(user: user, released: tally.releasedBy[user] ?? 0)
        }
        return .answer(.metrics(MetricsReport(window: window, at: now, queues: queues, cycles: Percentiles(tally.cycles), holds: holds,
                                              cleanShipments: tally.cleanShipments, releases: releases)))
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
