import Dispatch
import Foundation
import OrderDeskCore
import OrderDeskTLS
import OrderDeskWire
#if canImport(Glibc)
import Glibc
#endif

/// The order desk server: a listening socket, one `Connection` per client, and the `Desk`.
///
/// One serial queue, `queue` (the desk queue), owns all mutable state below: the desk, the
/// connections and their sessions, the commit pipeline and the timers. Socket sources deliver on
/// it; the store commits on `storeQueue`; password hashing runs in `passwords`, a bounded pool
/// off the desk queue, so a login never stalls other sessions.
public final class DeskServer: @unchecked Sendable {  // state confined to `queue`
    /// Settings fixed at start.
    public struct Configuration: Sendable {
        public var host = "127.0.0.1"
        /// The clear-text port; nil turns it off (a TLS-only desk).
        public var port: UInt16? = 7878
        /// A TLS port, with its certificate and key.
        public var tls: TLSSettings?
        /// Listening in clear text on an address other than loopback is refused unless this is set.
        public var allowsPlaintext = false
        public var desk = DeskSettings()
        /// How often leases and grace windows are checked.
        public var tickInterval = Milliseconds(200)
        /// How often a cluster node without the write turn reads what the other nodes logged,
        /// besides when its LISTEN connection says they committed (the backup: a listener can
        /// die without a word).
        public var clusterPollInterval = Milliseconds(100)
        /// A cluster node runs on the database's clock (as of its last turn); tests that move
        /// time by hand turn this off, so their clock is the desk's.
        public var usesDatabaseClock = true
        /// A session whose unsent output passes this is disconnected as a slow consumer.
        public var maximumUnsentBytes = 4 * 1024 * 1024
        /// Sessions served at once; the greeting announces what the descriptor limit allows.
        public var maximumSessions = 20_000
        /// How often the store's housekeeping (retention) runs again after the pass at start.
        public var maintenanceInterval = Milliseconds.minutes(60)
        /// A connection that sends nothing for this long is closed (clients PING to stay).
        public var idleTimeout = Milliseconds.seconds(600)
        /// A connection that has not logged in this long after connecting is closed.
        public var loginTimeout = Milliseconds.seconds(30)
        /// After a failed commit, how often a store that cannot be reached is tried again.
        public var reloadInterval = Milliseconds.seconds(1)
        /// Connections not yet logged in from one address (IPv6: one /64) at once.
        public var maximumStrangersPerAddress = 256
        /// Bytes of received lines a session may have waiting; past it the server stops reading
        /// from it until they drain.
        public var inputBudget = 64 * 1024
        /// Unsent reply bytes past which the server stops reading a session's input.
        public var outputHighWater = 256 * 1024
        /// Unsent bytes of all sessions together; a session whose output would pass it is dropped
        /// as a slow consumer.
        public var maximumTotalUnsentBytes = 256 * 1024 * 1024
        /// Time one session's lines may hold the desk queue before the others get their turn.
        public var turnBudget = Milliseconds(1)
        /// Password checks run at once (each takes one core for about 175 ms), and how many may wait.
        public var passwordWorkers = max(1, ProcessInfo.processInfo.activeProcessorCount)
        public var maximumPasswordWaiting = 1024
        public var log = Log()
        /// Called (on the desk queue) after the server stopped itself because its store failed;
        /// the command line exits with status 1.
        public var onFatalError: @Sendable (String) -> Void = { _ in }

        public init() {}
    }

    public let configuration: Configuration
    /// The desk queue runs at the user-interactive level, so its threads come from that level's
    /// own pool rather than the default one, where the store queue blocks in fsync and password
    /// checks hash. Run as a user without privileges (so libdispatch cannot lower the threads'
    /// nice value, as it does for root), the capture cycle ran 10% faster at 10 sessions and 8%
    /// at 50, 4% slower at 1, in three alternating pairs (docs/BENCHMARKS.md).
    let queue = DispatchQueue(label: "orderdesk.desk", qos: .userInteractive)
    let storeQueue = DispatchQueue(label: "orderdesk.store")
    let passwords: PasswordPool
    let store: DeskStore
    private let clock: @Sendable () -> Instant
    /// The desk's time: the clock; on a cluster node, the database's clock as of the last turn,
    /// and never before an input the node already ran or replayed.
    func clockNow() -> Instant {
        guard let cluster else { return clock() }
        return max(Instant(milliseconds: clock().milliseconds &+ cluster.clockOffset), cluster.lastInstant)
    }
    let parser: CommandParser
    public let log: Log

    /// The desk's state; read and changed only on `queue`.
    var desk: Desk
    let pipeline: CommitPipeline
    /// Set when this server is one node of a cluster over PostgreSQL (docs/CLUSTER.md).
    let cluster: ClusterNode?
    var connections: [Int: Connection] = [:]
    /// Logged-in connections per user, for pushes.
    var sessionsByUser: [String: [Int: Connection]] = [:]
    var stats = ServerStats()
    var throttle = LoginThrottle()
    /// Connections not yet logged in, per address.
    var strangersByAddress: [String: Int] = [:]
    /// Unsent output of all sessions together, as of the last count: bytes written since are
    /// added, bytes the kernel took are found at the next recount (at most once per tick).
    var unsentBytes = 0
    /// Connections holding output for a commit still in flight (see `output(to:isReply:_:)`).
    var holdingConnections: [Connection] = []
    /// Connections whose sends are deferred to the end of the current `batchingWrites`.
    var flushPending: [Connection] = []
    var batchDepth = 0
    /// Sessions the server really serves: the configured maximum, within the descriptor limit.
    public let maximumSessions: Int
    /// A descriptor kept open so that, out of descriptors, the server can still accept one
    /// connection to tell it `BYE too-many-sessions` instead of leaving it unanswered.
    var spareDescriptor: Int32 = -1
    var lastAcceptFailureLog = Instant(milliseconds: 0)
    var nextConnectionID = 1
    var listeners: [Listener] = []
    var isAcceptSuspended = false
    /// The TLS context new connections on the TLS port get; replaced by `reloadCertificates`.
    var tlsContext: TLSContext?
    private var timer: DispatchSourceTimer?
    private var clusterPoll: DispatchSourceTimer?
    private var clusterListener: ClusterListener?
    private(set) var isStopping = false
    private var hasStopped = false
    private var stopWaiters: [@Sendable () -> Void] = []
    /// Set from a failed commit until the desk is reloaded from the store: meanwhile every command
    /// but PING, HELP and QUIT gets `ERR storage`, and nothing is committed or pushed.
    var storeOutage: Instant?
    /// True from a failed commit until the first reload attempt is back: sessions' lines wait.
    var isReloading = false
    private var lastIdleCheck = Instant(milliseconds: 0)
    /// The clear-text port bound by `start` (0 when it is off).
    public private(set) var port: UInt16 = 0
    /// The TLS port bound by `start` (0 when there is none).
    public private(set) var tlsPort: UInt16 = 0

    /// Loads the desk from `store`. `clock` is read on the desk queue; tests pass their own.
    public init(configuration: Configuration, store: DeskStore, clock: @escaping @Sendable () -> Instant = SystemClock.now) throws {
        self.configuration = configuration
        self.store = store
        self.clock = clock
        log = configuration.log
        parser = CommandParser(limits: configuration.desk.limits)
        passwords = PasswordPool(deskQueue: queue, workers: configuration.passwordWorkers, maximumWaiting: configuration.maximumPasswordWaiting)
        // Descriptors beyond sessions: the listener, the data file and its WAL, the spare, logs.
        let descriptorLimit = Socket.raiseDescriptorLimit()
        maximumSessions = max(1, min(configuration.maximumSessions, descriptorLimit - 64))
        if let postgres = store as? PostgresStore, let identity = postgres.node.cluster {
            // A node joins with the desk as the others have it, then replays the log from there.
            do {
                try postgres.agreeOnSettings(configuration.desk.fingerprint)
            } catch {
                postgres.release()  // its heartbeat row too: a node refused must not count as running
                throw error
            }
            let (snapshot, sessions) = try postgres.loadCluster()
            // Beats again at once: a long load must not look like a silent node.
            try postgres.registerNode()
            desk = Desk(settings: configuration.desk, snapshot: snapshot, now: clock())
            let node = ClusterNode(store: postgres, identity: identity)
            node.sessionsByNode = sessions
            node.eventWatermark = desk.counters.nextEventID
            cluster = node
        } else {
            desk = Desk(settings: configuration.desk, snapshot: try store.load(), now: clock())
            cluster = nil
        }
        pipeline = CommitPipeline(store: store, deskQueue: queue, storeQueue: storeQueue)
        pipeline.onFailure = { [weak self] error in self?.recover(from: error) }
        pipeline.onSettled = { [weak self] sequence, committed in
            self?.releaseHeld(upTo: sequence, committed: committed)
            if committed, let self, let cluster = self.cluster, self.pipeline.isSettled { cluster.eventWatermark = self.desk.counters.nextEventID }
        }
        pipeline.onCommit = { [weak self] microseconds, _ in
            self?.stats.commits += 1
            self?.stats.commitLatencies.record(microseconds)
            self?.stats.commitHistogram.record(microseconds)
        }
    }

    /// Binds and starts serving. Returns the bound clear-text port (useful with port 0), or the
    /// TLS port when clear text is off.
    @discardableResult
    public func start() throws -> UInt16 {
        if configuration.port != nil, !configuration.allowsPlaintext, !Socket.isLoopback(configuration.host) {
            throw StartFailure(description: "refusing to listen in clear text on \(configuration.host): passwords and orders would cross the network "
                + "readable by anyone on it. Serve TLS (--tls-port with --tls-cert and --tls-key, and --port off), or say --allow-plaintext")
        }
        if let tls = configuration.tls {
            tlsContext = try TLSContext.server(certificate: tls.certificateFile, key: tls.keyFile, clientCA: tls.clientCAFile)
        }
        var bound: [(descriptor: Int32, port: UInt16, isTLS: Bool)] = []
        do {
            if let plain = configuration.port {
                let (descriptor, boundPort) = try Socket.listen(host: configuration.host, port: plain)
                bound.append((descriptor, boundPort, false))
                port = boundPort
            }
            if let tls = configuration.tls {
                let (descriptor, boundPort) = try Socket.listen(host: tls.host ?? configuration.host, port: tls.port)
                bound.append((descriptor, boundPort, true))
                tlsPort = boundPort
            }
        } catch {
            for listener in bound { Glibc.close(listener.descriptor) }
            throw error
        }
        spareDescriptor = Glibc.open("/dev/null", O_RDONLY | O_CLOEXEC)
        queue.sync {
            for (descriptor, _, isTLS) in bound {
                let listener = Listener(descriptor: descriptor, isTLS: isTLS, queue: queue)
                listener.source.setEventHandler { [weak self, unowned listener] in self?.acceptPending(on: listener) }
                listener.source.resume()
                listeners.append(listener)
            }
            let timer = DispatchSource.makeTimerSource(queue: queue)
            let interval = Int(configuration.tickInterval.value)
            timer.schedule(deadline: .now() + .milliseconds(interval), repeating: .milliseconds(interval), leeway: .milliseconds(interval / 4))
            timer.setEventHandler { [weak self] in self?.tick() }
            self.timer = timer
            timer.resume()
            if let cluster {
                // A cluster node replays the others' inputs this often while it has no turn.
                let poll = DispatchSource.makeTimerSource(queue: queue)
                let every = Int(configuration.clusterPollInterval.value)
                poll.schedule(deadline: .now() + .milliseconds(every), repeating: .milliseconds(every), leeway: .milliseconds(max(1, every / 4)))
                poll.setEventHandler { [weak self] in self?.pollClusterLog() }
                clusterPoll = poll
                poll.resume()
                // Its second session: LISTEN, and the heartbeat (three beats per node timeout);
                // a node whose beat stopped is declared down in a turn (`turnAnswered`).
                let store = cluster.store
                let heartbeat = ClusterListener.Heartbeat(
                    node: cluster.identity, liveness: store.node.liveness,
                    onFenced: { [weak self] in self?.queue.async { [weak self] in self?.fenced() } },
                    onSilentNode: { [weak self] in self?.queue.async { [weak self] in if self?.storeOutage == nil { self?.whenTurn {} } } })
                let listener = ClusterListener(conninfo: store.conninfo, heartbeat: heartbeat) { [weak self] in
                    self?.queue.async { [weak self] in self?.pollClusterLog() }
                }
                clusterListener = listener
                listener.start()
            }
        }
        if maximumSessions < configuration.maximumSessions {
            log(.warning, "fewer sessions than configured: the descriptor limit is lower",
                [("max-sessions", String(maximumSessions)), ("configured", String(configuration.maximumSessions))])
        }
        maintainStore(now: clock())
        keepStoreAlive(after: Milliseconds(0))
        if configuration.port != nil { log(.info, "listening", [("host", configuration.host), ("port", String(port))]) }
        if let tls = configuration.tls { log(.info, "listening with tls", [("host", tls.host ?? configuration.host), ("port", String(tlsPort))]) }
        return configuration.port != nil ? port : tlsPort
    }

    /// Reads the TLS certificate and key again (certificates expire): new connections get
    /// them; connections already open keep the ones they began with. A file that cannot be
    /// used leaves the old ones in force and throws why.
    public func reloadCertificates() throws {
        guard let tls = configuration.tls else { return }
        let context = try TLSContext.server(certificate: tls.certificateFile, key: tls.keyFile, clientCA: tls.clientCAFile)
        queue.sync { tlsContext = context }
        log(.info, "tls certificate reloaded", [("cert", tls.certificateFile)])
    }

    /// Stops accepting, tells every session, waits for pending commits, closes everything.
    /// Calls `completion` (on the desk queue) when all acknowledged changes are on disk.
    public func shutdown(reason: String = "shutting-down the desk is shutting down", completion: @escaping @Sendable () -> Void) {
        queue.async { [self] in
            // A second call (a test's stop after the desk stopped itself) completes with the first.
            guard !isStopping else {
                if hasStopped { completion() } else { stopWaiters.append(completion) }
                return
            }
            isStopping = true
            if isAcceptSuspended {
                isAcceptSuspended = false
                for listener in listeners { listener.source.resume() }
            }
            for listener in listeners { listener.source.cancel() }
            listeners = []
            if spareDescriptor >= 0 {
                Glibc.close(spareDescriptor)
                spareDescriptor = -1
            }
            timer?.cancel()
            timer = nil
            clusterPoll?.cancel()
            clusterPoll = nil
            clusterListener?.stop()
            clusterListener = nil
            pipeline.whenDurable { [self] _ in
                cluster?.isLeaving = true
                for connection in connections.values {
                    connection.write("BYE " + reason + "\n")
                    connection.close(reason: "shutdown")
                }
                // Closing sessions starts grace windows: wait for those commits too, so nothing
                // runs on this server after `completion`. A cluster node closes them all in one
                // input, its leaving.
                leaveCluster { [self] in
                    pipeline.whenDurable { [self] _ in
                        log(.info, "stopped", [("reason", reason)])
                        hasStopped = true
                        completion()
                        for waiter in stopWaiters { waiter() }
                        stopWaiters = []
                    }
                }
            }
        }
    }

    /// Blocking form of `shutdown`, for tests and the command line. Never call it on the desk queue.
    public func stop() {
        let done = DispatchSemaphore(value: 0)
        shutdown { done.signal() }
        done.wait()
    }

    var greeting: Greeting {
        let settings = configuration.desk
        return Greeting(limits: settings.limits, leaseSeconds: settings.leaseDuration.value / 1000,
                        graceSeconds: settings.graceWindow.value / 1000, maximumSessions: maximumSessions,
                        maximumUnsentBytes: configuration.maximumUnsentBytes, idleTimeoutSeconds: configuration.idleTimeout.value / 1000,
                        loginTimeoutSeconds: configuration.loginTimeout.value / 1000, inputBudget: configuration.inputBudget)
    }

    func closed(_ connection: Connection) {
        connections[connection.id] = nil
        if connection.user == nil { forgetStranger(connection) }
        let level: Log.Level = connection.closeReason.hasPrefix("slow") || connection.closeReason.hasPrefix("idle") ? .warning : .info
        log(level, "session closed", [("session", String(connection.id)), ("user", connection.user ?? "-"), ("peer", connection.peerAddress),
                                       ("reason", connection.closeReason)])
        guard let user = connection.user else { return }
        sessionsByUser[user]?[connection.id] = nil
        if sessionsByUser[user]?.isEmpty == true { sessionsByUser[user] = nil }
        // A cluster node that is leaving closes all its sessions in one input.
        if cluster?.isLeaving == true { return }
        let id = connection.id
        whenTurn { [self] in
            cluster?.sessionUsers[id] = nil
            apply(perform(.sessionClosed(user: user, at: clockNow())).outcome, replyTo: nil)
        }
    }

    /// Closes connections that sent nothing for the idle timeout: peers that vanished without a FIN.
    /// Also closes connections that have not logged in within the login timeout.
    private func closeIdleConnections(now: Instant) {
        let limit = configuration.idleTimeout
        let loginLimit = configuration.loginTimeout
        for connection in connections.values {
            if now - connection.lastInput > limit {
                connection.write("BYE idle-timeout no input for \(limit.value / 1000) s; send PING to stay connected\n")
                connection.close(reason: "idle timeout")
            } else if connection.user == nil, now - connection.connectedAt > loginLimit {
                connection.write("BYE login-timeout not logged in within \(loginLimit.value / 1000) s\n")
                connection.close(reason: "login timeout")
            }
        }
    }

    // MARK: Time

    private func tick() {
        dispatchPrecondition(condition: .onQueue(queue))
        let now = clockNow()
        recountUnsentBytes()
        if now - lastIdleCheck >= Milliseconds(min(5000, configuration.idleTimeout.value / 4, configuration.loginTimeout.value / 4)) {
            lastIdleCheck = now
            closeIdleConnections(now: now)
        }
        guard storeOutage == nil, let due = desk.nextDeadline(), due <= now else { return }
        guard let cluster else { return apply(perform(.tick(at: now)).outcome, replyTo: nil) }
        // A renewed lease's old deadline is no reason for a write turn (and its log entry).
        desk.dropStaleDeadlines()
        guard let real = desk.nextDeadline(), real <= now else { return }
        // Every node sees the deadline; the first to get a turn runs it, and the others find
        // it done by the replay at the start of theirs.
        guard !cluster.isTickWaiting else { return }
        cluster.isTickWaiting = true
        whenTurn { [self] in
            cluster.isTickWaiting = false
            let now = clockNow()
            guard storeOutage == nil, let due = desk.nextDeadline(), due <= now else { return }
            apply(perform(.tick(at: now)).outcome, replyTo: nil)
        }
    }

    /// Runs the lease check now, whatever the timer says; for tests with an injected clock.
    /// Returns once the tick's changes are durable (on a cluster node, that takes a write turn):
    /// true then, false when 30 s passed first (a node that never gets the turn, say).
    @discardableResult
    public func tickNow() -> Bool {
        let done = DispatchSemaphore(value: 0)
        queue.async { [self] in
            whenTurn { [self] in
                apply(perform(.tick(at: clockNow())).outcome, replyTo: nil)
                pipeline.whenDurable { _ in done.signal() }
            }
        }
        return done.wait(timeout: .now() + .seconds(30)) == .success
    }
}
