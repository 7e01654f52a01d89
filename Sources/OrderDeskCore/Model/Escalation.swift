/// An order's stay in one queue, and how far it has escalated during it.
///
/// A new episode starts whenever the order enters a queue; each escalation step fires at most
/// once per episode, and `level` is stored with the order, so a restart never fires a step twice.
public struct EscalationEpisode: Sendable, Equatable {
    public var queue: QueueName
    public var since: Instant
    public var level: EscalationLevel

    public init(queue: QueueName, since: Instant, level: EscalationLevel = .none) {
        self.queue = queue
        self.since = since
        self.level = level
    }

    /// When the next step is due under `thresholds`, if one is left.
    func nextStep(_ thresholds: EscalationThresholds) -> (level: EscalationLevel, due: Instant)? {
        switch level {
        case .none: (.warned, since + thresholds.warning)
        case .warned: (.stuck, since + thresholds.stuck)
        case .stuck: (.admins, since + thresholds.admins)
        case .admins: nil
        }
    }
}

/// The steps of escalation, in order.
public enum EscalationLevel: Int, Sendable, Comparable {
    /// Nothing fired yet.
    case none = 0
    /// The holder (if any) was nudged.
    case warned = 1
    /// The order is stuck; its sales rep was pinged.
    case stuck = 2
    /// The administrators were told.
    case admins = 3

    public static func < (lhs: EscalationLevel, rhs: EscalationLevel) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// How long an order may sit in a queue before each escalation step.
public struct EscalationThresholds: Sendable, Equatable {
    public var warning: Milliseconds
    public var stuck: Milliseconds
    public var admins: Milliseconds

    public init(warning: Milliseconds, stuck: Milliseconds, admins: Milliseconds) {
        self.warning = warning
        self.stuck = stuck
        self.admins = admins
    }

    /// True when the steps come in order: warning ≤ stuck ≤ admins, all positive.
    public var isValid: Bool { warning.value > 0 && warning <= stuck && stuck <= admins }

    /// The documented defaults (protocol.md, "Stuck orders").
    public static func defaults(for queue: QueueName) -> EscalationThresholds {
        let hour: Int64 = 3_600_000
        func hours(_ warning: Int64, _ stuck: Int64, _ admins: Int64) -> EscalationThresholds {
            EscalationThresholds(warning: Milliseconds(warning * hour), stuck: Milliseconds(stuck * hour), admins: Milliseconds(admins * hour))
        }
        switch queue {
        case .new: return hours(1, 2, 4)
        case .hold(.credit): return hours(4, 8, 24)
        case .hold(.pricing): return hours(2, 4, 8)
        case .hold(.inventory): return hours(24, 48, 72)
        case .hold(.address): return hours(4, 8, 24)
        case .hold(.other): return hours(8, 24, 48)
        case .released, .mine: return hours(24, 48, 72)
        }
    }
}

extension Milliseconds {
    /// Parses `90s`, `45m`, `4h`, `2d` or a bare number of seconds.
    public init?(duration text: String) {
        guard let unit = text.last else { return nil }
        let multipliers: [Character: Int64] = ["s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000]
        if let multiplier = multipliers[unit], let count = Int64(text.dropLast()), count >= 0, count < 10_000_000 {
            self.init(count * multiplier)
        } else if let seconds = Int64(text), seconds >= 0, seconds < 1_000_000_000 {
            self.init(seconds * 1000)
        } else {
            return nil
        }
    }
}
