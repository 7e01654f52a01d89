import Dispatch
import OrderDeskCore

/// The server and its store beyond commits: housekeeping, the keep-alive, and recovery after a
/// failed commit (a reload, or `ERR storage` while the store cannot be reached).
extension DeskServer {
    /// Runs the store's housekeeping a slice at a time on the store queue, so commits queued
    /// meanwhile go between the slices; then again every `maintenanceInterval`, so a desk that
    /// runs for months keeps to its retention settings.
    func maintainStore(now: Instant) {
        let store = self.store
        let interval = Int(configuration.maintenanceInterval.value)
        storeQueue.async { [weak self, log] in
            do {
                if try store.maintain(now: now) {
                    // The next slice is asked for from the desk queue, where a stop is known.
                    self?.queue.async { [weak self] in
                        guard let self, !self.isStopping else { return }
                        self.maintainStore(now: now)
                    }
                    return
                }
            } catch {
                log(.warning, "store maintenance failed", [("error", "\(error)")])
            }
            self?.queue.asyncAfter(deadline: .now() + .milliseconds(interval)) { [weak self] in
                guard let self, !self.isStopping else { return }
                self.maintainStore(now: self.clockNow())
            }
        }
    }

    /// Calls the store's `keepAlive` every `keepAliveInterval` on the store queue, between
    /// commits; a failure is handled as a failed commit's (reload, or ERR storage until the
    /// store is back, or a stop when another node has the desk now).
    func keepStoreAlive(after delay: Milliseconds? = nil) {
        guard let interval = store.keepAliveInterval else { return }
        let store = self.store
        queue.asyncAfter(deadline: .now() + .milliseconds(Int((delay ?? interval).value))) { [weak self] in
            guard let self, !self.isStopping else { return }
            // During an outage the reload's own attempts are the store's heartbeat.
            guard self.storeOutage == nil else { return self.keepStoreAlive() }
            self.storeQueue.async { [weak self] in
                let result = Result { try store.keepAlive() }
                self?.queue.async { [weak self] in
                    guard let self else { return }
                    if case .failure(let error) = result, self.storeOutage == nil {
                        self.log(.error, "the store's keep-alive failed; reloading the desk from the store", [("error", "\(error)")])
                        self.reloadDesk()
                        self.dropTurn()
                    }
                    self.keepStoreAlive()
                }
            }
        }
    }

    /// Runs `body` with the store on the store queue, after everything queued there: the one
    /// place the store may be used from (for tests, once the server has stopped).
    public func withStore<Result>(_ body: (DeskStore) throws -> Result) rethrows -> Result {
        try storeQueue.sync { try body(store) }
    }

    // MARK: Recovery

    /// A commit failed: every reply that depended on it was turned into an error, and the
    /// in-memory desk holds changes that never became durable, so it is rebuilt from the store.
    func recover(from error: Error) {
        log(.error, "commit failed; reloading the desk from the store", [("error", "\(error)")])
        stats.commitFailures += 1
        reloadDesk()
        // A cluster node's turn ends with its failed commit (the reload queued first runs first).
        dropTurn()
    }

    /// Rebuilds the desk from the store, on the store queue: the desk queue never waits for it
    /// (a database that does not answer can take long to refuse). Until the first attempt is
    /// back, sessions' lines wait (`isReloading`), so a session's next command meets the
    /// reloaded desk; if the store cannot be reached, they get `ERR storage` while it is retried.
    func reloadDesk() {
        guard storeOutage == nil else { return }  // a reload is already under way
        storeOutage = clockNow()
        isReloading = true
        reload(attempt: 1)
    }

    /// Loads the desk again; a store that cannot be reached now is tried again every
    /// `reloadInterval` for as long as it takes, anything else stops the server.
    func reload(attempt: Int) {
        let store = self.store
        let clusterStore = cluster?.store
        storeQueue.async { [weak self] in
            // A cluster node: the desk as the cluster has it, and who is online where.
            var sessions: [String: [String: Int]] = [:]
            let snapshot = Result {
                guard let clusterStore else { return try store.load() }
                let loaded = try clusterStore.loadCluster()
                sessions = loaded.sessions
                return loaded.snapshot
            }
            let loadedSessions = sessions
            self?.queue.async { [weak self] in self?.reloaded(snapshot, sessions: loadedSessions, attempt: attempt) }
        }
    }

    func reloaded(_ snapshot: Result<DeskSnapshot, Error>, sessions: [String: [String: Int]] = [:], attempt: Int) {
        dispatchPrecondition(condition: .onQueue(queue))
        guard !isStopping, let since = storeOutage else { return }
        defer {
            // The lines that waited for the first attempt: served by the reloaded desk, or refused.
            if isReloading {
                isReloading = false
                for connection in connections.values { serve(connection) }
            }
        }
        switch snapshot {
        case .success(let snapshot):
            let now = clockNow()
            desk = Desk(settings: configuration.desk, snapshot: snapshot, now: now)
            storeOutage = nil
            if attempt > 1 { log(.info, "store back; the desk is reloaded", [("after-ms", String((now - since).value)), ("attempts", String(attempt))]) }
            if let cluster {
                cluster.sessionsByNode = sessions
                cluster.recorded = []
                reconcileClusterSessions()
                return
            }
            for user in sessionsByUser.keys.sorted() {
                for _ in sessionsByUser[user] ?? [:] { apply(desk.sessionOpened(user: user, now: now).outcome, replyTo: nil) }
            }
        case .failure(let loadError) where store.isTransient(loadError):
            // Said once, then every minute of the outage, not once per attempt.
            if attempt == 1 || attempt % max(1, Int(60_000 / max(1, configuration.reloadInterval.value))) == 0 {
                log(.error, "the store cannot be reached; commands get ERR storage until it is back",
                    [("error", "\(loadError)"), ("attempts", String(attempt))])
            }
            queue.asyncAfter(deadline: .now() + .milliseconds(Int(configuration.reloadInterval.value))) { [weak self] in
                self?.reload(attempt: attempt + 1)
            }
        case .failure(let loadError):
            log(.error, "reload failed; stopping", [("error", "\(loadError)")])
            let onFatal = configuration.onFatalError
            // A PostgreSQL node whose desk another server took meanwhile says so: its clients go there.
            let reason = store.hasLostDesk(loadError) ? "storage-failed another server has the desk now; this one stopped"
                                                      : "storage-failed the data file cannot be read; the desk stopped"
            shutdown(reason: reason) { onFatal("storage failed: \(loadError)") }
        }
    }
}
