import Dispatch
import Foundation
import OrderDeskCore
import OrderDeskWire

/// Turning a connection's lines into commands: framing errors, session commands (`SessionCommand`:
/// LOGIN, QUIT, PING, HELP, RESUME, UNLOCK, USER ADD and PASSWORD, PASSWORD, AUDIT) answered
/// here, desk commands run on the desk.
extension DeskServer {
    /// Runs the lines waiting in `connection`'s inbox, in order, until it is empty, the session
    /// becomes busy (a login, a disk read), or its turn has used `turnBudget`; then the rest waits
    /// for a later turn, queued behind what other sessions have waiting. Once the peer has ended
    /// its input and every line before the end is answered, the connection closes.
    func serve(_ connection: Connection) {
        dispatchPrecondition(condition: .onQueue(queue))
        guard !connection.isClosed, !connection.isBusy, !connection.isYielding, !isReloading else { return }
        // Replies that need no commit (look-ups, PING) leave in one send at the end of the turn.
        batchingWrites { serveTurn(connection) }
    }

    private func serveTurn(_ connection: Connection) {
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(configuration.turnBudget.value) * 1_000_000
        while let frame = connection.takeInput() {
            received(frame, on: connection)
            if connection.isClosed || connection.isBusy || isReloading { return }
            if connection.hasWaitingInput, DispatchTime.now().uptimeNanoseconds >= deadline {
                connection.isYielding = true
                queue.async { [weak self, weak connection] in
                    guard let self, let connection else { return }
                    connection.isYielding = false
                    self.serve(connection)
                }
                return
            }
        }
        if connection.isInputEnded {
            // Every line received before the peer's end is answered (replies wait for their
            // commits), then the connection closes.
            pipeline.whenDurable { _ in connection.closeAfterFlush(reason: "peer closed") }
        }
    }

    func received(_ frame: LineFramer.Frame, on connection: Connection) {
        dispatchPrecondition(condition: .onQueue(queue))
        guard !connection.isClosed else { return }
        switch frame {
        case .tooLong: send(.failure(.lineTooLong(limit: configuration.desk.limits.maximumLineLength)), to: connection)
        case .invalidUTF8: send(.failure(.invalidUTF8), to: connection)
        case .line(let text):
            // An empty line (a stray Enter in nc) is ignored rather than answered.
            if text.utf8.allSatisfy({ $0 == UInt8(ascii: " ") }) { return }
            if isStopping {
                send(.failure(.shuttingDown), to: connection)
                return
            }
            // A line that waited for a cluster node's turn or catch-up was counted when it came.
            if !connection.isCaughtUp {
                stats.commands += 1
                stats.commandRate.record(atSecond: clockNow().milliseconds / 1000)
            }
            switch parser.parse(text) {
            case .failure(let error): send(.failure(error), to: connection)
            case .success(let parsed) where storeOutage != nil && !Self.isAnsweredWithoutStore(parsed):
                send(.failure(.storageFailed), to: connection)
            case .success(let parsed) where !mayChangeDesk && Self.changesDesk(parsed) && connection.user == nil:
                // A stranger's change is refused without a turn, as it would be with one.
                send(.failure(.notLoggedIn), to: connection)
            case .success(let parsed) where !mayChangeDesk && Self.changesDesk(parsed):
                // A cluster node without the write turn: the line waits for it.
                awaitTurn(with: frame, on: connection)
            case .success(let parsed) where needsCatchUp && !connection.isCaughtUp && Self.readsDesk(parsed, isLoggedIn: connection.user != nil):
                // A look-up on a cluster node: first what other nodes committed before it came.
                awaitCatchUp(with: frame, on: connection)
            case .success(.session(let command)): answer(command, on: connection)
            case .success(.desk(let command)): run(command, line: text, on: connection)
            }
        }
    }

    /// True when the line changes the desk as it is answered (on a cluster node it needs the
    /// write turn). Logins and password changes change it later, after their hashing, and wait
    /// for the turn then.
    static func changesDesk(_ command: ParsedCommand) -> Bool {
        switch command {
        case .desk(let command): !command.isPureRead
        case .session(.unlock): true
        case .session: false
        }
    }

    /// True when the line reads the desk's state (a look-up, RESUME, LOGIN's check of the user:
    /// a user just added on another node, or by `user add`, may log in here at once). A
    /// stranger's look-up is refused whatever the desk holds: it reads nothing.
    static func readsDesk(_ command: ParsedCommand, isLoggedIn: Bool) -> Bool {
        switch command {
        case .session(.login): true
        case .desk(let command): isLoggedIn && command.isPureRead
        case .session(.resume): isLoggedIn
        case .session: false
        }
    }

    /// PING, HELP and QUIT work while the store is out of reach (`storeOutage`).
    static func isAnsweredWithoutStore(_ command: ParsedCommand) -> Bool {
        switch command {
        case .session(.ping), .session(.help), .session(.logout): true
        default: false
        }
    }

    /// Answers a command the desk never sees. Those that need a login (all but LOGIN, QUIT,
    /// PING and HELP) are checked here, once, against their row's roles.
    private func answer(_ command: SessionCommand, on connection: Connection) {
        switch command {
        case .login(let user, let password): logIn(user, password: password, on: connection)
        case .logout:
            send(.answer(.bye), to: connection)
            pipeline.whenDurable { _ in connection.closeAfterFlush(reason: "quit") }
        case .ping: send(.answer(.pong), to: connection)
        case .help(let topic): send(help(topic), to: connection)
        case .resume, .unlock, .addUser, .resetPassword, .changePassword, .audit:
            guard let user = connection.user else { return send(.failure(.notLoggedIn), to: connection) }
            if let refusal = desk.refusal(of: command, by: user) { return send(.failure(refusal), to: connection) }
            answer(command, by: user, on: connection)
        }
    }

    /// A session command of a logged-in `user` whose role its row allows.
    private func answer(_ command: SessionCommand, by user: String, on connection: Connection) {
        switch command {
        case .login, .logout, .ping, .help: break  // need no login: answered by `answer(_:on:)`
        case .resume(let lastSeen): resume(user, after: lastSeen, on: connection)
        case .unlock(let target):
            let cleared = throttle.unlock(target, now: clockNow())
            log(.info, "admin action", [("by", user), ("action", "unlock"), ("target", target), ("cleared", cleared.joined(separator: ","))])
            let detail = "\(target) (cleared \(cleared.isEmpty ? "nothing" : cleared.joined(separator: ",")))"
            var outcome = perform(.audit(action: "unlock", detail: detail, by: user, at: clockNow())).outcome
            outcome.reply = .answer(.unlocked(target: target, cleared: cleared))
            apply(outcome, replyTo: connection)
        case .addUser(let name, let role, let password):
            guard desk.users[name] == nil else {
                send(.failure(.userExists(name)), to: connection)
                return
            }
            // Hash off the desk queue, like a login; the session's next lines wait for the answer.
            hashOffQueue(for: connection, { Result { try Passwords.credential(for: password) } }) { server, credential in
                server.log(.info, "admin action", [("by", user), ("action", "user-add"), ("user", name), ("role", role.rawValue)])
                let added = User(name: name, role: role, credential: credential)
                server.apply(server.perform(.addUser(added, by: user, at: server.clockNow())).outcome, replyTo: connection)
            }
        case .resetPassword(let name, let password): resetPassword(of: name, to: password, by: user, on: connection)
        case .changePassword(let old, let new): changePassword(from: old, to: new, on: connection)
        case .audit(let query): showAudit(query, on: connection)
        }
    }

    /// Reads the desk where it lies. A non-mutating `Desk` method called on the stored property
    /// copies the whole struct first (a retain and a release of every table it holds): 1.6% of
    /// the server's CPU in the claim cycle, for the three look-ups below.
    private func readingDesk<T>(_ body: (inout Desk) -> T) -> T { body(&desk) }

    private func run(_ given: Command, line: String, on connection: Connection) {
        guard let user = connection.user else {
            send(.failure(.notLoggedIn), to: connection)
            return
        }
        // `ORDER 10089` finds SO-10089 before anything looks the number up (for a logged-in
        // user only: a stranger learns nothing about which orders exist).
        let command: Command
        switch readingDesk({ $0.resolvingNumber(in: given) }) {
        case .success(let resolved): command = resolved
        case .failure(let error): return send(.failure(error), to: connection)
        }
        if let number = readingDesk({ $0.needsThread(command) }) {
            showArchived(number, command, as: user, on: connection)
            return
        }
        if let started = readingDesk({ $0.startScan(command, as: user) }) {
            switch started {
            case .success(let scan): continueScan(scan, on: connection)
            case .failure(let error): send(.failure(error), to: connection)
            }
            return
        }
        // A look-up changes nothing (on a cluster node it runs on this node's copy, turn or not).
        let outcome = command.isPureRead ? desk.execute(command, as: user, now: lookupInstant())
                                         : perform(.command(user: user, line: line, at: clockNow()), command: command).outcome
        apply(outcome, replyTo: connection)
        if case .disableUser(let name, _) = command, outcome.reply?.isSuccess == true { endSessions(of: name) }
    }

    /// LOGIN: the address's failures decide how long the attempt waits before the password is
    /// even checked (see `LoginThrottle`); the check runs in the bounded password pool.
    private func logIn(_ name: String, password: String, on connection: Connection) {
        guard connection.user == nil else {
            send(.failure(.alreadyLoggedIn), to: connection)
            return
        }
        let key = LoginThrottle.key(for: connection.peerAddress)
        let now = clockNow()
        guard throttle.mayStart(from: key, now: now) else {
            let wait = max(1, throttle.delay(for: key, now: now).value / 1000)
            send(.failure(.loginThrottled(retryAfterSeconds: wait)), to: connection)
            return
        }
        connection.isBusy = true
        throttle.started(from: key)
        let delay = throttle.delay(for: key, now: now)
        if delay.value == 0 {
            checkPassword(name, password, from: key, on: connection)
        } else {
            queue.asyncAfter(deadline: .now() + .milliseconds(Int(delay.value))) { [weak self] in
                guard let self else { return }
                guard !connection.isClosed else {
                    self.throttle.finished(from: key)
                    return
                }
                self.checkPassword(name, password, from: key, on: connection)
            }
        }
    }

    private func checkPassword(_ name: String, _ password: String, from key: String, on connection: Connection) {
        // An unknown user costs the same hash as a known one, so timing does not tell them apart.
        let known = desk.users[name]?.credential
        let credential = known ?? Credential(salt: [0], hash: [0], iterations: dummyIterations)
        let accepted = passwords.submit(from: key, { Passwords.verify(password, against: credential) && known != nil },
                                        completion: { [weak self] (matches: Bool) in
            guard let self else { return }
            self.throttle.finished(from: key)
            self.finishLogIn(name, matches: matches, from: key, on: connection)
        })
        if !accepted {
            throttle.finished(from: key)
            connection.isBusy = false
            send(.failure(.busy("too many logins are being checked")), to: connection)
            serve(connection)
        }
    }

    private var dummyIterations: Int { desk.users.values.first?.credential.iterations ?? Passwords.defaultIterations }

    private func finishLogIn(_ name: String, matches: Bool, from key: String, on connection: Connection) {
        connection.isBusy = false
        guard !connection.isClosed else { return }
        let now = clockNow()
        if matches, let user = desk.users[name], user.isDisabled {
            // The right password for a disabled user: no login, and not a failure to throttle.
            log(.info, "login refused", [("user", name), ("reason", "disabled"), ("peer", connection.peerAddress)])
            send(.failure(.userDisabled(name)), to: connection)
        } else if matches, desk.users[name] != nil {
            throttle.recordSuccess(from: key, now: now)
            // The session opens in a write turn (at once, but on a cluster node without one); its
            // lines wait meanwhile.
            connection.isBusy = true
            whenTurn { [weak self] in
                guard let self else { return }
                connection.isBusy = false
                if !connection.isClosed { self.openSession(of: name, on: connection) }
                self.serve(connection)
            }
            return
        } else {
            throttle.recordFailure(from: key, name: name, now: now)
            log(.info, "login failed", [("user", name), ("session", String(connection.id)), ("peer", connection.peerAddress),
                                        ("failures", String(throttle.failures(from: key, now: now)))])
            send(.failure(.loginFailed), to: connection)
        }
        serve(connection)
    }

    /// A login that succeeded: the session is the user's from here.
    private func openSession(of name: String, on connection: Connection) {
        // Disabled while the turn was awaited: refused as above.
        guard let user = desk.users[name], !user.isDisabled else { return send(.failure(.userDisabled(name)), to: connection) }
        let now = clockNow()
        apply(perform(.login(user: name, at: now)).outcome, replyTo: nil)
        forgetStranger(connection)
        connection.user = name
        sessionsByUser[name, default: [:]][connection.id] = connection
        cluster?.sessionUsers[connection.id] = name
        log(.info, "login", [("user", name), ("role", user.role.rawValue), ("session", String(connection.id)), ("peer", connection.peerAddress)])
        let opened = perform(.sessionOpened(user: name, at: now))
        var outcome = opened.outcome
        outcome.reply = desk.loginAnswer(for: name, now: now)
        apply(outcome, replyTo: connection)
        // Direct messages that waited for this user arrive right after the login reply.
        for line in opened.backlog {
            if let id = ServerLine.eventID(line) { connection.replayedEventIDs.insert(id) }
            deliver(line + "\n", to: connection)
        }
    }

    /// Runs one slice of a look-up that reads every order; while more remains, the session is
    /// busy and the next slice waits behind every other session's work.
    private func continueScan(_ scan: OrderScan, on connection: Connection) {
        guard !connection.isClosed else { return }
        var scan = scan
        if var reply = desk.continueScan(&scan, now: lookupInstant()) {
            if case .answer(.metrics(var report)) = reply {
                report.operations = operations()
                reply = .answer(.metrics(report))
            }
            send(reply, to: connection)
            if connection.isBusy {
                connection.isBusy = false
                serve(connection)
            }
            return
        }
        connection.isBusy = true
        let next = scan
        queue.async { [weak self] in self?.continueScan(next, on: connection) }
    }

    /// ORDER or HISTORY of an order whose thread stays on disk: once every change so far is
    /// committed, the store queue reads the thread; the session's later lines wait meanwhile.
    private func showArchived(_ number: String, _ command: Command, as user: String, on connection: Connection) {
        // Logged with the number found now: a bare number may match another order by the time
        // the thread is read and the turn comes.
        let line = "ORDER \(number)"
        connection.isBusy = true
        let store = self.store
        let deskQueue = queue
        pipeline.whenDurable { [weak self] _ in
            self?.storeQueue.async { [weak self] in
                let thread = Result { try store.thread(of: number) }
                deskQueue.async { [weak self] in
                    guard let self else { return }
                    switch thread {
                    case .success(let thread) where !command.isPureRead:
                        // ORDER marks the order's events read: a change, run as an input (every
                        // node marks them alike), then answered with the thread.
                        self.whenTurn { [weak self] in
                            guard let self else { return }
                            connection.isBusy = false
                            var outcome = self.perform(.command(user: user, line: line, at: self.clockNow()), command: command).outcome
                            let answer = self.desk.answer(command, as: user, thread: thread, now: self.lookupInstant())
                            outcome.reply = answer.reply
                            outcome.absorb(answer)
                            self.apply(outcome, replyTo: connection)
                            self.serve(connection)
                        }
                        return
                    case .success(let thread):
                        self.apply(self.desk.answer(command, as: user, thread: thread, now: self.lookupInstant()), replyTo: connection)
                    case .failure(let error):
                        self.log(.error, "reading a thread failed", [("order", number), ("error", "\(error)")])
                        self.send(.failure(.storageFailed), to: connection)
                    }
                    connection.isBusy = false
                    self.serve(connection)
                }
            }
        }
    }

    /// Replays the events the user missed after `lastSeen` (up to the session's live stream), then answers.
    private func resume(_ user: String, after lastSeen: UInt64, on connection: Connection) {
        let replay = desk.replay(for: user, after: lastSeen, before: connection.firstLiveEventID)
        let count = deliverReplayed(replay.lines, to: connection)
        send(.answer(.resumed(count: count, isComplete: replay.isComplete)), to: connection)
    }

    /// Sends `connection` the mailbox events in `lines` it was not sent from its mailbox before
    /// (RESUME, and a cluster node's catching up after a reload); returns how many went.
    func deliverReplayed(_ lines: [String], to connection: Connection) -> Int {
        var count = 0
        for line in lines {
            guard let id = ServerLine.eventID(line), connection.replayedEventIDs.insert(id).inserted else { continue }
            deliver(line + "\n", to: connection)
            count += 1
        }
        return count
    }

    /// The server's own counters, added to METRICS.
    func operations() -> ServerOperations {
        let rate = stats.commandRate.rate(atSecond: clockNow().milliseconds / 1000)
        return ServerOperations(
            connections: connections.count, sessions: sessionsByUser.values.reduce(0) { $0 + $1.count },
            usersOnline: sessionsByUser.count, commands: stats.commands, commandsPerSecondTenths: Int((rate * 10).rounded()),
            pushes: stats.pushesSent, slowDropped: stats.slowSessionsDropped, refused: stats.sessionsRefused,
            commits: stats.commits, commitFailures: stats.commitFailures,
            commitP50Microseconds: stats.commitLatencies.percentile(0.5), commitP99Microseconds: stats.commitLatencies.percentile(0.99))
    }

    private func help(_ topic: String?) -> Reply {
        guard let topic else { return .answer(.commands) }
        guard let spec = CommandSpec.named(topic) else { return .failure(.unknownCommand(topic, suggestion: CommandParser.suggestion(for: topic))) }
        return .answer(.commandHelp(name: spec.name))
    }
}
