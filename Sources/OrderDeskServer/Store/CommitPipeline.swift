import Dispatch
import OrderDeskCore
#if canImport(Glibc)
import Glibc
#endif

/// Group commit: changes from many commands share one SQLite transaction, and nothing that
/// depends on a change leaves the server before that change is durable.
///
/// Confined to the desk queue. While one batch commits on the store queue, new changes gather in
/// `pending` and go out together as the next batch. Every reply and push is held by
/// `whenDurable` until all changes submitted before it are committed, so replies stay in request
/// order and no one ever sees state that a crash could take back.
final class CommitPipeline: @unchecked Sendable {  // confined to the desk queue (see above)
    private let store: DeskStore
    private let deskQueue: DispatchQueue
    private let storeQueue: DispatchQueue
    private var pending: [StoreChange] = []
    /// Number of change sets submitted so far; the newest one's sequence number.
    private(set) var submitted: UInt64 = 0
    /// All change sets up to this one are durable (or were failed back).
    private(set) var settled: UInt64 = 0
    private var isCommitting = false
    private var waiting: [(sequence: UInt64, action: (Bool) -> Void)] = []
    private var waitingStart = 0
    /// Called on the desk queue when a commit fails, after every waiting action was told.
    var onFailure: ((Error) -> Void)?
    /// Called on the desk queue after every successful commit with its duration (µs) and size.
    var onCommit: ((Int64, Int) -> Void)?
    /// Called on the desk queue when change sets up to a sequence number settle (committed, or
    /// failed back), before the actions waiting for them run: the server releases the replies and
    /// pushes it held for them.
    var onSettled: ((UInt64, Bool) -> Void)?

    init(store: DeskStore, deskQueue: DispatchQueue, storeQueue: DispatchQueue) {
        self.store = store
        self.deskQueue = deskQueue
        self.storeQueue = storeQueue
    }

    /// True when nothing is waiting to be committed.
    var isIdle: Bool { submitted == settled && !isCommitting }

    /// True when every change set submitted so far is durable: output may leave at once.
    var isSettled: Bool { submitted == settled }

    /// Queues `changes` for the next commit.
    func submit(_ changes: [StoreChange]) {
        dispatchPrecondition(condition: .onQueue(deskQueue))
        guard !changes.isEmpty else { return }
        pending.append(contentsOf: changes)
        submitted += 1
        startCommitIfIdle()
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

    private func startCommitIfIdle() {
        guard !isCommitting, !pending.isEmpty else { return }
        let batch = pending
        pending = []
        let upTo = submitted
        isCommitting = true
        let store = self.store
        storeQueue.async {
            let started = Self.monotonicMicroseconds()
            let result = Result { try store.commit(batch) }
            let elapsed = Self.monotonicMicroseconds() - started
            self.deskQueue.async { self.finished(upTo: upTo, result: result, elapsed: elapsed, size: batch.count) }
        }
    }

    private func finished(upTo: UInt64, result: Result<Void, Error>, elapsed: Int64, size: Int) {
        isCommitting = false
        switch result {
        case .success:
            settled = upTo
            onCommit?(elapsed, size)
            release(upTo: upTo, committed: true)
            startCommitIfIdle()
        case .failure(let error):
            // Later change sets were computed on top of the failed ones: they fail too.
            pending = []
            settled = submitted
            release(upTo: submitted, committed: false)
            onFailure?(error)
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
