import Dispatch
import Foundation
import OrderDeskCore
import OrderDeskWire

/// Turning a connection's lines into commands: framing errors, session commands (LOGIN, QUIT,
/// PING, HELP) handled here, everything else run on the desk.
extension DeskServer {
    func received(_ frame: LineFramer.Frame, on connection: Connection) {
        dispatchPrecondition(condition: .onQueue(queue))
        guard !connection.isClosed else { return }
        if connection.isBusy {
            connection.pendingFrames.append(frame)
            if connection.pendingFrames.count > 10_000 {
                connection.close(reason: "flooded while logging in")
            }
            return
        }
        switch frame {
        case .tooLong: send(.failure(.lineTooLong(limit: configuration.desk.limits.maximumLineLength)), to: connection)
        case .invalidUTF8: send(.failure(.invalidUTF8), to: connection)
        case .line(let text):
            // An empty line (a stray Enter in nc) is ignored rather than answered.
            if text.allSatisfy({ $0 == " " }) { return }
            if isStopping {
                send(.failure(.shuttingDown), to: connection)
                return
            }
            stats.commands += 1
            stats.commandRate.record(atSecond: clockNow().milliseconds / 1000)
            switch parser.parse(text) {
            case .failure(let error): send(.failure(error), to: connection)
            case .success(let command): run(command, on: connection)
            }
        }
    }

    private func run(_ command: Command, on connection: Connection) {
        switch command {
        case .login(let user, let password): logIn(user, password: password, on: connection)
        case .logout:
            send(.ok("bye"), to: connection)
            pipeline.whenDurable { _ in connection.closeAfterFlush(reason: "quit") }
        case .ping: send(.ok("PONG"), to: connection)
        case .help(let topic): send(help(topic), to: connection)
        case .resume(let lastSeen):
            guard let user = connection.user else {
                send(.failure(.notLoggedIn), to: connection)
                return
            }
            resume(user, after: lastSeen, on: connection)
        case .unlock(let name):
            guard let user = connection.user else {
                send(.failure(.notLoggedIn), to: connection)
                return
            }
            guard desk.users[user]?.role == .admin else {
                send(.failure(.denied(command: "UNLOCK", role: desk.users[user]?.role ?? .service)), to: connection)
                return
            }
            let wasLocked = throttle.unlock(name)
            log(.info, "admin action", [("by", user), ("action", "unlock"), ("user", name)])
            var outcome = desk.audit("unlock", "\(name) (was \(wasLocked ? "locked" : "not locked"))", by: user, now: clockNow())
            outcome.reply = .ok(Rendering.join([("user", name), ("was-locked", wasLocked ? "yes" : "no")]))
            apply(outcome, replyTo: connection)
        case .addUser(let name, let role, let password):
            guard let admin = connection.user else {
                send(.failure(.notLoggedIn), to: connection)
                return
            }
            guard desk.users[admin]?.role == .admin else {
                send(.failure(.denied(command: "USER", role: desk.users[admin]?.role ?? .service)), to: connection)
                return
            }
            guard desk.users[name] == nil else {
                send(.failure(.userExists(name)), to: connection)
                return
            }
            // Hash off the desk queue, like a login; the session's next lines wait for the answer.
            connection.isBusy = true
            passwordQueue.async { [weak self] in
                let credential = Passwords.credential(for: password)
                self?.queue.async { [weak self] in
                    guard let self else { return }
                    connection.isBusy = false
                    self.log(.info, "admin action", [("by", admin), ("action", "user-add"), ("user", name), ("role", role.rawValue)])
                    self.apply(self.desk.addUser(User(name: name, role: role, credential: credential), by: admin, now: self.clockNow()), replyTo: connection)
                    self.drainPendingFrames(of: connection)
                }
            }
        case .metrics:
            guard let user = connection.user else {
                send(.failure(.notLoggedIn), to: connection)
                return
            }
            var outcome = desk.execute(command, as: user, now: clockNow())
            if case .ok(let summary, let data) = outcome.reply { outcome.reply = .ok(summary, data: data + [operationsLine()]) }
            apply(outcome, replyTo: connection)
        default:
            guard let user = connection.user else {
                send(.failure(.notLoggedIn), to: connection)
                return
            }
            if let number = desk.needsThread(command) {
                showArchived(number, command, as: user, on: connection)
                return
            }
            if case .audit(let query) = command {
                showAudit(query, command: command, as: user, on: connection)
                return
            }
            apply(desk.execute(command, as: user, now: clockNow()), replyTo: connection)
        }
    }

    private func logIn(_ name: String, password: String, on connection: Connection) {
        guard connection.user == nil else {
            send(.failure(.alreadyLoggedIn), to: connection)
            return
        }
        connection.isBusy = true
        if throttle.isLocked(name) {
            // A locked account is refused without checking the password, after the longest delay.
            throttle.recordFailure(name)
            log(.warning, "login refused: account locked", [("user", name), ("session", String(connection.id))])
            answerLogIn(name, matches: false, on: connection)
            return
        }
        // An unknown user costs the same hash as a known one, so timing does not tell them apart.
        let known = desk.users[name]?.credential
        let credential = known ?? Credential(salt: [0], hash: [0], iterations: dummyIterations)
        passwordQueue.async { [self] in
            let matches = Passwords.verify(password, against: credential) && known != nil
            queue.async { [self] in self.answerLogIn(name, matches: matches, on: connection) }
        }
    }

    private var dummyIterations: Int { desk.users.values.first?.credential.iterations ?? Passwords.defaultIterations }

    /// Answers a login: at once on success, after the throttle's delay on failure.
    private func answerLogIn(_ name: String, matches: Bool, on connection: Connection) {
        if matches {
            throttle.recordSuccess(name)
            finishLogIn(name, matches: true, on: connection)
            return
        }
        if !throttle.isLocked(name) { throttle.recordFailure(name) }
        let delay = throttle.isLocked(name) ? LoginThrottle.maximumDelay : throttle.delay(for: name)
        log(.info, "login failed", [("user", name), ("session", String(connection.id)), ("delay-ms", String(delay.value)),
                                    ("locked", throttle.isLocked(name) ? "yes" : "no")])
        if delay.value == 0 {
            finishLogIn(name, matches: false, on: connection)
        } else {
            queue.asyncAfter(deadline: .now() + .milliseconds(Int(delay.value))) { [weak self] in
                self?.finishLogIn(name, matches: false, on: connection)
            }
        }
    }

    private func finishLogIn(_ name: String, matches: Bool, on connection: Connection) {
        connection.isBusy = false
        guard !connection.isClosed else { return }
        if matches, let user = desk.users[name] {
            connection.user = name
            sessionsByUser[name, default: [:]][connection.id] = connection
            log(.info, "login", [("user", name), ("role", user.role.rawValue), ("session", String(connection.id))])
            let opened = desk.sessionOpened(user: name, now: clockNow())
            var outcome = opened.outcome
            if case .ok(let summary, let data)? = desk.execute(.whoami, as: name, now: clockNow()).reply {
                outcome.reply = .ok(summary + " " + Rendering.join([("unread", String(desk.unreadCount(of: name)))]), data: data)
            }
            apply(outcome, replyTo: connection)
            // Direct messages that waited for this user arrive right after the login reply.
            for line in opened.backlog {
                if let id = ServerLine.eventID(line) { connection.replayedEventIDs.insert(id) }
                deliver(line + "\n", to: connection)
            }
        } else {
            send(.failure(.loginFailed), to: connection)
        }
        drainPendingFrames(of: connection)
    }

    /// ORDER or HISTORY of an order whose thread stays on disk: once every change so far is
    /// committed, the store queue reads the thread; the session's later lines wait meanwhile.
    private func showArchived(_ number: String, _ command: Command, as user: String, on connection: Connection) {
        connection.isBusy = true
        let store = self.store
        let deskQueue = queue
        pipeline.whenDurable { [weak self] _ in
            self?.storeQueue.async { [weak self] in
                let thread = Result { try store.thread(of: number) }
                deskQueue.async { [weak self] in
                    guard let self else { return }
                    connection.isBusy = false
                    switch thread {
                    case .success(let thread): self.send(self.desk.answer(command, as: user, thread: thread, now: self.clockNow()), to: connection)
                    case .failure(let error):
                        self.log(.error, "reading a thread failed", [("order", number), ("error", "\(error)")])
                        self.send(.failure(.storageFailed), to: connection)
                    }
                    self.drainPendingFrames(of: connection)
                }
            }
        }
    }

    /// Handles the lines that arrived while the session was busy (a login or a disk read).
    func drainPendingFrames(of connection: Connection) {
        let waiting = connection.pendingFrames
        connection.pendingFrames = []
        for (offset, frame) in waiting.enumerated() {
            received(frame, on: connection)
            if connection.isBusy {
                // Busy again (another LOGIN, or a disk read): keep the rest for after it.
                connection.pendingFrames.append(contentsOf: waiting[(offset + 1)...])
                return
            }
        }
    }

    /// Replays the events the user missed after `lastSeen` (up to the session's live stream), then answers.
    private func resume(_ user: String, after lastSeen: UInt64, on connection: Connection) {
        let replay = desk.replay(for: user, after: lastSeen, before: connection.firstLiveEventID)
        var count = 0
        for line in replay.lines {
            guard let id = ServerLine.eventID(line), !connection.replayedEventIDs.contains(id) else { continue }
            connection.replayedEventIDs.insert(id)
            deliver(line + "\n", to: connection)
            count += 1
        }
        send(.ok(Rendering.join([("resumed", String(count)), ("complete", replay.isComplete ? "yes" : "no")])), to: connection)
    }

    /// The server's own counters, appended to METRICS.
    func operationsLine() -> String {
        let now = clockNow()
        let second = now.milliseconds / 1000
        let rate = stats.commandRate.rate(atSecond: second)
        func milliseconds(_ microseconds: Int64?) -> String {
            guard let microseconds else { return "0" }
            return String(format: "%.2f", Double(microseconds) / 1000)
        }
        return "ops " + Rendering.join([
            ("connections", String(connections.count)), ("sessions", String(sessionsByUser.values.reduce(0) { $0 + $1.count })),
            ("users-online", String(sessionsByUser.count)), ("commands", String(stats.commands)),
            ("commands-per-second", String(format: "%.1f", rate)), ("pushes", String(stats.pushesSent)),
            ("slow-dropped", String(stats.slowSessionsDropped)), ("refused", String(stats.sessionsRefused)),
            ("commits", String(stats.commits)), ("commit-failures", String(stats.commitFailures)),
            ("commit-p50-ms", milliseconds(stats.commitLatencies.percentile(0.5))),
            ("commit-p99-ms", milliseconds(stats.commitLatencies.percentile(0.99))),
        ])
    }

    private func help(_ topic: String?) -> Reply {
        if let topic {
            guard let spec = CommandSpec.named(topic) else { return .failure(.unknownCommand(topic, suggestion: CommandParser.suggestion(for: topic))) }
            let roles = spec.roles.map { $0.map(\.rawValue).sorted().joined(separator: ",") } ?? "anyone"
            return .ok(spec.name, data: [
                Rendering.join([("usage", spec.usage)]), Rendering.join([("summary", spec.summary)]),
                Rendering.join([("roles", roles)]), Rendering.join([("example", spec.example)]),
            ])
        }
        return .ok(Rendering.join([("commands", String(CommandSpec.all.count))]),
                   data: CommandSpec.all.map { Rendering.join([("command", $0.name), ("usage", $0.usage), ("summary", $0.summary)]) })
    }
}
