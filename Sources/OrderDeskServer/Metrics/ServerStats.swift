import OrderDeskCore

/// Operational counters the desk owns (never globals).
struct ServerStats {
    var sessionsRefused = 0
    var commands = 0
    var pushesSent = 0
    var slowSessionsDropped = 0
    var commits = 0
    var commitFailures = 0
    /// Commit durations in microseconds.
    var commitLatencies = LatencySample()
    /// Every commit since start, in microseconds, for the Prometheus endpoint's histogram.
    var commitHistogram = Histogram(bounds: [250, 500, 1000, 2500, 5000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000])
    /// Commands per second over the last minute.
    var commandRate = RateCounter()
}

/// Counts events in one-second buckets over the last minute.
struct RateCounter {
    private var buckets = [Int](repeating: 0, count: 60)
    private var bucketSecond = [Int64](repeating: -1, count: 60)

    mutating func record(atSecond second: Int64) {
        let slot = Int(second % 60)
        if bucketSecond[slot] != second {
            bucketSecond[slot] = second
            buckets[slot] = 0
        }
        buckets[slot] += 1
    }

    /// Average per second over the `span` whole seconds before `second`.
    func rate(atSecond second: Int64, span: Int64 = 10) -> Double {
        var total = 0
        for past in (second - span)..<second {
            let slot = Int(((past % 60) + 60) % 60)
            if bucketSecond[slot] == past { total += buckets[slot] }
        }
        return Double(total) / Double(span)
    }
}

/// The most recent latencies, for percentiles.
struct LatencySample {
    private var values: [Int64] = []
    private var next = 0
    private let capacity = 4096

    mutating func record(_ value: Int64) {
        if values.count < capacity {
            values.append(value)
        } else {
            values[next] = value
            next = (next + 1) % capacity
        }
    }

    func percentile(_ fraction: Double) -> Int64? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))]
    }
}
