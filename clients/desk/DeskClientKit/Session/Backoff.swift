/// Delays between reconnect attempts: 0.5 s, doubling, at most 10 s.
public struct Backoff: Sendable, Equatable {
    public let initial: Double
    public let maximum: Double
    private var current: Double

    public init(initial: Double = 0.5, maximum: Double = 10) {
        self.initial = initial
        self.maximum = maximum
        current = initial
    }

    /// The delay before the next attempt; each call doubles the one after.
    public mutating func next() -> Double {
        defer { current = min(maximum, current * 2) }
        return current
    }

    /// After a successful login the next outage starts over at `initial`.
    public mutating func reset() { current = initial }
}
