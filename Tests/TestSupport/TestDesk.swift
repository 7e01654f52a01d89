import Foundation
import OrderDeskCore
import OrderDeskServer

/// A real server for end-to-end tests: started on a free port, with users whose password is
/// their name, stopped by `stop()`.
public final class TestDesk {
    public let server: DeskServer
    public let port: UInt16
    public let store: DeskStore
    public let clock: ManualClock?
    /// Where an engine's desk keeps its state (a data file, a throwaway PostgreSQL), kept as long
    /// as the desk: a PostgreSQL place stops its cluster when released.
    public private(set) var place: StorePlace?
    /// On a cluster place: the other nodes, each a server over the same database.
    public private(set) var partners: [DeskServer] = []
    /// Every node's port, the first the desk's own; `client` goes to them in turn.
    public private(set) var ports: [UInt16] = []
    private var clientsMade = 0

    /// The users every test desk has: name and role; each one's password is the name.
    public static let standardUsers: [(String, Role)] = [
        ("ana", .processor), ("ben", .processor), ("cleo", .processor), ("sam", .sales), ("rita", .sales),
        ("cora", .service), ("ada", .admin), ("shop", .integration),
    ]

    /// Starts a desk on `store` (a fresh memory store by default) with `standardUsers` added.
    public init(settings: DeskSettings = DeskSettings(), store: DeskStore = MemoryStore(), clock: ManualClock? = nil,
                users: [(String, Role)] = TestDesk.standardUsers, configure: (inout DeskServer.Configuration) -> Void = { _ in }) throws {
        let now = clock?.now() ?? SystemClock.now()
        var desk = Desk(settings: settings, snapshot: try store.load(), now: now)
        var changes: [StoreChange] = []
        for (name, role) in users where desk.users[name] == nil {
            changes += desk.put(User(name: name, role: role, credential: try Passwords.credential(for: name, iterations: 1000))).changes
        }
        if !changes.isEmpty { try store.commit(changes) }
        self.store = store
        self.clock = clock
        (server, port) = try Self.startServer(on: store, settings: settings, clock: clock, configure: configure)
        ports = [port]
    }

    private static func startServer(on store: DeskStore, settings: DeskSettings, clock: ManualClock?,
                                    configure: (inout DeskServer.Configuration) -> Void) throws -> (DeskServer, UInt16) {
        var configuration = DeskServer.Configuration()
        configuration.port = 0
        configuration.desk = settings
        configuration.log = Log(level: .error)
        // The test's clock is the desk's, on every node.
        configuration.usesDatabaseClock = clock == nil
        configure(&configuration)
        let server: DeskServer
        if let clock {
            server = try DeskServer(configuration: configuration, store: store, clock: { clock.now() })
        } else {
            server = try DeskServer(configuration: configuration, store: store)
        }
        return (server, try server.start())
    }

    /// Starts a desk on a fresh place of `engine`: the same desk, on SQLite or on PostgreSQL.
    public convenience init(engine: StoreEngine, settings: DeskSettings = DeskSettings(), clock: ManualClock? = nil,
                            users: [(String, Role)] = TestDesk.standardUsers,
                            configure: (inout DeskServer.Configuration) -> Void = { _ in }) throws {
        try self.init(place: try engine.makePlace(), settings: settings, clock: clock, users: users, configure: configure)
    }

    /// Starts a desk on `place`: one server, or on a cluster place every node of it.
    public convenience init(place: StorePlace, settings: DeskSettings = DeskSettings(), clock: ManualClock? = nil,
                            users: [(String, Role)] = TestDesk.standardUsers,
                            configure: (inout DeskServer.Configuration) -> Void = { _ in }) throws {
        try self.init(settings: settings, store: try place.open(), clock: clock, users: users, configure: configure)
        self.place = place
        for _ in 1..<max(1, place.nodes) {
            let (partner, partnerPort) = try Self.startServer(on: try place.open(), settings: settings, clock: clock, configure: configure)
            partners.append(partner)
            ports.append(partnerPort)
        }
    }

    /// A new connection logged in as `user` (password = name); on a cluster, each new client
    /// goes to the next node.
    public func client(_ user: String) throws -> LineClient {
        let client = try LineClient(port: ports[clientsMade % ports.count])
        clientsMade += 1
        try client.ok("LOGIN \(user) \(user)")
        return client
    }

    /// Captures a simple order through the integration user; returns its number.
    @discardableResult
    public func capture(_ number: String, using client: LineClient, rep: String = "sam", priority: String = "normal",
                        customer: String = "Acme Corp") throws -> String {
        try client.ok("CAPTURE \(number) customer=\"\(customer)\" rep=\(rep) po=PO-\(number) lines=WID-1:2:10.50 priority=\(priority)")
        return number
    }

    /// Stops the server; a PostgreSQL store gives its desk lock back, so a restart on the same
    /// place (a new `TestDesk` on `place.open()`) can take it at once.
    public func stop() {
        for node in [server] + partners {
            node.stop()
            node.withStore { ($0 as? PostgresStore)?.release() }
        }
    }
}

/// A clock the test moves by hand; thread-safe, so the server can read it from its queue.
public final class ManualClock: @unchecked Sendable {  // guarded by `lock`
    private let lock = NSLock()
    private var current: Instant

    public init(_ start: Instant = Instant(milliseconds: 1_795_000_000_000)) { current = start }

    public func now() -> Instant { lock.withLock { current } }

    public func advance(_ span: Milliseconds) { lock.withLock { current = current + span } }
}

/// Waits until `condition` holds, checking every few milliseconds, failing after `timeout` seconds.
public func waitUntil(timeout: Double = 5, _ what: String = "condition", _ condition: () throws -> Bool) throws {
    let deadline = Date().addingTimeInterval(timeout)
    while try !condition() {
        guard Date() < deadline else { throw LineClient.Failure(description: "timed out waiting for \(what)") }
        usleep(5_000)
    }
}

/// A fresh temporary directory for a test's data files.
public func temporaryDirectory() -> String {
    let path = NSTemporaryDirectory() + "orderdesk-test-" + UUID().uuidString
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}
