import Dispatch
import OrderDeskCore

/// Users over the wire, the parts the desk cannot do alone: password hashes (off the desk queue,
/// in the bounded password pool, as LOGIN's) and ending a disabled user's sessions.
extension DeskServer {
    /// USER PASSWORD (by `admin`, whose role the caller checked): hashes the new password, then
    /// stores it; audited by the desk.
    func resetPassword(of name: String, to password: String, by admin: String, on connection: Connection) {
        dispatchPrecondition(condition: .onQueue(queue))
        guard desk.users[name] != nil else { return send(.failure(.userNotFound(name)), to: connection) }
        hashOffQueue(for: connection, { Result { try Passwords.credential(for: password) } }) { server, credential in
            server.log(.info, "admin action", [("by", admin), ("action", "user-password"), ("user", name)])
            server.apply(server.perform(.setCredential(credential, of: name, by: admin, at: server.clockNow())).outcome, replyTo: connection)
        }
    }

    /// PASSWORD (anyone logged in): checks the old password and hashes the new one in one job;
    /// a wrong old password counts as a failed login from the address (so guessing through a
    /// stolen session is throttled like guessing at LOGIN) and changes nothing.
    func changePassword(from old: String, to new: String, on connection: Connection) {
        dispatchPrecondition(condition: .onQueue(queue))
        guard let name = connection.user, let current = desk.users[name]?.credential else {
            return send(.failure(.notLoggedIn), to: connection)
        }
        let key = LoginThrottle.key(for: connection.peerAddress)
        guard throttle.delay(for: key, now: clockNow()).value == 0 else {
            let wait = max(1, throttle.delay(for: key, now: clockNow()).value / 1000)
            return send(.failure(.loginThrottled(retryAfterSeconds: wait)), to: connection)
        }
        hashOffQueue(for: connection, { () -> Result<Credential?, Error> in
            guard Passwords.verify(old, against: current) else { return .success(nil) }
            return Result { try Passwords.credential(for: new) }
        }) { server, credential in
            guard let credential else {
                server.throttle.recordFailure(from: key, name: name, now: server.clockNow())
                server.send(.failure(.oldPasswordWrong), to: connection)
                return
            }
            server.log(.info, "password changed", [("user", name), ("session", String(connection.id))])
            server.apply(server.perform(.setCredential(credential, of: name, by: name, at: server.clockNow())).outcome, replyTo: connection)
        }
    }

    /// Runs `work` in the password pool; the session's next lines wait for `done`, which runs on
    /// the desk queue. A full pool or a hashing failure is `busy`, and nothing changes.
    func hashOffQueue<Value: Sendable>(for connection: Connection, _ work: @escaping @Sendable () -> Result<Value, Error>,
                                               done: @escaping (DeskServer, Value) -> Void) {
        let accepted = passwords.submit(from: LoginThrottle.key(for: connection.peerAddress), work, completion: { [weak self] result in
            guard let self else { return }
            switch result {
            case .success(let value):
                // `done` changes the desk: in a write turn (on a cluster node, once it comes).
                self.whenTurn { [weak self] in
                    guard let self else { return }
                    connection.isBusy = false
                    if !connection.isClosed { done(self, value) }
                    self.serve(connection)
                }
                return
            case .failure(let error):
                connection.isBusy = false
                self.log(.error, "password hashing failed", [("error", "\(error)")])
                self.send(.failure(.busy("the password could not be hashed")), to: connection)
            }
            self.serve(connection)
        })
        if accepted {
            connection.isBusy = true
        } else {
            send(.failure(.busy("too many password checks are waiting")), to: connection)
        }
    }

    /// After USER DISABLE: every session of the user gets `BYE disabled ...` once the change is
    /// durable, and is closed (their claims were handed back already, so no grace window starts).
    func endSessions(of name: String) {
        dispatchPrecondition(condition: .onQueue(queue))
        let sessions = Array((sessionsByUser[name] ?? [:]).values)
        guard !sessions.isEmpty else { return }
        log(.info, "sessions ended", [("user", name), ("reason", "disabled"), ("sessions", String(sessions.count))])
        pipeline.whenDurable { _ in
            for connection in sessions where !connection.isClosed {
                connection.write("BYE disabled your account was disabled by an administrator\n")
                connection.closeAfterFlush(reason: "disabled")
            }
        }
    }
}
