import OrderDeskCore

/// Failed logins per account name: a growing delay before each failure is answered, and a
/// lockout an administrator clears with UNLOCK. Unknown names are tracked the same way, so the
/// server's behaviour never tells whether an account exists.
///
/// Kept in memory (a restart clears it); owned by the server on the desk queue.
struct LoginThrottle {
    /// Failures answered at once; each later one waits twice as long as the one before.
    static let freeFailures = 3
    static let maximumDelay = Milliseconds.seconds(30)
    /// Consecutive failures that lock the account until an admin unlocks it.
    static let lockoutFailures = 10
    /// Names tracked at most; past this the oldest records are forgotten.
    static let capacity = 10_000

    private var failures: [String: Int] = [:]

    func isLocked(_ name: String) -> Bool { (failures[name] ?? 0) >= Self.lockoutFailures }

    /// How long to wait before answering a failed attempt for `name` (after recording it).
    func delay(for name: String) -> Milliseconds {
        let count = failures[name] ?? 0
        guard count > Self.freeFailures else { return Milliseconds(0) }
        let doublings = min(count - Self.freeFailures - 1, 10)
        return Milliseconds(min(Self.maximumDelay.value, 1000 << Int64(doublings)))
    }

    mutating func recordFailure(_ name: String) {
        if failures.count >= Self.capacity, failures[name] == nil {
            // Forget the least-failed names first; locked ones are kept.
            for (key, count) in failures where count < Self.lockoutFailures {
                failures[key] = nil
                if failures.count < Self.capacity / 2 { break }
            }
        }
        failures[name, default: 0] += 1
    }

    mutating func recordSuccess(_ name: String) { failures[name] = nil }

    /// Clears the record of `name`; returns whether it was locked.
    mutating func unlock(_ name: String) -> Bool {
        defer { failures[name] = nil }
        return isLocked(name)
    }
}
