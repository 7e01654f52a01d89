import Foundation

/// A METRICS reply read into figures for the dashboard (protocol.md, METRICS).
///
/// Presentation only: the server computed every figure; this reads the lines it sent and keeps
/// whatever it does not understand out of the way (a newer server's extra lines or fields are
/// ignored; a missing field reads as nothing, never as a crash).
public struct MetricsFigures: Sendable, Equatable {
    /// One `queue` line.
    public struct Queue: Sendable, Equatable {
        public var name: String
        public var depth: Int
        public var oldestSeconds: Int
        /// The server's short form (`1d05h`).
        public var oldest: String
        /// Orders stuck in the queue; nil from a server that does not say.
        public var stuck: Int?
    }

    /// Nearest-rank percentiles in seconds, with the server's short forms; nil when nothing was measured.
    public struct Percentiles: Sendable, Equatable {
        public var p50Seconds: Int
        public var p90Seconds: Int
        public var p50: String
        public var p90: String

        init?(_ record: Record) {
            guard let p50Seconds = record["p50-seconds"].flatMap(Int.init), let p90Seconds = record["p90-seconds"].flatMap(Int.init) else { return nil }
            self.p50Seconds = p50Seconds
            self.p90Seconds = p90Seconds
            p50 = record["p50"] ?? "\(p50Seconds)s"
            p90 = record["p90"] ?? "\(p90Seconds)s"
        }
    }

    /// One `hold` line.
    public struct Hold: Sendable, Equatable {
        public var type: String
        public var open: Int
        public var resolved: Int
        public var resolution: Percentiles?
    }

    public var window: String
    /// When the server computed them (`at=` of the OK line).
    public var at: Date?
    public var queues: [Queue] = []
    public var shipped = 0
    public var cycle: Percentiles?
    public var holds: [Hold] = []
    public var shippedWithoutHold = 0
    /// `share` as the server wrote it (`0.64`).
    public var cleanShare: String?
    /// Orders each processor released to fulfilment in the window.
    public var processors: [(user: String, released: Int)] = []
    /// The `ops` line's fields.
    public var operations: [String: String] = [:]

    /// nil for a failed reply.
    public init?(_ reply: ServerReply) {
        guard case .ok(let summary) = reply.outcome else { return nil }
        let head = Record(summary)
        window = head["window"] ?? "?"
        at = head["at"].flatMap(Timestamps.date)
        for line in reply.data {
            let record = Record(line)
            let number = { (key: String) in record[key].flatMap { Int($0) } ?? 0 }
            switch record.words.first {
            case "queue":
                queues.append(Queue(name: record["name"] ?? "?", depth: number("depth"), oldestSeconds: number("oldest-seconds"),
                                    oldest: record["oldest"] ?? "", stuck: record["stuck"].flatMap { Int($0) }))
            case "cycle":
                shipped = number("shipped")
                cycle = Percentiles(record)
            case "hold":
                holds.append(Hold(type: record["type"] ?? "?", open: number("open"), resolved: number("resolved"), resolution: Percentiles(record)))
            case "clean-ship":
                shippedWithoutHold = number("without-hold")
                cleanShare = record["share"]
            case "processor":
                processors.append((record["user"] ?? "?", number("released")))
            case "ops":
                operations = record.fieldDictionary
            default:
                break
            }
        }
    }

    public static func == (lhs: MetricsFigures, rhs: MetricsFigures) -> Bool {
        lhs.window == rhs.window && lhs.at == rhs.at && lhs.queues == rhs.queues && lhs.shipped == rhs.shipped && lhs.cycle == rhs.cycle
            && lhs.holds == rhs.holds && lhs.shippedWithoutHold == rhs.shippedWithoutHold && lhs.cleanShare == rhs.cleanShare
            && lhs.processors.map(\.user) == rhs.processors.map(\.user) && lhs.processors.map(\.released) == rhs.processors.map(\.released)
            && lhs.operations == rhs.operations
    }
}
