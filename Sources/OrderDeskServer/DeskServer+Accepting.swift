import Dispatch
import Foundation
import OrderDeskCore
import OrderDeskTLS
#if canImport(Glibc)
import Glibc
#endif

/// Accepting connections: the limits a newcomer meets before it has a session (the session
/// count, strangers per address, the descriptor limit), and the connection it gets.
extension DeskServer {
    func acceptPending(on listener: Listener) {
        dispatchPrecondition(condition: .onQueue(queue))
        while true {
            let accepted: (descriptor: Int32, peer: String)?
            do {
                accepted = try Socket.accept(listener.descriptor)
            } catch let failure as Socket.Failure where failure.code == EMFILE || failure.code == ENFILE {
                refuseWithSpareDescriptor(listener)
                return
            } catch {
                logAcceptFailure(error)
                pauseAccepting()
                return
            }
            guard let (descriptor, peer) = accepted else { return }
            // On the TLS port a refusal is a plain close: the peer expects a handshake, not text.
            if connections.count >= maximumSessions {
                refuse(descriptor, listener.isTLS ? nil : "BYE too-many-sessions the desk is full (\(maximumSessions) sessions); try again later\n")
                continue
            }
            let key = LoginThrottle.key(for: peer)
            if strangersByAddress[key, default: 0] >= configuration.maximumStrangersPerAddress {
                refuse(descriptor, listener.isTLS ? nil : "BYE too-many-sessions too many connections from \(peer) have not logged in; try again later\n")
                continue
            }
            var tls: TLSStream?
            if listener.isTLS {
                guard let context = tlsContext, let stream = try? TLSStream(accepting: descriptor, context: context) else {
                    refuse(descriptor, nil)
                    continue
                }
                tls = stream
            }
            open(descriptor, peer: peer, tls: tls)
        }
    }

    /// Says why and closes, without a session.
    private func refuse(_ descriptor: Int32, _ text: String?) {
        _ = text?.withCString { Glibc.send(descriptor, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
        Glibc.close(descriptor)
        stats.sessionsRefused += 1
    }

    /// Out of descriptors: free the spare, accept one waiting peer to tell it so, take the
    /// spare back, and pause accepting for a moment (the level-triggered source would spin).
    private func refuseWithSpareDescriptor(_ listener: Listener) {
        logAcceptFailure(Socket.Failure(call: "accept", code: EMFILE))
        if spareDescriptor >= 0 {
            Glibc.close(spareDescriptor)
            spareDescriptor = -1
            if let (descriptor, _) = try? Socket.accept(listener.descriptor) {
                refuse(descriptor, listener.isTLS ? nil : "BYE too-many-sessions the server is out of descriptors; try again later\n")
            }
            spareDescriptor = Glibc.open("/dev/null", O_RDONLY | O_CLOEXEC)
        }
        pauseAccepting()
    }

    /// Logs an accept failure at most once every 10 seconds.
    private func logAcceptFailure(_ error: Error) {
        let now = clockNow()
        guard now - lastAcceptFailureLog >= .seconds(10) else { return }
        lastAcceptFailureLog = now
        log(.warning, "accept failed; pausing new connections briefly", [("error", "\(error)"), ("sessions", String(connections.count))])
    }

    func pauseAccepting() {
        guard !isAcceptSuspended, !listeners.isEmpty else { return }
        isAcceptSuspended = true
        for listener in listeners { listener.source.suspend() }
        queue.asyncAfter(deadline: .now() + .milliseconds(100)) { [self] in
            guard isAcceptSuspended else { return }
            isAcceptSuspended = false
            for listener in listeners { listener.source.resume() }
        }
    }

    private func open(_ descriptor: Int32, peer: String, tls: TLSStream?) {
        let connection = Connection(id: nextConnectionID, descriptor: descriptor, peerAddress: peer, queue: queue,
                                    maximumLineLength: configuration.desk.limits.maximumLineLength,
                                    inputBudget: configuration.inputBudget, outputHighWater: configuration.outputHighWater,
                                    tls: tls, now: clockNow())
        nextConnectionID += 1
        connections[connection.id] = connection
        strangersByAddress[LoginThrottle.key(for: peer), default: 0] += 1
        connection.onClose = { [weak self] closed in self?.closed(closed) }
        connection.write { $0.greeting(greeting) }
        connection.start { [weak self] connection in
            guard let self else { return }
            connection.lastInput = self.clockNow()
            self.serve(connection)
        }
    }

    /// A stranger logged in, or left: it no longer counts against its address.
    func forgetStranger(_ connection: Connection) {
        let key = LoginThrottle.key(for: connection.peerAddress)
        guard let count = strangersByAddress[key] else { return }
        strangersByAddress[key] = count > 1 ? count - 1 : nil
    }
}
