import OrderDeskCore
#if canImport(Glibc)
import Glibc
#endif

/// Failed logins per source address: the source that fails is slowed down, never the account.
///
/// A stranger who guesses at `ada` from one address makes that address wait longer and longer
/// before each new attempt is even checked; `ada` herself, from an address that has not been
/// failing, logs in at once. An address with a record may also have only one login in progress
/// at a time, so opening many connections does not multiply its guesses. Failures are forgotten
/// `forgetAfter` after the last one, or when an admin sends UNLOCK.
///
/// Kept in memory (a restart clears it); owned by the server on the desk queue. Time is passed in.
struct LoginThrottle {
    /// Failures from an address answered without delay (typos happen).
    static let freeFailures = 5
    /// The longest wait before an attempt from a failing address is checked.
    static let maximumDelay = Milliseconds.seconds(20)
    /// A record with no failure for this long is dropped.
    static let forgetAfter = Milliseconds.minutes(15)
    /// Addresses tracked at most; past this the records idle longest are dropped first.
    static let capacity = 50_000
    /// Names remembered per address, for UNLOCK by name and the log.
    static let namesPerRecord = 8

    struct Record {
        var failures: Int
        var lastFailure: Instant
        var names: [String]
    }

    private var records: [String: Record] = [:]
    /// Logins being checked per throttled address (delayed or hashing).
    private var inProgress: [String: Int] = [:]

    /// The key of an address: IPv4 as it is, IPv6 by its /64 prefix (one site's addresses).
    static func key(for address: String) -> String {
        guard address.contains(":") else { return address }
        var bytes = [UInt8](repeating: 0, count: 16)
        guard inet_pton(AF_INET6, address, &bytes) == 1 else { return address }
        if bytes[0..<12] == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff][...] {
            return bytes[12..<16].map(String.init).joined(separator: ".")  // IPv4-mapped
        }
        return bytes[0..<8].map { byte in
            let digits = String(byte, radix: 16)
            return byte < 16 ? "0" + digits : digits
        }.joined() + "::/64"
    }

    /// Failures from `key` still on record at `now`.
    func failures(from key: String, now: Instant) -> Int {
        guard let record = records[key], now - record.lastFailure < Self.forgetAfter else { return 0 }
        return record.failures
    }

    /// How long an attempt from `key` waits before it is checked.
    func delay(for key: String, now: Instant) -> Milliseconds {
        let count = failures(from: key, now: now)
        guard count > Self.freeFailures else { return Milliseconds(0) }
        let doublings = min(count - Self.freeFailures - 1, 10)
        return Milliseconds(min(Self.maximumDelay.value, Int64(250) << Int64(doublings)))
    }

    /// True when `key` may start another login now: always for an address with no record,
    /// one at a time for one that has been failing.
    func mayStart(from key: String, now: Instant) -> Bool {
        failures(from: key, now: now) <= Self.freeFailures || (inProgress[key] ?? 0) == 0
    }

    mutating func started(from key: String) { inProgress[key, default: 0] += 1 }

    mutating func finished(from key: String) {
        guard let count = inProgress[key] else { return }
        inProgress[key] = count > 1 ? count - 1 : nil
    }

    mutating func recordFailure(from key: String, name: String, now: Instant) {
        if records[key] == nil, records.count >= Self.capacity { forgetOldest(now: now) }
        var record = records[key].flatMap { now - $0.lastFailure < Self.forgetAfter ? $0 : nil }
            ?? Record(failures: 0, lastFailure: now, names: [])
        record.failures += 1
        record.lastFailure = now
        if !record.names.contains(name) {
            if record.names.count >= Self.namesPerRecord { record.names.removeFirst() }
            record.names.append(name)
        }
        records[key] = record
    }

    /// A correct password ends the record of an address that made only a few mistakes; one that
    /// has been guessing keeps its record (one good account must not reset its guesses).
    mutating func recordSuccess(from key: String, now: Instant) {
        if failures(from: key, now: now) <= Self.freeFailures { records[key] = nil }
    }

    /// Clears the records of the address `target`, or of every address that failed on the user
    /// name `target`. Returns the addresses cleared.
    mutating func unlock(_ target: String, now: Instant) -> [String] {
        let key = Self.key(for: target)
        if records[key] != nil {
            records[key] = nil
            return [key]
        }
        let cleared = records.filter { $0.value.names.contains(target) && now - $0.value.lastFailure < Self.forgetAfter }.map(\.key).sorted()
        for key in cleared { records[key] = nil }
        return cleared
    }

    private mutating func forgetOldest(now: Instant) {
        let expired = records.filter { now - $0.value.lastFailure >= Self.forgetAfter }.map(\.key)
        for key in expired { records[key] = nil }
        guard records.count >= Self.capacity else { return }
        let oldest = records.sorted { $0.value.lastFailure < $1.value.lastFailure }.prefix(Self.capacity / 10).map(\.key)
        for key in oldest { records[key] = nil }
    }
}
