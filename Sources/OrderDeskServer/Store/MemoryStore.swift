import Foundation
import OrderDeskCore

/// A store that keeps everything in memory, for tests; it can be told to fail commits, the seam
/// through which tests inject disk errors (as ENOSPC would surface from SQLite).
public final class MemoryStore: DeskStore, @unchecked Sendable {
    // Guarded by `lock`: tests inspect it from their own threads while the store queue commits.
    private let lock = NSLock()
    private var snapshot = DeskSnapshot()
    private var auditTrail: [AuditEntry] = []
    private var failuresToInject = 0
    private var loadFailuresToInject = 0
    private var commitCount = 0

    public init(snapshot: DeskSnapshot = DeskSnapshot()) {
        self.snapshot = snapshot
    }

    /// Makes the next `count` commits throw without changing anything.
    public func failNextCommits(_ count: Int) {
        lock.withLock { failuresToInject = count }
    }

    /// Makes the next `count` loads throw `StoreError.unavailable`, as a database that is down would.
    public func failNextLoads(_ count: Int) {
        lock.withLock { loadFailuresToInject = count }
    }

    public var commits: Int { lock.withLock { commitCount } }

    public func load() throws -> DeskSnapshot {
        try lock.withLock {
            if loadFailuresToInject > 0 {
                loadFailuresToInject -= 1
                throw StoreError.unavailable("injected")
            }
            return snapshot
        }
    }

    public func thread(of order: String) throws -> (notes: [Note], history: [HistoryEntry]) {
        lock.withLock {
            let found = snapshot.orders.first { $0.number == order }
            return (found?.notes ?? [], found?.history ?? [])
        }
    }

    public func audit(_ query: AuditQuery) throws -> AuditPage {
        lock.withLock {
            let matching = auditTrail.enumerated().map { AuditRecord(id: UInt64($0.offset + 1), entry: $0.element) }.filter { record in
                (query.before.map { record.id < $0 } ?? true) && (query.user.map { record.entry.actor == $0 } ?? true)
                    && (query.action.map { record.entry.action == $0 } ?? true)
            }
            let total = auditTrail.filter { entry in
                (query.user.map { entry.actor == $0 } ?? true) && (query.action.map { entry.action == $0 } ?? true)
            }.count
            return AuditPage(records: Array(matching.reversed().prefix(query.limit)), total: total, hasMore: matching.count > query.limit)
        }
    }

    public func commit(_ changes: [StoreChange]) throws {
        try lock.withLock {
            if failuresToInject > 0 {
                failuresToInject -= 1
                throw StoreError.injected
            }
            commitCount += 1
            var orders = Dictionary(uniqueKeysWithValues: snapshot.orders.map { ($0.number, $0) })
            var users = Dictionary(uniqueKeysWithValues: snapshot.users.map { ($0.name, $0) })
            for change in changes {
                switch change {
                case .order(let order):
                    var stored = order
                    stored.notes = orders[order.number]?.notes ?? []
                    stored.history = orders[order.number]?.history ?? []
                    orders[order.number] = stored
                case .orderState(let number, let state): orders[number]?.apply(state)
                case .hold(let number, let hold): orders[number]?.put(hold)
                case .note(let number, _, let note): orders[number]?.notes.append(note)
                case .history(let number, _, let entry): orders[number]?.history.append(entry)
                case .user(let user): users[user.name] = user
                case .counters(let counters): snapshot.counters = counters
                case .mailbox(let user, let entry):
                    var entries = snapshot.mailboxes[user]?.entries ?? []
                    entries.removeAll { $0.id == entry.id }
                    entries.append(entry)
                    snapshot.mailboxes[user] = Mailbox(entries: entries, droppedThrough: snapshot.mailboxes[user]?.droppedThrough ?? 0)
                case .membership(let user, let kind, let name, let isMember):
                    snapshot.memberships.removeAll { $0 == (user, kind, name) }
                    if isMember { snapshot.memberships.append((user, kind, name)) }
                case .thresholds(let queue, let value): snapshot.thresholds[queue] = value
                case .audit(let entry): auditTrail.append(entry)
                case .away: break  // a restart forgets who was away
                }
            }
            snapshot.orders = orders.values.sorted { $0.sequence < $1.sequence }
            snapshot.users = Array(users.values)
        }
    }
}
