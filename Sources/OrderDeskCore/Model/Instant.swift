/// A point in time, in whole milliseconds since the Unix epoch (UTC).
///
/// The core never reads a clock: every operation that depends on time takes `now: Instant`.
public struct Instant: Comparable, Hashable, Sendable {
    public var milliseconds: Int64

    public init(milliseconds: Int64) { self.milliseconds = milliseconds }

    public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.milliseconds < rhs.milliseconds }

    // Saturating: a duration from the wire or a clock far off can reach the ends of Int64, and
    // time arithmetic must never trap.
    public static func + (lhs: Instant, rhs: Milliseconds) -> Instant { Instant(milliseconds: saturating(lhs.milliseconds.addingReportingOverflow(rhs.value), rhs.value)) }
    public static func - (lhs: Instant, rhs: Milliseconds) -> Instant { Instant(milliseconds: saturating(lhs.milliseconds.subtractingReportingOverflow(rhs.value), -rhs.value)) }
    public static func - (lhs: Instant, rhs: Instant) -> Milliseconds {
        Milliseconds(saturating(lhs.milliseconds.subtractingReportingOverflow(rhs.milliseconds), lhs.milliseconds < rhs.milliseconds ? -1 : 1))
    }

    /// The result, or the end of the range it ran past (`direction` is the sign of the change).
    private static func saturating(_ result: (partialValue: Int64, overflow: Bool), _ direction: Int64) -> Int64 {
        guard result.overflow else { return result.partialValue }
        return direction >= 0 ? Int64.max : Int64.min
    }

    /// ISO 8601 in UTC with second precision, as on the wire: `2026-11-22T09:15:00Z`.
    /// (Written byte by byte: it is on every event and reply that carries a time.)
    public var iso8601: String {
        // Floor division that cannot overflow, even at Int64.min.
        let seconds = milliseconds / 1000 - (milliseconds % 1000 < 0 ? 1 : 0)
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let (year, month, day) = CivilDate.from(daysSinceEpoch: days)
        guard (0...9999).contains(year) else {
            return CivilDate.pad(year, 4) + "-" + CivilDate.pad(month, 2) + "-" + CivilDate.pad(day, 2) + "T"
                + CivilDate.pad(secondOfDay / 3600, 2) + ":" + CivilDate.pad(secondOfDay / 60 % 60, 2) + ":"
                + CivilDate.pad(secondOfDay % 60, 2) + "Z"
        }
        return String(unsafeUninitializedCapacity: 20) { buffer in
            func put(_ value: Int64, _ width: Int, at offset: Int) {
                var rest = value
                for position in stride(from: offset + width - 1, through: offset, by: -1) {
                    buffer[position] = UInt8(truncatingIfNeeded: 48 + rest % 10)
                    rest /= 10
                }
            }
            put(year, 4, at: 0); buffer[4] = 45
            put(month, 2, at: 5); buffer[7] = 45
            put(day, 2, at: 8); buffer[10] = 84
            put(secondOfDay / 3600, 2, at: 11); buffer[13] = 58
            put(secondOfDay / 60 % 60, 2, at: 14); buffer[16] = 58
            put(secondOfDay % 60, 2, at: 17); buffer[19] = 90
            return 20
        }
    }
}

/// A span of time in milliseconds.
public struct Milliseconds: Comparable, Hashable, Sendable {
    public var value: Int64

    public init(_ value: Int64) { self.value = value }

    public static func seconds(_ count: Int64) -> Milliseconds { Milliseconds(count.multipliedReportingOverflow(by: 1000).overflow ? Int64.max : count * 1000) }
    public static func minutes(_ count: Int64) -> Milliseconds { Milliseconds(count.multipliedReportingOverflow(by: 60_000).overflow ? Int64.max : count * 60_000) }
    public static func < (lhs: Milliseconds, rhs: Milliseconds) -> Bool { lhs.value < rhs.value }

    /// Compact human form used in listings: `45s`, `12m`, `3h05m`, `2d04h`.
    public var compact: String {
        let seconds = max(0, value / 1000)
        if seconds < 60 { return "\(seconds)s" }
        if seconds < 3600 { return "\(seconds / 60)m" }
        if seconds < 86_400 { return "\(seconds / 3600)h" + CivilDate.pad(seconds / 60 % 60, 2) + "m" }
        return "\(seconds / 86_400)d" + CivilDate.pad(seconds / 3600 % 24, 2) + "h"
    }
}

/// Calendar arithmetic on the proleptic Gregorian calendar (Howard Hinnant's algorithms).
enum CivilDate {
    static func from(daysSinceEpoch days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    static func daysSinceEpoch(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// True when `text` is a real calendar day written `YYYY-MM-DD`.
    static func isValidDay(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              parts.allSatisfy({ $0.allSatisfy(\.isASCIIDigit) }),  // Int64("+1") would take a sign
              let year = Int64(parts[0]), let month = Int64(parts[1]), let day = Int64(parts[2]),
              (1...12).contains(month), (1...31).contains(day)
        else { return false }
        let days = daysSinceEpoch(year: year, month: month, day: day)
        let back = from(daysSinceEpoch: days)
        return back.year == year && back.month == month && back.day == day
    }

    static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}

extension Instant {
    /// Midnight UTC at the start of `day`, written `YYYY-MM-DD` (year 1970-9999); nil unless
    /// it is a real calendar day.
    public init?(day text: String) {
        guard CivilDate.isValidDay(text) else { return nil }
        let parts = text.split(separator: "-").compactMap { Int64($0) }
        guard parts.count == 3, (1970...9999).contains(parts[0]) else { return nil }
        self.init(milliseconds: CivilDate.daysSinceEpoch(year: parts[0], month: parts[1], day: parts[2]) * 86_400_000)
    }
}
