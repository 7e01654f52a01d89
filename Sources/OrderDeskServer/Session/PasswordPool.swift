import Dispatch

/// Runs password hashes (about 175 ms each) on at most `workers` threads, with at most
/// `maximumWaiting` jobs waiting, served round-robin by source so one address flooding LOGIN
/// cannot keep another's out. Past the bound `submit` refuses at once, so a flood of logins can
/// never take the CPU from the desk or grow without limit.
///
/// Confined to the desk queue: `submit` is called there and completions run there.
final class PasswordPool: @unchecked Sendable {  // state confined to `deskQueue`
    private let deskQueue: DispatchQueue
    private let workQueue = DispatchQueue(label: "orderdesk.passwords", attributes: .concurrent)
    let workers: Int
    let maximumWaiting: Int
    /// Jobs waiting for a worker per source, and the sources in turn order.
    private var waiting: [String: [() -> Void]] = [:]
    private var turns: [String] = []
    private(set) var waitingCount = 0
    private(set) var runningCount = 0

    init(deskQueue: DispatchQueue, workers: Int, maximumWaiting: Int) {
        self.deskQueue = deskQueue
        self.workers = max(1, workers)
        self.maximumWaiting = maximumWaiting
    }

    /// Runs `work` off the desk queue when a worker is free, then `completion` with its result on
    /// the desk queue. Returns false, and runs nothing, when the wait is full.
    func submit<Result: Sendable>(from source: String, _ work: @escaping @Sendable () -> Result,
                                  completion: @escaping (Result) -> Void) -> Bool {
        dispatchPrecondition(condition: .onQueue(deskQueue))
        guard waitingCount < maximumWaiting else { return false }
        let job = { [self] in
            let box = UncheckedBox(completion)
            workQueue.async { [self] in
                let result = work()
                deskQueue.async { [self] in
                    box.value(result)
                    runningCount -= 1
                    startWaiting()
                }
            }
        }
        if waiting[source] == nil { turns.append(source) }
        waiting[source, default: []].append(job)
        waitingCount += 1
        startWaiting()
        return true
    }

    private func startWaiting() {
        while runningCount < workers, !turns.isEmpty {
            let source = turns.removeFirst()
            guard var jobs = waiting[source], !jobs.isEmpty else { waiting[source] = nil; continue }
            let job = jobs.removeFirst()
            if jobs.isEmpty { waiting[source] = nil } else { waiting[source] = jobs; turns.append(source) }
            waitingCount -= 1
            runningCount += 1
            job()
        }
    }
}

/// Carries a desk-queue closure through a worker and back; it only ever runs on the desk queue.
private struct UncheckedBox<Value>: @unchecked Sendable {  // used only on the desk queue
    let value: Value
    init(_ value: Value) { self.value = value }
}
