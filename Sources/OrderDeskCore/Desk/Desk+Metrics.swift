/// METRICS for administrators: the order-cycle figures leadership asks for.
extension Desk {
    /// Queue depths, cycle time, hold resolution, clean shipments and throughput over `window`.
    /// The server appends its operational counters to this reply.
    func metrics(window: Milliseconds, now: Instant) -> Reply {
        let start = now - window
        var lines: [String] = []
        for queue in QueueName.all where queue != .mine {
            let members = index.members[queue] ?? []
            var oldest: Instant?
            for number in members {
                guard let order = orders[number] else { continue }
                let since = order.episodes.first { $0.queue == queue }?.since ?? order.capturedAt
                oldest = oldest.map { min($0, since) } ?? since
            }
            let age = oldest.map { now - $0 } ?? Milliseconds(0)
            lines.append("queue " + Rendering.join([("name", queue.wireName), ("depth", String(members.count)),
                                                    ("oldest-seconds", String(age.value / 1000)), ("oldest", age.compact)]))
        }
        var cycles: [Int64] = []
        var cleanShipments = 0
        var resolutions: [HoldType: [Int64]] = [:]
        var openHolds: [HoldType: Int] = [:]
        var releasedBy: [String: Int] = [:]
        for order in orders.values {
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
        let windowText = window.duration
        lines.append("cycle " + Rendering.join([("window", windowText), ("shipped", String(cycles.count))] + Self.percentiles(cycles)))
        for type in HoldType.allCases {
            let values = resolutions[type] ?? []
            lines.append("hold " + Rendering.join([("type", type.rawValue), ("window", windowText), ("resolved", String(values.count)),
                                                   ("open", String(openHolds[type] ?? 0))] + Self.percentiles(values)))
        }
        let share = cycles.isEmpty ? "0.00" : Self.ratio(cleanShipments, cycles.count)
        lines.append("clean-ship " + Rendering.join([("window", windowText), ("shipped", String(cycles.count)),
                                                     ("without-hold", String(cleanShipments)), ("share", share)]))
        for user in users.values.filter({ $0.role == .processor || releasedBy[$0.name] != nil }).map(\.name).sorted() {
            lines.append("processor " + Rendering.join([("user", user), ("window", windowText), ("released", String(releasedBy[user] ?? 0))]))
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
