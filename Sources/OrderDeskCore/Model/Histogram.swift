/// Counts of values by upper bound, with their sum: a Prometheus histogram that only grows, so
/// a scraper's rates and quantiles keep their meaning between scrapes. Bounds are in the unit
/// the caller records (seconds, microseconds); a value past the last bound counts only in
/// `count` (the `+Inf` bucket). Nothing traps: the sum saturates.
public struct Histogram: Sendable, Equatable {
    /// Upper bounds, ascending.
    public let bounds: [Int64]
    /// Values at or below each bound and above the one before (not cumulative).
    public private(set) var counts: [UInt64]
    public private(set) var count: UInt64 = 0
    public private(set) var sum: Int64 = 0

    public init(bounds: [Int64]) {
        self.bounds = bounds.sorted()
        counts = Array(repeating: 0, count: bounds.count)
    }

    public mutating func record(_ value: Int64) {
        if let index = bounds.firstIndex(where: { value <= $0 }) { counts[index] &+= 1 }
        count &+= 1
        let (total, overflow) = sum.addingReportingOverflow(value)
        sum = overflow ? (value > 0 ? Int64.max : Int64.min) : total
    }

    /// Cumulative counts per bound, as the exposition format wants them (`le=` buckets).
    public var cumulativeCounts: [UInt64] {
        var running: UInt64 = 0
        return counts.map { running &+= $0; return running }
    }

    /// Bounds for durations of order work, in seconds: a minute to a month.
    public static let orderSeconds: [Int64] = [60, 300, 900, 1800, 3600, 7200, 14_400, 28_800, 86_400, 172_800, 345_600, 604_800, 1_209_600, 2_592_000]
}

/// What the desk has done since it started, for counters a scraper turns into rates:
/// orders captured and moved, holds placed and released, leases ended, and how long order
/// cycles and hold resolutions took. Kept in memory only: counters start again at zero with
/// the process, as Prometheus expects of counters.
public struct FlowCounters: Sendable, Equatable {
    public var captured: UInt64 = 0
    /// Moves by the stage they went to.
    public var moves: [Stage: UInt64] = [:]
    public var holdsPlaced: [HoldType: UInt64] = [:]
    public var holdsReleased: [HoldType: UInt64] = [:]
    /// Claims that ended by themselves, by reason (`timeout`, `disconnected`).
    public var leasesExpired: [String: UInt64] = [:]
    /// Capture to shipped, in seconds, for orders shipped since start.
    public var cycleSeconds = Histogram(bounds: Histogram.orderSeconds)
    /// Placed to released, in seconds, per hold type (cancelling closes holds too).
    public var holdResolutionSeconds: [HoldType: Histogram] = [:]

    public init() {}

    mutating func holdReleased(_ type: HoldType, after span: Milliseconds) {
        holdsReleased[type, default: 0] &+= 1
        holdResolutionSeconds[type, default: Histogram(bounds: Histogram.orderSeconds)].record(max(0, span.value) / 1000)
    }
}
