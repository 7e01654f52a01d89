import Dispatch
import OrderDeskCore
import OrderDeskWire

/// The server as one node of an active-active cluster over PostgreSQL (docs/CLUSTER.md): every
/// change to the desk is an input (`ClusterInput`) that runs during this node's write turn and
/// is logged with its commit; the other nodes replay the log on their copies of the desk.
extension DeskServer {
    /// Runs `input` on the desk, as this node's own: on a cluster node it is recorded for the
    /// next commit's log entry (the caller then `apply`s the outcome). `command` is the input's
    /// command already parsed, if it is one.
    func perform(_ input: ClusterInput, command: Command? = nil) -> (outcome: Outcome, backlog: [String]) {
        dispatchPrecondition(condition: .onQueue(queue))
        guard let cluster else {
            let ran = deskCall(input, origin: "", command: command)
            return (ran.outcome, ran.backlog)
        }
        // A turn is needed: a change made without one would be this copy's alone.
        assert(cluster.hasTurn || storeOutage != nil, "a cluster input outside the write turn")
        cluster.recorded.append(input)
        if let at = input.instant, at > cluster.lastInstant { cluster.lastInstant = at }
        let ran = deskCall(input, origin: cluster.identity.id, command: command)
        return (ran.outcome, ran.backlog)
    }

    /// The one place an input becomes a desk call, for the node that runs it first and for
    /// every node that replays it. Returns the command a `.command` input ran, too (a replay
    /// needs it after the call, and must not parse the line twice).
    private func deskCall(_ input: ClusterInput, origin: String, command given: Command?)
        -> (outcome: Outcome, backlog: [String], command: Command?) {
        switch input {
        case .command(let user, let line, let at):
            guard let command = given ?? Self.deskCommand(in: line, parser: parser) else {
                return (Outcome(reply: .failure(.unknownCommand(line, suggestion: nil))), [], nil)
            }
            return (desk.execute(command, as: user, now: at), [], command)
        case .sessionOpened(let user, let at):
            cluster?.sessionsByNode[origin, default: [:]][user, default: 0] += 1
            let opened = desk.sessionOpened(user: user, now: at)
            return (opened.outcome, opened.backlog, nil)
        case .sessionClosed(let user, let at):
            forgetClusterSession(of: user, on: origin)
            return (desk.sessionClosed(user: user, now: at), [], nil)
        case .login(let user, let at): return (desk.recordLogin(of: user, now: at), [], nil)
        case .audit(let action, let detail, let by, let at): return (desk.audit(action, detail, by: by, now: at), [], nil)
        case .addUser(let user, let by, let at): return (desk.addUser(user, by: by, now: at), [], nil)
        case .putUser(let user): return (desk.put(user), [], nil)
        case .setCredential(let credential, let name, let by, let at): return (desk.setCredential(credential, of: name, by: by, now: at), [], nil)
        case .tick(let at): return (desk.tick(now: at), [], nil)
        case .nodeDown(let node, let at):
            // Its sessions close one by one, in user order, as if each had disconnected.
            var outcome = Outcome(reply: nil)
            for (user, count) in (cluster?.sessionsByNode[node] ?? [:]).sorted(by: { $0.key < $1.key }) {
                for _ in 0..<count { outcome.absorb(desk.sessionClosed(user: user, now: at)) }
            }
            cluster?.sessionsByNode[node] = nil
            return (outcome, [], nil)
        }
    }

    private func forgetClusterSession(of user: String, on node: String) {
        guard let cluster, let count = cluster.sessionsByNode[node]?[user] else { return }
        cluster.sessionsByNode[node]?[user] = count > 1 ? count - 1 : nil
        if cluster.sessionsByNode[node]?.isEmpty == true { cluster.sessionsByNode[node] = nil }
    }

    /// The desk command a logged line holds (lines are logged only once they parsed as one).
    static func deskCommand(in line: String, parser: CommandParser) -> Command? {
        guard case .success(.desk(let command)) = parser.parse(line) else { return nil }
        return command
    }

    /// The inputs recorded since the last submit, for the commit pipeline.
    func takeRecordedInputs() -> [ClusterInput] {
        guard let cluster, !cluster.recorded.isEmpty else { return [] }
        defer { cluster.recorded = [] }
        return cluster.recorded
    }

    /// The instant a look-up runs at on a cluster node: now, but before the next lease deadline,
    /// so that `execute` ends no lease (that is a change, and only a turn makes changes).
    func lookupInstant() -> Instant {
        let now = clockNow()
        guard cluster != nil, let due = desk.nextLeaseDue, due <= now else { return now }
        return due - Milliseconds(1)
    }

    /// True when this node may change the desk now (always, on a single server).
    var mayChangeDesk: Bool { cluster.map(\.hasTurn) ?? true }

    // MARK: The write turn

    /// Runs `body` now if this node may change the desk, else once the write turn is granted.
    func whenTurn(_ body: @escaping () -> Void) {
        dispatchPrecondition(condition: .onQueue(queue))
        guard let cluster, !cluster.hasTurn else { return body() }
        cluster.waiters.append(body)
        askForTurn()
    }

    /// Holds `connection`'s line `frame` until the write turn: the session waits meanwhile.
    func awaitTurn(with frame: LineFramer.Frame, on connection: Connection) {
        guard let cluster else { return }
        hold(frame, of: connection)
        cluster.waitingConnections.append(connection)
        askForTurn()
    }

    /// The session's line waits (`rerun` runs it); so do the lines behind it.
    private func hold(_ frame: LineFramer.Frame, of connection: Connection) {
        connection.lineAwaitingCluster = frame
        connection.isBusy = true
    }

    /// Holds `connection`'s look-up `frame` until this node's copy has replayed everything
    /// committed before now: a look-up on one node sees what another node acknowledged before
    /// it was sent. The look-ups waiting together share one read of the log.
    func awaitCatchUp(with frame: LineFramer.Frame, on connection: Connection) {
        guard let cluster else { return }
        hold(frame, of: connection)
        cluster.readersWaiting.append(connection)
        // While the node asks for the turn, a read of the log goes between its waits for the
        // lock (a turn held elsewhere for long must not hold up look-ups here).
        pollClusterLog()
    }

    /// True when this node's copy may be behind the log: a look-up waits for a read of it first.
    var needsCatchUp: Bool { cluster.map { !$0.holdsTurn } ?? false }

    /// Runs the lines that waited, as if they had just arrived.
    private func rerun(_ connections: [Connection]) {
        for connection in connections {
            connection.isBusy = false
            guard let frame = connection.lineAwaitingCluster else { continue }
            connection.lineAwaitingCluster = nil
            connection.isCaughtUp = true
            received(frame, on: connection)
            connection.isCaughtUp = false
        }
        for connection in connections where !connection.isBusy { serve(connection) }
    }

    func askForTurn() {
        guard let cluster, !cluster.isAskingForTurn, !cluster.holdsTurn, !cluster.isFenced, !isStopping || cluster.isLeaving else { return }
        cluster.isAskingForTurn = true
        let store = cluster.store
        storeQueue.async { [weak self] in
            let result = Result { try store.takeTurn() }
            self?.queue.async { [weak self] in self?.turnAnswered(result) }
        }
    }

    private func turnAnswered(_ result: Result<ClusterTurn?, Error>) {
        guard let cluster else { return }
        cluster.isAskingForTurn = false
        switch result {
        case .success(nil):
            // Another node's turn outlasted the wait: ask again (behind what queued meanwhile).
            askForTurn()
        case .success(let turn?):
            cluster.holdsTurn = true
            guard !cluster.isFenced else { return endTurn() }
            if configuration.usesDatabaseClock { cluster.clockOffset = turn.databaseNow.milliseconds - SystemClock.now().milliseconds }
            replay(turn.entries)
            // Replaying found this node declared down, or a copy gone astray: no work in this turn.
            guard storeOutage == nil, !cluster.isFenced else { return endTurn() }
            cluster.hasTurn = true
            cluster.turnStarted = DispatchTime.now().uptimeNanoseconds
            for node in turn.silentNodes {
                if node == cluster.identity.id { return fenced() }
                log(.warning, "cluster node declared down: no heartbeat within the node timeout", [("node", node)])
                apply(perform(.nodeDown(node: node, at: clockNow())).outcome, replyTo: nil)
            }
            runTurnWork()
            considerEndingTurn()
        case .failure(let error):
            if case PostgresError.fenced = error { return fenced() }
            log(.error, "asking for the cluster's write turn failed; reloading the desk", [("error", "\(error)")])
            // The waiting work runs against the outage: its lines get ERR storage.
            reloadDesk()
            runTurnWork()
        }
    }

    /// The work that waited for the turn, in order: closures first (logins, disconnects, ticks),
    /// then the sessions' waiting lines.
    private func runTurnWork() {
        guard let cluster else { return }
        batchingWrites {
            while !cluster.waiters.isEmpty, cluster.hasTurn || storeOutage != nil {
                let work = cluster.waiters
                cluster.waiters = []
                for body in work { body() }
            }
            // The turn began with a replay of the whole log: waiting look-ups are served too.
            let connections = cluster.readersWaiting + cluster.readersInPoll + cluster.waitingConnections
            cluster.readersWaiting = []
            cluster.readersInPoll = []
            cluster.waitingConnections = []
            rerun(connections)
        }
    }

    /// Gives the turn back once nothing here waits for it and its commits are done; a node kept
    /// busy by its own sessions stops starting new work after `turnLimitNanoseconds`, so the
    /// others get their turns (its waiting work asks again, and queues behind them).
    func considerEndingTurn() {
        guard let cluster, cluster.holdsTurn, !cluster.isEndCheckQueued else { return }
        cluster.isEndCheckQueued = true
        // On the next pass of the queue: the sockets read meanwhile may bring more work.
        queue.async { [weak self] in
            guard let self, let cluster = self.cluster else { return }
            cluster.isEndCheckQueued = false
            guard cluster.holdsTurn else { return }
            let hasRunLong = DispatchTime.now().uptimeNanoseconds - cluster.turnStarted > ClusterNode.turnLimitNanoseconds
            if self.pipeline.isSettled || hasRunLong || !cluster.hasTurn {
                cluster.hasTurn = false
                self.pipeline.whenDurable { [weak self] _ in self?.endTurn() }
            } else {
                self.pipeline.whenDurable { [weak self] _ in self?.considerEndingTurn() }
            }
        }
    }

    /// Hands the turn back to the store (after every commit of it), and asks again if work came meanwhile.
    func endTurn() {
        guard let cluster, cluster.holdsTurn else { return }
        cluster.hasTurn = false
        cluster.holdsTurn = false
        let store = cluster.store
        storeQueue.async { store.endTurn() }
        // During an outage the reload asks again once the desk is back.
        if storeOutage == nil, !cluster.waiters.isEmpty || !cluster.waitingConnections.isEmpty { askForTurn() }
    }

    /// The turn is over with the store session that held it (a failed commit or keep-alive).
    func dropTurn() {
        guard let cluster, cluster.holdsTurn else { return }
        cluster.hasTurn = false
        endTurn()
    }

    // MARK: Replaying the others' inputs

    /// Reads what the other nodes logged, when this node is not in a turn (a turn reads it itself).
    func pollClusterLog() {
        guard let cluster, !cluster.holdsTurn, !cluster.isFenced, storeOutage == nil else { return }
        guard !cluster.isPolling else {
            if !cluster.readersWaiting.isEmpty { cluster.pollsAgain = true }
            return
        }
        cluster.isPolling = true
        cluster.pollsAgain = false
        cluster.readersInPoll = cluster.readersWaiting
        cluster.readersWaiting = []
        let store = cluster.store
        storeQueue.async { [weak self] in
            let entries = Result { try store.readLog() }
            self?.queue.async { [weak self] in
                guard let self, let cluster = self.cluster else { return }
                cluster.isPolling = false
                switch entries {
                case .success(let entries): self.replay(entries)
                case .failure(let error):
                    self.log(.error, "reading the cluster log failed; reloading the desk", [("error", "\(error)")])
                    self.reloadDesk()
                }
                // The look-ups that waited for this read (on a failure they meet the outage).
                let readers = cluster.readersInPoll
                cluster.readersInPoll = []
                self.batchingWrites { self.rerun(readers) }
                if cluster.pollsAgain || !cluster.readersWaiting.isEmpty { self.pollClusterLog() }
            }
        }
    }

    /// Runs other nodes' inputs on this copy of the desk, in log order, and pushes their events to
    /// the sessions here (they are committed: nothing is held). A copy whose counters come out
    /// different from the entry's went its own way: it is reloaded from the tables.
    func replay(_ entries: [ClusterEntry]) {
        guard let cluster, !entries.isEmpty else { return }
        batchingWrites {
            for entry in entries {
                for input in entry.inputs {
                    if let at = input.instant, at > cluster.lastInstant { cluster.lastInstant = at }
                    if case .nodeDown(let node, _) = input, node == cluster.identity.id { return fenced() }
                    let ran = deskCall(input, origin: entry.node, command: nil)
                    push(ran.outcome.pushes)
                    // A user disabled on another node: their sessions here end too.
                    if case .disableUser(let name, _)? = ran.command, ran.outcome.reply?.isSuccess == true { endSessions(of: name) }
                }
                cluster.eventWatermark = entry.counters.nextEventID
                if desk.counters != entry.counters, storeOutage == nil {
                    log(.error, "this node's copy of the desk differs from the cluster's; reloading it",
                        [("node", entry.node), ("expected-event", String(entry.counters.nextEventID)),
                         ("found-event", String(desk.counters.nextEventID))])
                    reloadDesk()
                    return
                }
            }
        }
    }

    // MARK: Sessions, reloads and leaving

    /// After a reload: the events other nodes' changes made while this node was cut off are
    /// pushed to its sessions (from their mailboxes, in id order, each once), and the cluster's
    /// record of this node's sessions is made to match the sessions it really serves (a failed
    /// commit may have taken logins or disconnects with it).
    func reconcileClusterSessions() {
        guard let cluster else { return }
        let missedFrom = cluster.eventWatermark
        cluster.eventWatermark = desk.counters.nextEventID
        if missedFrom > 1 {
            batchingWrites {
                for (user, sessions) in sessionsByUser {
                    let missed = desk.replay(for: user, after: missedFrom - 1, before: nil).lines
                    for connection in sessions.values { _ = deliverReplayed(missed, to: connection) }
                }
            }
        }
        whenTurn { [self] in
            let recorded = cluster.sessionsByNode[cluster.identity.id] ?? [:]
            // Sessions whose disconnect still waits for a turn count as open: that disconnect
            // runs after this and closes them.
            var serving: [String: Int] = [:]
            for user in cluster.sessionUsers.values { serving[user, default: 0] += 1 }
            var outcome = Outcome(reply: nil)
            for user in Set(recorded.keys).union(serving.keys).sorted() {
                let serving = serving[user] ?? 0
                var known = recorded[user] ?? 0
                while known < serving {
                    outcome.absorb(perform(.sessionOpened(user: user, at: clockNow())).outcome)
                    known += 1
                }
                while known > serving {
                    outcome.absorb(perform(.sessionClosed(user: user, at: clockNow())).outcome)
                    known -= 1
                }
            }
            apply(outcome, replyTo: nil)
        }
    }

    /// The other nodes declared this one down while it was paused or cut off: its copy and its
    /// sessions are stale. It stops, and its clients go to another node.
    func fenced() {
        guard let cluster, !isStopping, !cluster.isFenced else { return }
        cluster.isFenced = true
        cluster.hasTurn = false
        cluster.waiters = []
        log(.error, "the other nodes declared this node down; stopping", [("node", cluster.identity.name)])
        let onFatal = configuration.onFatalError
        shutdown(reason: "storage-failed the other nodes declared this one down; connect to another") {
            onFatal("fenced: the other nodes declared this node down")
        }
    }

    /// At shutdown: this node's sessions close in one input (its own `nodeDown`), so the others
    /// need not wait for its heartbeat to stop. Gives up after `deadline`: the others then find
    /// it silent and do the same.
    func leaveCluster(deadline: Milliseconds = .seconds(3), then done: @escaping () -> Void) {
        guard let cluster else { return done() }
        cluster.isLeaving = true
        cluster.onLeft = done
        queue.asyncAfter(deadline: .now() + .milliseconds(Int(deadline.value))) { [weak self] in self?.finishLeaving() }
        whenTurn { [self] in
            guard storeOutage == nil else { return finishLeaving() }
            apply(perform(.nodeDown(node: cluster.identity.id, at: clockNow())).outcome, replyTo: nil)
            pipeline.whenDurable { [weak self] _ in self?.finishLeaving() }
        }
    }

    private func finishLeaving() {
        guard let cluster, let done = cluster.onLeft else { return }
        cluster.onLeft = nil
        // Gone: a turn asked for before is given back the moment it comes.
        cluster.isFenced = true
        cluster.hasTurn = false
        endTurn()
        done()
    }
}

extension Outcome {
    /// Takes `other`'s changes and pushes after its own (several desk calls committed as one).
    mutating func absorb(_ other: Outcome) {
        changes += other.changes
        pushes += other.pushes
    }
}
