import Dispatch
import Foundation
import OrderDeskCore

/// A cluster node's second database session: LISTEN, and the heartbeat.
///
/// Each commit of another node notifies the log channel, and this wakes the node to read the log
/// at once instead of at its next poll. The session also beats the node's heart (three times per
/// node timeout), so a node whose store session is busy for long (loading a large desk after a
/// failed commit, waiting for a turn) is not taken for silent; a beat that finds the node's row
/// gone means the others declared it down.
///
/// A connection of its own (a LISTEN session must not be the store's, which waits in write turns
/// and commits), watched by a Dispatch read source on its own queue. LISTEN connections can die
/// without a word (a terminated backend, a restarted database), so the node's poll stays as the
/// backup; a broken connection is made again a second later, for as long as the node runs.
final class ClusterListener: @unchecked Sendable {  // state confined to `queue`
    private let conninfo: String
    private let queue = DispatchQueue(label: "orderdesk.listen")
    private let onNotification: @Sendable () -> Void
    /// The heartbeat: this node's id, how often, how old another node's beat may be.
    struct Heartbeat: Sendable {
        var node: ClusterIdentity
        var liveness: Milliseconds
        /// Three beats per node timeout.
        var interval: Milliseconds { Milliseconds(liveness.value / 3) }
        /// Called when a beat found this node declared down.
        var onFenced: @Sendable () -> Void
        /// Called when another node's beat is older than `liveness` (a turn declares it down).
        var onSilentNode: @Sendable () -> Void
    }
    private let heartbeat: Heartbeat
    private var connection: PostgresConnection?
    private var source: DispatchSourceRead?
    private var timer: DispatchSourceTimer?
    private var isStopped = false
    /// When this session began: others' beats are judged only after a node timeout of its own.
    private var connectedAt = DispatchTime.now()

    init(conninfo: String, heartbeat: Heartbeat, onNotification: @escaping @Sendable () -> Void) {
        self.conninfo = conninfo
        self.heartbeat = heartbeat
        self.onNotification = onNotification
    }

    func start() {
        queue.async {
            self.connect()
            let timer = DispatchSource.makeTimerSource(queue: self.queue)
            let every = Int(self.heartbeat.interval.value)
            timer.schedule(deadline: .now() + .milliseconds(every), repeating: .milliseconds(every), leeway: .milliseconds(max(1, every / 10)))
            timer.setEventHandler { [weak self] in self?.beat() }
            self.timer = timer
            timer.resume()
        }
    }

    private func beat() {
        guard let connection, !isStopped else { return }
        let judging = DispatchTime.now().uptimeNanoseconds - connectedAt.uptimeNanoseconds > UInt64(heartbeat.liveness.value) * 1_000_000
        do {
            if try PostgresStore.beat(on: connection, as: heartbeat.node, liveness: heartbeat.liveness, judging: judging) { heartbeat.onSilentNode() }
        } catch PostgresError.fenced {
            heartbeat.onFenced()
        } catch {
            drop()
            queue.asyncAfter(deadline: .now() + .seconds(1)) { [weak self] in self?.connect() }
        }
    }

    /// Stops without waiting: the listener's queue may be in a connect to a database that does
    /// not answer, and the caller is the desk queue.
    func stop() {
        queue.async {
            self.isStopped = true
            self.timer?.cancel()
            self.timer = nil
            self.drop()
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
            connectedAt = DispatchTime.now()
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
