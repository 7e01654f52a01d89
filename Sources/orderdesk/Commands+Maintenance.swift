import Foundation
import OrderDeskServer

/// The operator's commands for a desk that runs for years: backup and check. They read the data
/// file through their own connection and need no lock, so they work beside a running server.
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
}
