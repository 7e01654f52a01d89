import Foundation
import OrderDeskWire

/// Structured log lines (logfmt) on standard error: `ts=... level=info msg=... key=value`.
/// Never given a password: callers pass only names, codes and reasons.
public struct Log: Sendable {
    /// How much to log; each level includes the ones above it.
    public enum Level: Int, Comparable, Sendable {
        case error, warning, info, debug

        public init?(name: String) {
            switch name {
            case "error": self = .error
            case "warning", "warn": self = .warning
            case "info": self = .info
            case "debug": self = .debug
            default: return nil
            }
        }

        var name: String {
            switch self {
            case .error: "error"
            case .warning: "warning"
            case .info: "info"
            case .debug: "debug"
            }
        }

        public static func < (lhs: Level, rhs: Level) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    public var level: Level

    public init(level: Level = .info) { self.level = level }

    public func callAsFunction(_ level: Level, _ message: String, _ fields: [(String, String)] = []) {
        guard level <= self.level else { return }
        let time = SystemClock.now().iso8601
        var line = "ts=\(time) level=\(level.name) msg=\(Quoting.word(message))"
        for (key, value) in fields { line += " " + Quoting.field(key, value) }
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
