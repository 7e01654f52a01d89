import OrderDeskCore
import OrderDeskServer

/// `orderdesk check`: SQLite's integrity check and the desk's own invariants on a data file,
/// read only (it may run beside a server, or on a backup before restoring it).
public enum DataFileCheck {
    /// What the check found: the schema version, counts, and each problem (none for a sound file).
    public struct Report: Sendable {
        public var schemaVersion: Int64 = 0
        public var orders = 0
        public var users = 0
        public var problems: [String] = []

        public var isSound: Bool { problems.isEmpty }
    }

    /// Checks the file at `path`. Throws only when it cannot be opened at all (missing, not a
    /// database, made by a newer orderdesk); everything else is a problem in the report.
    public static func run(path: String) throws -> Report {
        let store = try SQLiteStore(readingOnly: path)
        var report = Report()
        report.schemaVersion = try store.schemaVersion()
        let integrity = try store.integrityCheck()
        if integrity != "ok" { report.problems.append("sqlite integrity_check: \(integrity)") }
        for (table, count) in try store.rowsWithoutOrder() where count > 0 {
            report.problems.append("\(count) \(table) rows belong to no order")
        }
        for (table, count) in try store.threadRowsMisfiled() where count > 0 {
            report.problems.append("\(count) \(table) rows are filed under another sequence than their order's")
        }
        let snapshot: DeskSnapshot
        do {
            snapshot = try store.load()
        } catch {
            report.problems.append("the desk cannot load the file: \(error)")
            return report
        }
        report.orders = snapshot.orders.count
        report.users = snapshot.users.count
        report.problems += problems(in: snapshot)
        return report
    }

    /// The desk's invariants over what a store holds.
    static func problems(in snapshot: DeskSnapshot) -> [String] {
        var problems: [String] = []
        let users = Set(snapshot.users.map(\.name))
        let counters = snapshot.counters
        var holderOfToken: [UInt64: String] = [:]
        var numberOfSequence: [Int64: String] = [:]
        for order in snapshot.orders {
            let number = order.number
            if let other = numberOfSequence.updateValue(number, forKey: order.sequence) {
                problems.append("\(number) and \(other) share capture sequence \(order.sequence)")
            }
            if order.sequence >= counters.nextSequence {
                problems.append("\(number) has sequence \(order.sequence), not below the counter \(counters.nextSequence)")
            }
            if order.lines.isEmpty { problems.append("\(number) has no lines") }
            if let lease = order.lease {
                if let other = holderOfToken.updateValue(number, forKey: lease.token) {
                    problems.append("\(number) and \(other) hold claims with the same token \(lease.token)")
                }
                if lease.token >= counters.nextToken {
                    problems.append("\(number) claim token \(lease.token) is not below the token counter \(counters.nextToken)")
                }
                if !users.contains(lease.holder) { problems.append("\(number) is claimed by \(lease.holder), who is not a user") }
                if order.stage.isTerminal { problems.append("\(number) is \(order.stage.rawValue) but claimed by \(lease.holder)") }
                if lease.expires < lease.since { problems.append("\(number) claim ends before it began") }
            }
            var openTypes = Set<HoldType>()
            for (position, hold) in order.holds.enumerated() {
                if hold.id != position + 1 { problems.append("\(number) hold \(hold.id) is at position \(position + 1)") }
                if hold.isOpen, !openTypes.insert(hold.type).inserted {
                    problems.append("\(number) has two open \(hold.type.rawValue) holds")
                }
            }
            if order.stage == .shipped, !openTypes.isEmpty { problems.append("\(number) is shipped with open holds") }
            if order.stage == .cancelled, !openTypes.isEmpty { problems.append("\(number) is cancelled with open holds") }
            // Queues are not stored; each order's queue stays must match what its stage and holds say.
            let derived = Set(QueueName.queues(of: order).map(\.wireName))
            let stored = order.episodes.map(\.queue.wireName)
            if Set(stored) != derived || Set(stored).count != stored.count {
                problems.append("\(number) queue stays [\(stored.joined(separator: ","))] do not match its stage and holds "
                                + "[\(derived.sorted().joined(separator: ","))]")
            }
        }
        for (user, mailbox) in snapshot.mailboxes {
            if !users.contains(user) { problems.append("mailbox of \(user), who is not a user") }
            if let newest = mailbox.entries.last, newest.id >= counters.nextEventID {
                problems.append("\(user) has event \(newest.id), not below the event counter \(counters.nextEventID)")
            }
        }
        for (user, _, _) in snapshot.memberships where !users.contains(user) {
            problems.append("membership of \(user), who is not a user")
        }
        return problems
    }
}
