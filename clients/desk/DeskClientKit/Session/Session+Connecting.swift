import Dispatch
import OrderDeskWire

/// Connecting: opening a connection to one of the account's servers and sending HELP and LOGIN
/// on it, the next server or a `Backoff` wait after a failure, and a dropped connection (its
/// unanswered commands answered `ERR connection-lost`, then a reconnect or `Notice.closed`).
/// Runs on `queue`, like the rest of the session.
extension Session {
    func connect() {
        state = .connecting
        byeReason = nil
        let server = servers[serverIndex]
        Connection.open(host: server.host, port: server.port, tls: account.isTLS ? .init(caFile: account.caFile) : nil, queue: queue) { [self] result in
            switch result {
            case .success(let connection): self.opened(connection)
            case .failure(let failure) where failure.isCertificateRefused:
                guard state == .connecting else { return }
                state = .closed
                onNotice(.certificateRefused(failure.description))
            case .failure(let failure): self.failedToConnect(failure.description)
            }
        }
    }

    private func opened(_ connection: Connection) {
        dispatchPrecondition(condition: .onQueue(queue))
        guard state == .connecting else {
            connection.close(reason: "not needed")
            return
        }
        self.connection = connection
        connection.onLine = { [unowned self] line in self.received(line) }
        connection.onClose = { [unowned self] reason in self.lost(reason) }
        assembler.expect("HELP", tag: .help)
        write("HELP", on: connection)
        if let user = account.user {
            state = .loggingIn
            // The reply is tagged with the user only: the password never leaves this line.
            assembler.expect("LOGIN " + user, tag: .login)
            write("LOGIN " + Quoting.word(user) + " " + Quoting.word(account.password ?? ""), on: connection)
        } else {
            // No user: ready at once; HELP's reply still comes before any command's.
            let isReconnect = hasLoggedIn
            hasLoggedIn = true
            backoff.reset()
            failedInRound = 0
            state = .ready
            onNotice(.loggedIn(Greeting(user: nil, role: nil, claims: nil, unread: nil, claimLines: [], isReconnect: isReconnect)))
        }
    }

    private func failedToConnect(_ reason: String) {
        dispatchPrecondition(condition: .onQueue(queue))
        guard state == .connecting else { return }
        let failed = servers[serverIndex]
        failedInRound += 1
        let isRoundOver = failedInRound >= servers.count
        if hasLoggedIn && reconnects {
            // The next server at once; after a whole round has failed, wait before the next.
            let delay = isRoundOver ? backoff.next() : 0
            if isRoundOver { failedInRound = 0 }
            moveToNextServer()
            onNotice(.retrying(reason: servers.count > 1 ? "\(failed): \(reason)" : reason, delay: delay))
            scheduleReconnect(after: delay)
        } else if !isRoundOver {
            // The first connection: each server once before giving up.
            moveToNextServer()
            connect()
        } else {
            state = .closed
            onNotice(.cannotConnect(servers.count > 1 ? "no server answered; the last, \(failed): \(reason)" : reason))
        }
    }

    private func moveToNextServer() {
        serverIndex = (serverIndex + 1) % servers.count
    }

    private func scheduleReconnect(after delay: Double) {
        state = .waitingToReconnect
        queue.asyncAfter(deadline: .now() + delay) { [self] in
            guard state == .waitingToReconnect else { return }
            connect()
        }
    }

    private func lost(_ reason: String) {
        dispatchPrecondition(condition: .onQueue(queue))
        connection = nil
        keepAliveTimer?.cancel()
        keepAliveTimer = nil
        isResuming = false
        let unanswered = assembler.abandon()
        let previous = state
        let wasWorking = previous == .ready || previous == .loggingIn
        // `BYE disabled`: an administrator disabled the account; logging in again would be refused.
        let isShutOut = byeReason.map { $0 == "disabled" || $0.hasPrefix("disabled ") } ?? false
        let willRetry = reconnects && hasLoggedIn && wasWorking && !isShutOut
        if wasWorking {
            onNotice(.connectionLost(reason: byeReason.map { "the server said: " + $0 } ?? reason, willRetry: willRetry))
        }
        for (command, purpose) in unanswered {
            if case .caller(let completion) = purpose {
                completion(ServerReply(command: command, data: [], outcome: .failure(
                    code: ServerReply.connectionLostCode, message: "the connection dropped before the reply; check whether it took effect")))
            }
        }
        if willRetry, servers.count > 1 {
            // The server went away: another of the desk's servers, at once.
            failedInRound = 1
            moveToNextServer()
            scheduleReconnect(after: 0)
        } else if willRetry {
            scheduleReconnect(after: backoff.next())
        } else if previous != .closed {
            state = .closed
            onNotice(.closed)
        }
    }
}
