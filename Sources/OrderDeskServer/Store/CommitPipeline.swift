import Dispatch
import Foundation
import OrderDeskCore
#if canImport(Glibc)
import Glibc
#endif

/// Group commit: changes from many commands share one transaction, and nothing that depends on
/// a change leaves the server before that change is durable.
///
/// `submitted`, `settled` and the waiting actions belong to the desk queue. The changes not yet
/// committed are handed to the store queue under `lock`: while one batch commits, new changes
/// gather in `pending`, and the moment the commit is done the store queue takes them all as the
/// next batch, without first going back to the desk queue (which may be busy reading sockets).
/// The desk queue hears of each commit afterwards, in order. Every reply and push is held by
/// `whenDurable` until all changes submitted before it are committed, so replies stay in request
/// order and no one ever sees state that a crash could take back.
final class CommitPipeline: @unchecked Sendable {  // see above: desk-queue state, and `handoff` under `lock`
    private let store: DeskStore
    private let deskQueue: DispatchQueue
    private let storeQueue: DispatchQueue
    /// Number of change sets submitted so far; the newest one's sequence number.
    private(set) var submitted: UInt64 = 0
    /// All change sets up to this one are durable (or were failed back).
    private(set) var settled: UInt64 = 0
    private var waiting: [(sequence: UInt64, action: (Bool) -> Void)] = []
    private var waitingStart = 0
    /// What the desk queue hands to the store queue; read and written only under `lock`.
    private struct Handoff {
        /// Changes submitted and not yet taken by a commit, up to change set `pendingUpTo`.
        var pending: [StoreChange] = []
        /// A cluster node's inputs behind `pending`, and the desk's counters after them.
        var inputs: [ClusterInput] = []
        var counters = DeskCounters()
        var pendingUpTo: UInt64 = 0
        /// True while the store queue commits, or is about to take `pending`.
        var isCommitting = false
        /// True from a failed commit until the desk queue has failed back what depended on it:
        /// changes submitted meanwhile were computed on top of the failed ones and must not commit.
        var isHalted = false
    }
    private let lock = NSLock()
    private var handoff = Handoff()
    /// Called on the desk queue when a commit fails, after every waiting action was told.
    var onFailure: ((Error) -> Void)?
    /// Called on the desk queue after every successful commit with its duration (µs) and size.
    var onCommit: ((Int64, Int) -> Void)?
    /// Called on the desk queue when change sets up to a sequence number settle (committed, or
    /// failed back), before the actions waiting for them run: the server releases the replies and
    /// pushes it held for them.
    var onSettled: ((UInt64, Bool) -> Void)?

    /// Set on a cluster node: each batch commits with a log entry of its inputs.
    private let cluster: (store: PostgresStore, node: String)?

    init(store: DeskStore, deskQueue: DispatchQueue, storeQueue: DispatchQueue) {
        self.store = store
        if let postgres = store as? PostgresStore, let identity = postgres.node.cluster {
            cluster = (postgres, identity.id)
        } else {
            cluster = nil
        }
        self.deskQueue = deskQueue
        self.storeQueue = storeQueue
    }

    /// True when every change set submitted so far is durable: output may leave at once.
    var isSettled: Bool { submitted == settled }

    /// Queues `changes` for the next commit; on a cluster node, with the `inputs` that made them
    /// and the desk's `counters` after them.
    func submit(_ changes: [StoreChange], inputs: [ClusterInput] = [], counters: DeskCounters? = nil) {
        dispatchPrecondition(condition: .onQueue(deskQueue))
        guard !changes.isEmpty || !inputs.isEmpty else { return }
        submitted += 1
        let sequence = submitted
        let starts = lock.withLock {
            if handoff.pending.isEmpty { handoff.pending = changes } else { handoff.pending.append(contentsOf: changes) }
            handoff.inputs.append(contentsOf: inputs)
            if let counters { handoff.counters = counters }
            handoff.pendingUpTo = sequence
            guard !handoff.isCommitting, !handoff.isHalted else { return false }
            handoff.isCommitting = true
            return true
        }
        if starts { storeQueue.async { self.commitPending() } }
    }

    /// Runs `action(true)` once everything submitted so far is durable, or `action(false)` if that
    /// commit failed. Runs it at once when nothing is outstanding.
    func whenDurable(_ action: @escaping (Bool) -> Void) {
        dispatchPrecondition(condition: .onQueue(deskQueue))
        if submitted == settled {
            action(true)
        } else {
            waiting.append((submitted, action))
        }
    }

    /// On the store queue: commits everything pending as one batch, then comes back for what
    /// gathered meanwhile.
    private func commitPending() {
        let taken: (batch: [StoreChange], inputs: [ClusterInput], counters: DeskCounters, upTo: UInt64)? = lock.withLock {
            guard !handoff.pending.isEmpty || !handoff.inputs.isEmpty, !handoff.isHalted else {
                handoff.isCommitting = false
                return nil
            }
            defer {
                handoff.pending = []
                handoff.inputs = []
            }
            return (handoff.pending, handoff.inputs, handoff.counters, handoff.pendingUpTo)
        }
        guard let (batch, inputs, counters, upTo) = taken else { return }
        let started = Self.monotonicMicroseconds()
        let result = Result {
            if let cluster {
                try cluster.store.commitTurn(batch, entry: ClusterEntry(node: cluster.node, inputs: inputs, counters: counters))
            } else {
                try store.commit(batch)
            }
        }
        let elapsed = Self.monotonicMicroseconds() - started
        let failed = (try? result.get()) == nil
        if failed {
            // Halted before the desk queue hears of it: its `finished` lifts the halt.
            lock.withLock {
                handoff.isHalted = true
                handoff.isCommitting = false
            }
        }
        deskQueue.async { self.finished(upTo: upTo, result: result, elapsed: elapsed, size: batch.count) }
        guard !failed else { return }
        // What gathered meanwhile goes next, as a new block (keep-alives and housekeeping queued
        // behind get their turn); with nothing pending, the next submit starts the store again.
        let continues = lock.withLock {
            guard !handoff.isHalted, !handoff.pending.isEmpty || !handoff.inputs.isEmpty else {
                handoff.isCommitting = false
                return false
            }
            return true
        }
        if continues { storeQueue.async { self.commitPending() } }
    }

    private func finished(upTo: UInt64, result: Result<Void, Error>, elapsed: Int64, size: Int) {
        switch result {
        case .success:
            settled = upTo
            onCommit?(elapsed, size)
            release(upTo: upTo, committed: true)
        case .failure(let error):
            // Later change sets were computed on top of the failed ones: they fail too. So does
            // what the waiting actions submit while they are told (a session closed at its
            // failed QUIT starts its grace windows), and what comes before `onFailure` has the
            // server refuse changes: the halt is lifted only after that.
            repeat {
                settled = submitted
                release(upTo: submitted, committed: false)
            } while settled != submitted
            onFailure?(error)
            if settled != submitted {
                settled = submitted
                release(upTo: submitted, committed: false)
            }
            lock.withLock {
                handoff.pending = []
                handoff.inputs = []
                handoff.isHalted = false
            }
        }
    }

    private func release(upTo: UInt64, committed: Bool) {
        onSettled?(upTo, committed)
        while waitingStart < waiting.count, waiting[waitingStart].sequence <= upTo {
            let action = waiting[waitingStart].action
            waitingStart += 1
            action(committed)
        }
        if waitingStart == waiting.count {
            waiting.removeAll(keepingCapacity: true)
            waitingStart = 0
        } else if waitingStart > 1024 {
            waiting.removeFirst(waitingStart)
            waitingStart = 0
        }
    }

    static func monotonicMicroseconds() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Int64(spec.tv_sec) * 1_000_000 + Int64(spec.tv_nsec) / 1000
    }
}
