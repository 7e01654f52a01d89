import Foundation
import OrderDeskCore
import OrderDeskOps
import OrderDeskServer

/// The operator's commands for a desk that runs for years: backup, check, export. They read the
/// data file through their own connection and need no lock, so they work beside a running server.
extension Commands {
    static func backup(_ options: Options) throws -> Int32 {
        let usage = "usage: orderdesk backup --to FILE [--data PATH]   (a consistent copy of a running desk's data file)"
        if options.has("help") { print(usage); return 0 }
        let unknown = options.unknown(known: ["to", "data", "help"])
        guard unknown.isEmpty, options.positional.count == 1, let destination = options.value("to") else { throw UsageError(usage) }
        let path = options.value("data") ?? defaultDataPath
        let summary = try Backup.run(from: path, to: destination)
        say(String(format: "backed up %@ to %@: %d pages, %lld bytes in %.2f s", path, destination, summary.pages, summary.bytes, summary.seconds))
        let report = try DataFileCheck.run(path: destination)
        for problem in report.problems { say("problem: \(problem)") }
        say(report.isSound ? "check: ok (\(report.orders) orders, \(report.users) users)" : "check: \(report.problems.count) problems")
        return report.isSound ? 0 : 1
    }

    static func check(_ options: Options) throws -> Int32 {
        let usage = "usage: orderdesk check [--data PATH | FILE]   (exit 0 sound, 1 problems)"
        if options.has("help") { print(usage); return 0 }
        let unknown = options.unknown(known: ["data", "help"])
        guard unknown.isEmpty, options.positional.count <= 2 else { throw UsageError(usage) }
        let path = options.positional.count == 2 ? options.positional[1] : options.value("data") ?? defaultDataPath
        let report = try DataFileCheck.run(path: path)
        for problem in report.problems { say("problem: \(problem)") }
        say("\(path): schema version \(report.schemaVersion), \(report.orders) orders, \(report.users) users: "
            + (report.isSound ? "ok" : "\(report.problems.count) problems"))
        return report.isSound ? 0 : 1
    }

    static let exportUsage = """
        usage: orderdesk export [--data PATH] [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--format csv|jsonl] [--history]
                                [--out FILE] [--history-out FILE]

          --from, --to      orders captured on or after --from and on or before --to (UTC days); default: all
          --format          csv (default: one row per order line) or jsonl (one order per line), both in the
                            shape `orderdesk import` reads, plus stage, captured, released, finished, holds
          --history         also each order's history: in jsonl inside the order (with its notes); in csv as a
                            second file, --history-out FILE (number,at,by,action,detail)
          --out FILE        write there (mode 0600) rather than to standard output
        """

    static func export(_ options: Options) throws -> Int32 {
        if options.has("help") { print(exportUsage); return 0 }
        let unknown = options.unknown(known: ["data", "from", "to", "format", "history", "out", "history-out", "help"])
        guard unknown.isEmpty, options.positional.count == 1 else { throw UsageError(exportUsage) }
        guard let format = Exporter.Format(rawValue: options.value("format") ?? "csv") else { throw UsageError("--format is csv or jsonl") }
        var range = Exporter.Range()
        if let from = options.value("from") {
            guard let day = Instant(day: from) else { throw UsageError("--from takes a day, YYYY-MM-DD") }
            range.from = day
        }
        if let to = options.value("to") {
            guard let day = Instant(day: to) else { throw UsageError("--to takes a day, YYYY-MM-DD") }
            range.to = day + Milliseconds(86_400_000)
        }
        let includeHistory = options.has("history")
        if includeHistory, format == .csv, options.value("history-out") == nil {
            throw UsageError("--history with --format csv needs --history-out FILE for the history rows")
        }
        let store = try SQLiteStore(readingOnly: options.value("data") ?? defaultDataPath)
        let output = try OutputFile(path: options.value("out"))
        let historyOutput = try options.value("history-out").map { try OutputFile(path: $0) }
        let count = try Exporter.run(store: store, format: format, range: range, includeHistory: includeHistory,
                                     write: output.write, writeHistory: historyOutput?.write)
        try output.flush()
        try historyOutput?.flush()
        FileHandle.standardError.write(Data("exported \(count) orders\n".utf8))
        return 0
    }
}

/// Standard output, or a file created (or truncated) with mode 0600; writes are buffered.
final class OutputFile {
    private let descriptor: Int32
    private let ownsDescriptor: Bool
    private var buffer: [UInt8] = []

    init(path: String?) throws {
        if let path {
            descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            guard descriptor >= 0 else { throw UsageError("cannot write \(path): \(String(cString: strerror(errno)))") }
            ownsDescriptor = true
        } else {
            descriptor = STDOUT_FILENO
            ownsDescriptor = false
        }
    }

    deinit { if ownsDescriptor { close(descriptor) } }

    func write(_ text: String) throws {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= 1 << 16 { try flush() }
    }

    func flush() throws {
        var offset = 0
        while offset < buffer.count {
            let written = buffer.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0, errno == EINTR { continue }
            guard written > 0 else { throw UsageError("write failed: \(String(cString: strerror(errno)))") }
            offset += written
        }
        buffer.removeAll(keepingCapacity: true)
    }
}
