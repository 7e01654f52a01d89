import Foundation
import OrderDeskCore

/// Everything one scrape shows, copied off the desk queue in O(queues + users) so the text is
/// written elsewhere. Counters and histograms count from the process's start and only grow;
/// gauges are the state at the instant of the copy.
struct PrometheusSnapshot: Sendable {
    var gauges: DeskGauges
    var flow: FlowCounters
    var connections: Int
    var sessions: Int
    var commands: Int
    var pushes: Int
    var slowDropped: Int
    var refused: Int
    var commits: Int
    var commitFailures: Int
    /// Commit durations in microseconds.
    var commitHistogram: Histogram

    /// The text exposition format, version 0.0.4.
    func render() -> String {
        var out = ""
        func family(_ name: String, _ type: String, _ help: String, _ samples: [(labels: [(String, String)], value: String)]) {
            out += "# HELP orderdesk_\(name) \(help)\n# TYPE orderdesk_\(name) \(type)\n"
            for sample in samples { out += "orderdesk_\(name)\(Self.labels(sample.labels)) \(sample.value)\n" }
        }
        func one(_ value: some BinaryInteger) -> [(labels: [(String, String)], value: String)] { [([], String(value))] }
        func histogram(_ name: String, _ help: String, _ series: [(labels: [(String, String)], histogram: Histogram)], scale: Double) {
            out += "# HELP orderdesk_\(name) \(help)\n# TYPE orderdesk_\(name) histogram\n"
            for (labels, histogram) in series {
                for (bound, count) in zip(histogram.bounds, histogram.cumulativeCounts) {
                    out += "orderdesk_\(name)_bucket\(Self.labels(labels + [("le", Self.number(Double(bound) / scale))])) \(count)\n"
                }
                out += "orderdesk_\(name)_bucket\(Self.labels(labels + [("le", "+Inf")])) \(histogram.count)\n"
                out += "orderdesk_\(name)_sum\(Self.labels(labels)) \(Self.number(Double(histogram.sum) / scale))\n"
                out += "orderdesk_\(name)_count\(Self.labels(labels)) \(histogram.count)\n"
            }
        }
        family("up", "gauge", "1 while the desk serves.", one(1))
        family("queue_depth", "gauge", "Orders in each queue now.", gauges.queues.map { ([("queue", $0.queue)], String($0.depth)) })
        family("queue_oldest_seconds", "gauge", "Seconds since the longest current stay in each queue began (0 when empty).",
               gauges.queues.map { ([("queue", $0.queue)], String($0.oldestSeconds)) })
        family("queue_stuck_orders", "gauge", "Orders stuck in each queue now (past its stuck threshold, as STUCK lists them).",
               gauges.queues.map { ([("queue", $0.queue)], String($0.stuck)) })
        family("claimed_orders", "gauge", "Orders someone holds now.", one(gauges.claimedOrders))
        family("orders", "gauge", "Orders the desk knows.", one(gauges.orders))
        family("users", "gauge", "Users, and those disabled.", [([], String(gauges.users)), ([("state", "disabled")], String(gauges.disabledUsers))])
        family("users_online", "gauge", "Users with at least one session.", one(gauges.usersOnline))
        family("connections", "gauge", "Open connections.", one(connections))
        family("sessions", "gauge", "Logged-in sessions.", one(sessions))
        family("orders_captured_total", "counter", "Orders captured since start.", one(flow.captured))
        family("order_moves_total", "counter", "Stage moves since start, by the stage moved to.",
               Stage.allCases.filter { $0 != .captured }.map { ([("to", $0.rawValue)], String(flow.moves[$0] ?? 0)) })
        family("holds_placed_total", "counter", "Holds placed since start.", HoldType.allCases.map { ([("type", $0.rawValue)], String(flow.holdsPlaced[$0] ?? 0)) })
        family("holds_released_total", "counter", "Holds released since start (cancelling closes them too).",
               HoldType.allCases.map { ([("type", $0.rawValue)], String(flow.holdsReleased[$0] ?? 0)) })
        family("leases_expired_total", "counter", "Claims that ended by themselves since start, by reason.",
               ["timeout", "disconnected"].map { ([("reason", $0)], String(flow.leasesExpired[$0] ?? 0)) })
        family("commands_total", "counter", "Command lines received.", one(commands))
        family("pushes_total", "counter", "Events pushed to sessions.", one(pushes))
        family("slow_sessions_dropped_total", "counter", "Sessions closed for not reading their output.", one(slowDropped))
        family("sessions_refused_total", "counter", "Connections refused at a limit.", one(refused))
        family("commits_total", "counter", "Store transactions committed.", one(commits))
        family("commit_failures_total", "counter", "Store transactions that failed.", one(commitFailures))
        histogram("commit_duration_seconds", "Time one group commit took.", [([], commitHistogram)], scale: 1_000_000)
        histogram("order_cycle_seconds", "Capture to shipped, for orders shipped since start.", [([], flow.cycleSeconds)], scale: 1)
        histogram("hold_resolution_seconds", "Placed to released, for holds released since start.",
                  HoldType.allCases.map { ([("type", $0.rawValue)], flow.holdResolutionSeconds[$0] ?? Histogram(bounds: Histogram.orderSeconds)) },
                  scale: 1)
        return out
    }

    /// `{a="x",b="y"}`, or nothing without labels; values escaped as the format says.
    static func labels(_ labels: [(String, String)]) -> String {
        guard !labels.isEmpty else { return "" }
        let escaped = labels.map { key, value in
            key + "=\"" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                .replacingOccurrences(of: "\n", with: "\\n") + "\""
        }
        return "{" + escaped.joined(separator: ",") + "}"
    }

    /// A float as Go's strconv would write it, near enough: no trailing zeros, no exponent for our ranges.
    static func number(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        var text = String(format: "%.6f", value)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }
}

extension DeskServer {
    /// Copies what a scrape shows, on the desk queue, and hands it to `completion` on that queue
    /// (the caller formats it elsewhere).
    func prometheusSnapshot(_ completion: @escaping @Sendable (PrometheusSnapshot) -> Void) {
        queue.async { [self] in
            let snapshot = PrometheusSnapshot(
                gauges: desk.gauges(now: clockNow()), flow: desk.flow, connections: connections.count,
                sessions: sessionsByUser.values.reduce(0) { $0 + $1.count }, commands: stats.commands, pushes: stats.pushesSent,
                slowDropped: stats.slowSessionsDropped, refused: stats.sessionsRefused, commits: stats.commits,
                commitFailures: stats.commitFailures, commitHistogram: stats.commitHistogram)
            completion(snapshot)
        }
    }
}
