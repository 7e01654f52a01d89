import Dispatch
import Foundation

/// A cluster node's LISTEN connection: each commit of another node notifies the log channel, and
/// this wakes the node to read the log at once instead of at its next poll.
///
/// A connection of its own (a LISTEN session must not be the store's, which waits in write turns
/// and commits), watched by a Dispatch read source on its own queue. LISTEN connections can die
/// without a word (a terminated backend, a restarted database), so the node's poll stays as the
/// backup; a broken connection is made again a second later, for as long as the node runs.
final class ClusterListener: @unchecked Sendable {  // state confined to `queue`
    private let conninfo: String
    private let queue = DispatchQueue(label: "orderdesk.listen")
    private let onNotification: @Sendable () -> Void
    private var connection: PostgresConnection?
    private var source: DispatchSourceRead?
    private var isStopped = false

    init(conninfo: String, onNotification: @escaping @Sendable () -> Void) {
        self.conninfo = conninfo
        self.onNotification = onNotification
    }

    func start() { queue.async { self.connect() } }

    func stop() {
        queue.sync {
            isStopped = true
            drop()
        }
    }

    private func connect() {
        guard !isStopped else { return }
        do {
            let listening = try PostgresConnection(conninfo: conninfo)
            try listening.execute("LISTEN \(PostgresSchema.logChannel)")
            let source = DispatchSource.makeReadSource(fileDescriptor: listening.socket, queue: queue)
            source.setEventHandler { [weak self] in self?.readable() }
            // The socket is libpq's: the connection (and so the socket) lives until the source is cancelled.
            source.setCancelHandler { withExtendedLifetime(listening) {} }
            connection = listening
            self.source = source
            source.resume()
            // Commits made while this was away were missed: read the log now.
            onNotification()
        } catch {
            queue.asyncAfter(deadline: .now() + .seconds(1)) { [weak self] in self?.connect() }
        }
    }

    private func readable() {
        guard let connection else { return }
        do {
            if try connection.takeNotifications() > 0 { onNotification() }
        } catch {
            drop()
            queue.asyncAfter(deadline: .now() + .seconds(1)) { [weak self] in self?.connect() }
        }
    }

    private func drop() {
        source?.cancel()
        source = nil
        connection = nil  // closed once the source's cancel handler lets go of it
    }
}
