import Dispatch
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
                log(.warning, "session flooded while logging in", [("session", String(connection.id))])
                connection.close()
            }
            return
        }
        switch frame {
        case .tooLong: send(.failure(.lineTooLong(limit: configuration.desk.limits.maximumLineLength)), to: connection)
        case .invalidUTF8: send(.failure(.invalidUTF8), to: connection)
        case .line(let text):
            // An empty line (a stray Enter in nc) is ignored rather than answered.
            if text.allSatisfy({ $0 == " " }) { return }
            stats.commands += 1
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
            pipeline.whenDurable { _ in connection.closeAfterFlush() }
        case .ping: send(.ok("PONG"), to: connection)
        case .help(let topic): send(help(topic), to: connection)
        default:
            guard let user = connection.user else {
                send(.failure(.notLoggedIn), to: connection)
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
        // An unknown user costs the same hash as a known one, so timing does not tell them apart.
        let known = desk.users[name]?.credential
        let credential = known ?? Credential(salt: [0], hash: [0], iterations: dummyIterations)
        connection.isBusy = true
        passwordQueue.async { [self] in
            let matches = Passwords.verify(password, against: credential) && known != nil
            queue.async { [self] in self.finishLogIn(name, matches: matches, on: connection) }
        }
    }

    private var dummyIterations: Int { desk.users.values.first?.credential.iterations ?? Passwords.defaultIterations }

    private func finishLogIn(_ name: String, matches: Bool, on connection: Connection) {
        connection.isBusy = false
        guard !connection.isClosed else { return }
        if matches, let user = desk.users[name] {
            connection.user = name
            sessionsByUser[name, default: [:]][connection.id] = connection
            log(.info, "login", [("user", name), ("role", user.role.rawValue), ("session", String(connection.id))])
            let outcome = desk.sessionOpened(user: name, now: clockNow())
            let claims = desk.execute(.whoami, as: name, now: clockNow())
            var reply = outcome
            reply.reply = claims.reply
            apply(reply, replyTo: connection)
        } else {
            log(.info, "login failed", [("user", name), ("session", String(connection.id))])
            send(.failure(.loginFailed), to: connection)
        }
        let waiting = connection.pendingFrames
        connection.pendingFrames = []
        for (offset, frame) in waiting.enumerated() {
            received(frame, on: connection)
            if connection.isBusy {
                // Another LOGIN is in flight: keep the rest for after it.
                connection.pendingFrames.append(contentsOf: waiting[(offset + 1)...])
                return
            }
        }
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
