import Dispatch
import OrderDeskWire

/// The conversation with the server: connect, log in, send commands, route replies and pushes,
/// and (when `reconnects`) survive a dropped connection.
///
/// After a drop it reconnects, to the next of the account's servers when it has several (each
/// tried once at once, then `Backoff` between rounds), logs in again with the password it keeps in
/// memory only, and, when the server's HELP lists RESUME and an event was seen, sends
/// `RESUME <last id>` so the pushes missed meanwhile are replayed. Commands whose reply never
/// came are answered locally with `ERR connection-lost`, since nobody can say whether they
/// took effect.
///
/// It keeps the connection alive by itself: when nothing has been sent for a third of the
/// `idle-timeout` the server announced in HELLO, it sends a PING whose reply nobody sees.
public final class Session: @unchecked Sendable {  // all state confined to `queue`
    /// Where and as whom to connect.
    public struct Account: Sendable {
        public var host: String
        public var port: UInt16
        /// nil: do not log in (HELP and PING still work).
        public var user: String?
        /// Kept in memory for logging in again after a reconnect; never written anywhere.
        public var password: String?
        /// Speak TLS, trusting `caFile` (PEM) or, when nil, the system's trust store.
        public var isTLS = false
        public var caFile: String?
        /// Further servers of the same desk, tried in turn after `host:port`.
        public var alternates: [Endpoint]

        /// Every server to try, `host:port` first.
        var servers: [Endpoint] { [Endpoint(host: host, port: port)] + alternates }

        public init(host: String, port: UInt16, user: String?, password: String?, isTLS: Bool = false, caFile: String? = nil,
                    alternates: [Endpoint] = []) {
            self.alternates = alternates
            self.isTLS = isTLS
            self.caFile = caFile
            self.host = host
            self.port = port
            self.user = user
            self.password = password
        }
    }

    /// Who the server says we are, from the LOGIN reply.
    public struct Greeting: Sendable {
        public var user: String?
        public var role: String?
        public var claims: Int?
        /// Present when the server counts unread inbox events.
        public var unread: Int?
        /// Summary lines of the user's claimed orders.
        public var claimLines: [String]
        /// Unread events per order (`unread-orders=` of the LOGIN reply), most first.
        public var unreadOrders: [(order: String, count: Int)] = []
        /// True after a reconnect.
        public var isReconnect: Bool
    }

    /// What happened to the session, for the app to show.
    public enum Notice: Sendable {
        case loggedIn(Greeting)
        case loginFailed(ServerReply)
        /// The first connection could not be made.
        case cannotConnect(String)
        /// The server's TLS certificate was refused (untrusted, or for another name): never retried.
        case certificateRefused(String)
        /// The connection dropped; when `willRetry`, a reconnect follows.
        case connectionLost(reason: String, willRetry: Bool)
        /// A reconnect attempt failed; the next comes after `delay` seconds.
        case retrying(reason: String, delay: Double)
        /// RESUME replayed `count` missed pushes (counted as they were handed to `onEvent`, so
        /// the number matches what is shown); `isComplete` is false when the server no longer
        /// had them all; `isAfterRestart` when desk itself had been restarted (not reconnected).
        case resumed(count: Int, isComplete: Bool, isAfterRestart: Bool)
        /// Reconnected without a way to replay what was missed.
        case mayHaveMissedEvents
        /// The session is over (QUIT answered, or the server closed and there is no reconnecting).
        case closed
    }

    // From here on, internal rather than private where Session+Connecting.swift uses it; all of
    // it is touched on `queue` only.
    enum Purpose {
        case help
        case login
        case resume
        /// A keep-alive PING: its reply is swallowed.
        case keepAlive
        case quit
        case caller(@Sendable (ServerReply) -> Void)
    }

    enum State {
        case idle, connecting, loggingIn, ready, waitingToReconnect, quitting, closed
    }

    public let queue: DispatchQueue
    var account: Account
    let reconnects: Bool
    var state = State.idle
    var connection: Connection?
    var assembler = ReplyAssembler<Purpose>()
    var backoff = Backoff()
    /// The account's servers, `host:port` first; `serverIndex` is the one in use or being tried.
    let servers: [Endpoint]
    var serverIndex = 0
    /// Servers that failed since the last login or round: once every one has, `backoff` waits.
    var failedInRound = 0
    var hasLoggedIn = false
    var byeReason: String?
    /// True from sending RESUME until its reply: pushes meanwhile are replays.
    var isResuming = false
    /// Replayed pushes handed on during the RESUME in progress.
    private var replayedCount = 0
    /// True for a RESUME sent at the first login, from an id remembered by an earlier run.
    private var isResumingAfterRestart = false
    /// Highest push id seen; what RESUME asks to continue from.
    public private(set) var lastEventID: UInt64?
    /// Recent push ids, so a push replayed and also delivered live is shown once.
    private var recentEventIDs: [UInt64] = []
    /// Commands the server lists in HELP, fetched on every connection.
    public private(set) var commands: [CommandHelp] = []
    /// The HELLO line's fields.
    public private(set) var serverFields: [String: String] = [:]
    /// When the last line went to the server; the keep-alive PING goes out a while after it.
    private var lastSent = DispatchTime.now()
    /// Fires the keep-alive check; one per connection, cancelled when it closes.
    var keepAliveTimer: DispatchSourceTimer?
    /// Keep-alive PINGs sent (for tests and the curious).
    public private(set) var keepAliveCount = 0

    /// Called on `queue`.
    public var onNotice: (Notice) -> Void = { _ in }
    /// Called on `queue` for each push; the flag is true for pushes replayed by RESUME.
    public var onEvent: (ServerEvent, Bool) -> Void = { _, _ in }

    /// `lastEventID`: the newest push id an earlier run saw (`LastEventFile`); when given, the
    /// first login resumes from it too, so a restarted desk catches up.
    public init(account: Account, reconnects: Bool, queue: DispatchQueue, lastEventID: UInt64? = nil) {
        self.account = account
        servers = account.servers
        self.reconnects = reconnects
        self.queue = queue
        self.lastEventID = lastEventID
    }

    /// True when commands can be sent.
    public var isReady: Bool {
        dispatchPrecondition(condition: .onQueue(queue))
        return state == .ready
    }

    public var user: String? { account.user }
    /// The server in use, or being tried.
    public var endpoint: String { servers[serverIndex].description }
    public var supportsResume: Bool { commands.contains { $0.name == "RESUME" } }

    /// The usage line HELP gave for command `name` (any case), if the server lists it.
    public func usage(of name: String) -> String? {
        let name = name.uppercased()
        return commands.first { $0.name == name }?.usage
    }

    /// Opens the first connection. Call on `queue`.
    public func start() {
        dispatchPrecondition(condition: .onQueue(queue))
        guard state == .idle else { return }
        connect()
    }

    /// Sends a command; `completion` gets its reply on `queue`. False (nothing sent) when offline.
    ///
    /// Free text goes as typed: when it starts with a quote it is sent as a quoted string
    /// (`FreeText`). The reply's `command` is the line as given.
    @discardableResult
    public func send(_ line: String, completion: @escaping @Sendable (ServerReply) -> Void) -> Bool {
        dispatchPrecondition(condition: .onQueue(queue))
        guard state == .ready, let connection else { return false }
        let name = line.split(separator: " ").first.map(String.init) ?? ""
        assembler.expect(line, tag: .caller(completion))
        write(FreeText.encoded(line, usage: usage(of: name)), on: connection)
        return true
    }

    /// Tries the first login again with another password, after `Notice.loginFailed`.
    public func logIn(password: String) {
        dispatchPrecondition(condition: .onQueue(queue))
        guard state == .closed, !hasLoggedIn else { return }
        account.password = password
        connect()
    }

    /// Says QUIT when connected, then `Notice.closed`; stops reconnecting either way.
    public func quit() {
        dispatchPrecondition(condition: .onQueue(queue))
        switch state {
        case .ready, .loggingIn:
            state = .quitting
            assembler.expect("QUIT", tag: .quit)
            if let connection { write("QUIT", on: connection) }
        case .quitting, .closed:
            break
        default:
            state = .closed
            connection?.close(reason: "quit")
            onNotice(.closed)
        }
    }

    // MARK: Keeping the connection alive

    func write(_ line: String, on connection: Connection) {
        lastSent = .now()
        connection.send(line)
    }

    /// Seconds of silence after which a PING goes out: a third of the server's idle timeout
    /// (600 s when the greeting does not say), so two PINGs can be late before it bites.
    static func keepAliveInterval(helloFields: [String: String]) -> Double {
        let timeout = helloFields["idle-timeout"].flatMap { Double($0) }.flatMap { $0 > 0 ? $0 : nil } ?? 600
        return max(0.25, timeout / 3)
    }

    private func startKeepAlive() {
        dispatchPrecondition(condition: .onQueue(queue))
        keepAliveTimer?.cancel()
        let interval = Self.keepAliveInterval(helloFields: serverFields)
        let timer = DispatchSource.makeTimerSource(queue: queue)
        // Checked four times per interval: a PING goes out at most a quarter interval late.
        let period = DispatchTimeInterval.milliseconds(max(50, Int(interval * 250)))
        timer.schedule(deadline: .now() + period, repeating: period, leeway: .milliseconds(20))
        timer.setEventHandler { [weak self] in self?.keepAlive(interval: interval) }
        keepAliveTimer = timer
        timer.resume()
    }

    private func keepAlive(interval: Double) {
        dispatchPrecondition(condition: .onQueue(queue))
        guard let connection, state == .ready || state == .loggingIn else { return }
        let silence = Double(DispatchTime.now().uptimeNanoseconds - lastSent.uptimeNanoseconds) / 1e9
        guard silence >= interval * 0.75 else { return }
        assembler.expect("PING", tag: .keepAlive)
        keepAliveCount += 1
        write("PING", on: connection)
    }

    // MARK: Lines from the server

    func received(_ line: String) {
        dispatchPrecondition(condition: .onQueue(queue))
        guard let output = assembler.receive(line) else { return }
        switch output {
        case .hello(let fields):
            serverFields = fields
            startKeepAlive()
        case .bye(let reason): byeReason = reason.isEmpty ? "bye" : reason
        case .event(let event): receivedEvent(event)
        case .unexpected: break
        case .reply(let reply, let purpose):
            switch purpose {
            case .help: if reply.isOK { commands = CommandHelp.list(from: reply.data) }
            case .login: loggedIn(reply)
            case .resume: resumed(reply)
            case .keepAlive: break
            case .quit:
                state = .closed
                connection?.close(reason: "quit")
                onNotice(.closed)
            case .caller(let completion): completion(reply)
            }
        }
    }

    private func receivedEvent(_ event: ServerEvent) {
        if recentEventIDs.contains(event.id) { return }
        recentEventIDs.append(event.id)
        if recentEventIDs.count > 512 { recentEventIDs.removeFirst(recentEventIDs.count - 512) }
        lastEventID = max(lastEventID ?? 0, event.id)
        if isResuming { replayedCount += 1 }
        onEvent(event, isResuming)
    }

    private func loggedIn(_ reply: ServerReply) {
        guard case .ok(let summary) = reply.outcome else {
            state = .closed
            connection?.close(reason: "login failed")
            onNotice(.loginFailed(reply))
            return
        }
        let fields = Record(summary)
        let isReconnect = hasLoggedIn
        hasLoggedIn = true
        backoff.reset()
        failedInRound = 0
        state = .ready
        onNotice(.loggedIn(Greeting(user: fields["user"] ?? account.user, role: fields["role"], claims: fields["claims"].flatMap { Int($0) },
                                    unread: fields["unread"].flatMap { Int($0) }, claimLines: reply.data,
                                    unreadOrders: StatusLine.unreadOrders(fromField: fields["unread-orders"]), isReconnect: isReconnect)))
        // A first login resumes too when an earlier run left the id of the last push it saw.
        guard isReconnect || lastEventID != nil else { return }
        if supportsResume, let lastEventID, let connection {
            isResuming = true
            replayedCount = 0
            isResumingAfterRestart = !isReconnect
            assembler.expect("RESUME \(lastEventID)", tag: .resume)
            write("RESUME \(lastEventID)", on: connection)
        } else if isReconnect {
            onNotice(.mayHaveMissedEvents)
        }
    }

    private func resumed(_ reply: ServerReply) {
        isResuming = false
        guard case .ok(let summary) = reply.outcome else {
            onNotice(.mayHaveMissedEvents)
            return
        }
        // The count is of pushes shown, not the server's `resumed=`: a push that came live
        // as well, or one pushed at login meanwhile, is shown once and counted once.
        onNotice(.resumed(count: replayedCount, isComplete: Record(summary)["complete"] != "no", isAfterRestart: isResumingAfterRestart))
    }
}
