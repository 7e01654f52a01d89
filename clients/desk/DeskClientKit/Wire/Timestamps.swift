import Foundation

/// Reads the wire's ISO 8601 UTC times and shows them in local time.
public enum Timestamps {
    /// `2026-11-22T03:39:13Z` as a date.
    public static func date(_ text: String) -> Date? {
        let parts = text.split { "-T:Z".contains($0) }.compactMap { Int($0) }
        guard parts.count == 6, text.hasSuffix("Z") else { return nil }
        var components = DateComponents()
        components.calendar = Calendar(identifier: .gregorian)
        components.timeZone = TimeZone(identifier: "UTC")
        (components.year, components.month, components.day) = (parts[0], parts[1], parts[2])
        (components.hour, components.minute, components.second) = (parts[3], parts[4], parts[5])
        return components.date
    }

    /// `14:05` in `timeZone`.
    public static func clock(_ date: Date, timeZone: TimeZone = .current) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let parts = calendar.dateComponents([.hour, .minute], from: date)
        return pad(parts.hour ?? 0) + ":" + pad(parts.minute ?? 0)
    }

    /// `14:05` when `date` is on the same day as `now`, else `19 Nov 14:05`.
    public static func short(_ date: Date, now: Date = Date(), timeZone: TimeZone = .current) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        if calendar.isDate(date, inSameDayAs: now) { return clock(date, timeZone: timeZone) }
        let parts = calendar.dateComponents([.day, .month], from: date)
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        return "\(parts.day ?? 1) \(months[((parts.month ?? 1) - 1) % 12]) " + clock(date, timeZone: timeZone)
    }

    /// A wire time shown short, or the text unchanged when it is not one.
    public static func short(wire text: String, now: Date = Date(), timeZone: TimeZone = .current) -> String {
        date(text).map { short($0, now: now, timeZone: timeZone) } ?? text
    }

    private static func pad(_ number: Int) -> String { number < 10 ? "0\(number)" : "\(number)" }
}
