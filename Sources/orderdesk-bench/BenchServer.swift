import Foundation
import OrderDeskCore
import OrderDeskServer
#if canImport(Glibc)
import Glibc
#endif

/// The desk under test: this same (release-built) executable re-run as `__serve`, so the server
/// is a process of its own whose CPU time and memory /proc reports.
final class BenchServer: @unchecked Sendable {  // immutable after init
    let process = Process()
    let port: UInt16
    /// Seconds from spawning to the server's "listening" line.
    let startSeconds: Double

    /// Where the child keeps the desk: a SQLite data file, or a PostgreSQL database.
    enum Store {
        case file(String)
        case postgres(conninfo: String)
        /// One node of an active-active cluster over the database (docs/CLUSTER.md).
        case cluster(conninfo: String, node: String)

        /// The child's first arguments: `PATH`, `--postgres CONNINFO` or `--cluster CONNINFO NODE`.
        var arguments: [String] {
            switch self {
            case .file(let path): [path]
            case .postgres(let conninfo): ["--postgres", conninfo]
            case .cluster(let conninfo, let node): ["--cluster", conninfo, node]
            }
        }
    }

    convenience init(data: String, lease: Int = 900) throws {
        try self.init(store: .file(data), lease: lease)
    }

    init(store: Store, lease: Int = 900) throws {
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        process.arguments = ["__serve"] + store.arguments + [String(lease)] + (BenchTLS.files.map { [$0.certificate, $0.key] } ?? [])
        let output = Pipe()
        process.standardOutput = output
        let started = monotonicNanoseconds()
        try process.run()
        do {
            let text = try Self.firstLine(of: output.fileHandleForReading, from: process, within: Self.startDeadline)
            startSeconds = Double(monotonicNanoseconds() - started) / 1e9
            guard let number = text.split(separator: " ").last.flatMap({ UInt16($0.trimmingCharacters(in: .whitespacesAndNewlines)) }) else {
                throw BenchError("no port in \(text)")
            }
            port = number
            try BenchTLS.serve(port: number)
        } catch {
            // A server that did not come up, or came up wrong, must not outlive the bench.
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            throw error
        }
    }

    /// Seconds a server may take to say it is ready (a million-order restart takes a few).
    static let startDeadline = 120.0

    /// The child's first line of output; throws if it exits first or says nothing in `seconds`.
    private static func firstLine(of handle: FileHandle, from process: Process, within seconds: Double) throws -> String {
        let deadline = monotonicNanoseconds() + UInt64(seconds * 1e9)
        var text = ""
        while !text.contains("\n") {
            let now = monotonicNanoseconds()
            guard now < deadline else { throw BenchError("the server said nothing within \(Int(seconds)) s") }
            var ready = pollfd(fd: handle.fileDescriptor, events: Int16(POLLIN), revents: 0)
            let waited = poll(&ready, 1, Int32(min(1000, (deadline - now) / 1_000_000 + 1)))
            guard waited > 0 else { continue }
            let chunk = handle.availableData
            if chunk.isEmpty {
                guard process.isRunning else { throw BenchError("the server did not start") }
                usleep(10_000)  // its output closed but it still runs: the deadline decides
                continue
            }
            text += String(decoding: chunk, as: UTF8.self)
        }
        return text
    }

    var pid: Int32 { process.processIdentifier }

    /// SIGTERM, repeated while the server lives: Dispatch registers its signal source
    /// asynchronously, so a signal sent the instant the server says ready can be missed.
    func stop() {
        var attempts = 0
        while process.isRunning {
            if attempts % 20 == 0 { kill(process.processIdentifier, attempts >= 200 ? SIGKILL : SIGTERM) }
            attempts += 1
            usleep(50_000)
        }
    }

    /// A cluster node shares the desk lock, which the seeding session may not have given back
    /// yet on the PostgreSQL side: tried again for up to 10 s.
    private static func openRetrying(_ open: () throws -> DeskStore) throws -> DeskStore {
        let deadline = monotonicNanoseconds() + 10_000_000_000
        while true {
            do { return try open() } catch PostgresError.deskInUse where monotonicNanoseconds() < deadline { usleep(20_000) }
        }
    }

    /// The child side: serve `PATH` (or `--postgres CONNINFO`) on a free loopback port and
    /// print `ready <port>`.
    static func serve(arguments: [String]) -> Never {
        signal(SIGPIPE, SIG_IGN)
        var arguments = arguments
        do {
            let store: DeskStore
            if arguments.first == "--postgres", arguments.count > 1 {
                // Waits for the desk lock rather than refusing: the session that seeded the
                // database may not have ended on the PostgreSQL side yet.
                store = try PostgresStore(conninfo: arguments[1], node: PostgresStore.Node(waitsForDesk: true))
                arguments.removeFirst(2)
            } else if arguments.first == "--cluster", arguments.count > 2 {
                var node = PostgresStore.Node()
                node.cluster = ClusterIdentity(name: arguments[2])
                store = try Self.openRetrying { try PostgresStore(conninfo: arguments[1], node: node) }
                arguments.removeFirst(3)
            } else {
                guard let path = arguments.first else { throw BenchError("__serve PATH | --postgres CONNINFO [LEASE [CERT KEY]]") }
                store = try SQLiteStore(path: path)
                arguments.removeFirst()
            }
            var configuration = DeskServer.Configuration()
            configuration.port = 0
            configuration.log = Log(level: .error)
            configuration.maximumSessions = 50_000
            configuration.desk.leaseDuration = .seconds(Int64(arguments.first.flatMap { Int($0) } ?? 900))
            if arguments.count > 2 {
                configuration.port = nil
                configuration.tls = TLSSettings(port: 0, certificateFile: arguments[1], keyFile: arguments[2])
            }
            let server = try DeskServer(configuration: configuration, store: store)
            let port = try server.start()
            // Ready to stop before saying ready, so a SIGTERM right after it is not lost.
            // (Ignore the default action first: Dispatch then delivers the signal to the source.)
            signal(SIGTERM, SIG_IGN)
            let signals = DispatchSource.makeSignalSource(signal: SIGTERM, queue: .global())
            signals.setEventHandler { @Sendable in server.shutdown { exit(0) } }
            signals.resume()
            FileHandle.standardOutput.write(Data("ready \(port)\n".utf8))
            withExtendedLifetime(signals) { dispatchMain() }
        } catch {
            FileHandle.standardError.write(Data("bench server: \(error)\n".utf8))
            exit(1)
        }
    }
}

/// Writes a fresh data file (or fills an empty store): users and `orders` captured orders,
/// straight through the store.
enum BenchData {
    /// Bench users log in with cheap hashes (1,000 PBKDF2 iterations instead of 600,000), so that
    /// 10,000 logins measure the desk, not the hash; the password is the user name.
    static let iterations = 1000

    /// `admins` adds users a1...aN (admins may CAPTURE, NEXT and MOVE, so one session can run
    /// the capture cycle); `notes` gives the order at each index that many notes (by p1) after capture.
    static func prepare(path: String, processors: Int, watchers: Int, orders: Int, history: Bool = false, admins: Int = 0,
                        notes: [Int: Int] = [:], progress: ((Int) -> Void)? = nil) throws {
        for suffix in ["", "-wal", "-shm"] { unlink(path + suffix) }
        try prepare(into: try SQLiteStore(path: path), processors: processors, watchers: watchers, orders: orders, history: history,
                    admins: admins, notes: notes, progress: progress)
    }

    /// The same into an empty `store` of any kind (a fresh PostgreSQL database, say).
    static func prepare(into store: DeskStore, processors: Int, watchers: Int, orders: Int, history: Bool = false, admins: Int = 0,
                        notes: [Int: Int] = [:], progress: ((Int) -> Void)? = nil) throws {
        let now = SystemClock.now()
        var desk = Desk(settings: DeskSettings(), snapshot: DeskSnapshot(), now: now)
        var changes: [StoreChange] = []
        func add(_ name: String, _ role: Role) throws {
            changes += desk.put(User(name: name, role: role, credential: try Passwords.credential(for: name, iterations: iterations))).changes
        }
        try add("shop", .integration)
        try add("rep", .sales)
        try add("boss", .admin)
        for index in 1...max(1, processors) { try add("p\(index)", .processor) }
        for index in 0..<watchers { try add("w\(index + 1)", .service) }
        for index in 0..<admins { try add("a\(index + 1)", .admin) }
        // p1 works the history in as if logged in: an offline holder's claim would sit in its
        // grace window and run out before the move to released (every order stayed captured).
        changes += desk.sessionOpened(user: "p1", now: now).outcome.changes
        try store.commit(changes)
        changes.removeAll(keepingCapacity: true)
        let lines = [OrderLine(sku: "WID-100", quantity: 3, unitPrice: Money(cents: 1050)), OrderLine(sku: "GAD-9", quantity: 1, unitPrice: Money(cents: 9900))]
        for index in 0..<orders {
            let draft = OrderDraft(number: "SO-\(1_000_000 + index)", customer: "Customer \(index % 997)", rep: "rep",
                                   purchaseOrder: "PO-\(index)", currency: "USD", lines: lines, priority: .normal, requestedShipDate: nil)
            // Finished orders (with history) spread over the last 30 days; open work over the last
            // 50 minutes, fresh enough that no escalation step is due while the bench runs.
            let span: Int64 = history ? 2_592_000_000 : 3_000_000
            let capturedAt = now - Milliseconds(Int64(orders - index) * span / Int64(max(orders, 1)))
            changes += desk.importOrder(draft, by: "shop", capturedAt: capturedAt).changes
            for note in 0..<(notes[index] ?? 0) {
                changes += desk.execute(.note(order: draft.number, text: "note \(note) on the thread"), as: "p1", now: capturedAt).changes
            }
            if history {
                // A finished order's life: claimed, released to fulfilment, shipped.
                let steps: [(Command, String, Milliseconds)] = [
                    (.claim(order: draft.number), "p1", .minutes(5)),
                    (.move(order: draft.number, to: .released, reason: nil), "p1", .minutes(12)),  // within the 15-minute lease
                    (.move(order: draft.number, to: .shipped, reason: nil), "shop", .minutes(600)),
                ]
                for (command, user, after) in steps {
                    let outcome = desk.execute(command, as: user, now: capturedAt + after)
                    // A refused step would leave the order open and the bench would measure another desk.
                    guard outcome.reply?.isSuccess == true else {
                        throw BenchError("preparing \(draft.number): \(command.name) was refused: \(outcome.reply?.wireText ?? "no reply")")
                    }
                    changes += outcome.changes
                }
            }
            if changes.count >= 50_000 {
                try store.commit(changes)
                changes.removeAll(keepingCapacity: true)
                progress?(index + 1)
            }
        }
        try store.commit(changes)
    }
}
