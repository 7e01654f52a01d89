import Dispatch
import Foundation
import OrderDeskCore
import OrderDeskOps
import OrderDeskServer
import OrderDeskTLS
import OrderDeskWire

/// The `orderdesk` subcommands.
enum Commands {
    /// Prints a line at once (stdout may be a pipe that a test or script is waiting on).
    static func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    static let defaultDataPath = "orderdesk.sqlite"

    static let usage = """
        orderdesk: a multi-user, chat-style order desk over TCP

        usage:
          orderdesk serve [--host H] [--port N|off] [--data PATH] [--demo] [--lease SECONDS] [--grace SECONDS] [--idle-timeout SECONDS] [--log-level LEVEL]
                          [--mailbox-retention-days N] [--audit-retention-days N]
                          [--tls-port N --tls-cert FILE --tls-key FILE [--tls-host H] [--tls-client-ca FILE]] [--allow-plaintext]
                          [--postgres CONNINFO [--node NAME]]   (PostgreSQL in place of --data: every node serves; or --standby; docs/CLUSTER.md)
          orderdesk user add NAME --role ROLE [--data PATH]     (password read from the terminal, or stdin)
          orderdesk import FILE [--data PATH]                   (CSV or JSON lines; see README)
                                                                (user add and import take --postgres CONNINFO too)
          orderdesk backup --to FILE [--data PATH]              (a consistent copy, while a server runs)
          orderdesk check [--data PATH | FILE]                  (integrity and the desk's invariants; exit 1 on problems)
          orderdesk export [--data PATH] [--from DAY] [--to DAY] [--format csv|jsonl] [--history] [--out FILE]
                                                                (orders for finance and BI, in the shape import reads)
          orderdesk metrics [--prometheus] [--host H] [--port N] [--user NAME] [--tls [--ca FILE]]
                                                                (asks a running desk; password from ORDERDESK_PASSWORD or the terminal)
          orderdesk --help | orderdesk COMMAND --help

        defaults: --host 127.0.0.1, --port 7878, --data ./\(defaultDataPath), --lease 900, --grace 60, --idle-timeout 600, --log-level info,
                  --mailbox-retention-days 14, --audit-retention-days 0 (keep the audit trail as long as the orders)
        roles: processor, sales, service, admin, integration
        """

    static let serveUsage = """
        usage: orderdesk serve [--host H] [--port N|off] [--data PATH] [--demo] [--lease SECONDS] [--grace SECONDS] [--idle-timeout SECONDS] [--log-level LEVEL]
                               [--mailbox-retention-days N] [--audit-retention-days N]
                               [--tls-port N --tls-cert FILE --tls-key FILE [--tls-host H] [--tls-client-ca FILE]] [--allow-plaintext]
                               [--metrics-listen HOST:PORT] [--postgres CONNINFO [--node NAME | --standby] [--node-timeout SECONDS]]

          --host H          address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)
          --port N|off      clear-text port (default 7878; 0 picks a free one; off for none); the bound port is printed.
                            Clear text on an address other than loopback is refused without --allow-plaintext
          --tls-port N      a TLS port (TLS 1.2 and 1.3, the same line protocol inside); 0 picks a free one
          --tls-cert FILE   the server's certificate in PEM; a chain (the server's first) is sent whole
          --tls-key FILE    its private key in PEM
          --tls-host H      address for the TLS port (default: --host)
          --tls-client-ca FILE
                            require client certificates signed by this CA (PEM) on the TLS port
          --allow-plaintext listen in clear text on a non-loopback --host all the same
                            SIGHUP reads the certificate and key again; open sessions keep theirs
          --data PATH       the SQLite data file (default ./\(defaultDataPath)); created if missing
          --postgres CONNINFO
                            keep the desk's state in PostgreSQL (a libpq connection string or URI) in place of
                            --data. Any number of servers over one database serve it at once, each any
                            session (an active-active cluster; --cluster says so explicitly; docs/CLUSTER.md)
          --node NAME       with --postgres: this node's name in logs and the database (default: host:port)
          --standby         with --postgres, the other mode: one server serves the database at a time. Start
                            every node with --standby: the first serves, the others wait and take the desk
                            over (load it and listen) the moment the serving one goes
          --node-timeout SECONDS
                            with --postgres: a node silent this long (paused, cut off) is declared down by the
                            others, its sessions closed, and stops when it comes back; with --standby, it loses
                            the desk to a standby (default 10)
          --demo            add demo users and orders if the data file has no users yet
          --lease SECONDS   claim lease length (default 900)
          --grace SECONDS   how long claims survive a disconnect (default 60)
          --idle-timeout SECONDS
                            close a connection that sent nothing for this long (default 600)
          --log-level L     error, warning, info or debug (default info); logs go to stderr as logfmt
          --mailbox-retention-days N
                            drop mailbox events (INBOX, RESUME) older than N days (default 14)
          --audit-retention-days N
                            drop audit entries older than N days; 0 (the default) keeps them as long as the orders
          --metrics-listen HOST:PORT
                            serve GET /metrics (Prometheus) and GET /ready over HTTP there (off by default;
                            [::1]:9100 for IPv6). NOTIFY_SOCKET set: READY=1 is sent once the desk serves
        """

    static func serve(_ options: Options) throws {
        if options.has("help") { print(serveUsage); return }
        let unknown = options.unknown(known: ["host", "port", "data", "demo", "lease", "grace", "idle-timeout", "log-level", "help",
                                              "mailbox-retention-days", "audit-retention-days", "tls-port", "tls-cert", "tls-key",
                                              "tls-host", "tls-client-ca", "allow-plaintext", "metrics-listen", "postgres",
                                              "standby", "node-timeout", "cluster", "node"])
        guard unknown.isEmpty else { throw UsageError("unknown option --\(unknown[0])\n\n" + serveUsage) }
        var configuration = DeskServer.Configuration()
        configuration.onFatalError = { message in
            FileHandle.standardError.write(Data("orderdesk: \(message)\n".utf8))
            exit(1)
        }
        configuration.host = options.value("host") ?? "127.0.0.1"
        configuration.port = options.value("port") == "off" ? nil : UInt16(try options.integer("port", in: 0...65535) ?? 7878)
        configuration.allowsPlaintext = options.has("allow-plaintext")
        configuration.tls = try tlsSettings(options)
        guard configuration.port != nil || configuration.tls != nil else { throw UsageError("--port off leaves no port: add --tls-port") }
        if let lease = try options.integer("lease", in: 1...86_400) { configuration.desk.leaseDuration = .seconds(Int64(lease)) }
        if let grace = try options.integer("grace", in: 0...86_400) { configuration.desk.graceWindow = .seconds(Int64(grace)) }
        if let idle = try options.integer("idle-timeout", in: 1...86_400) { configuration.idleTimeout = .seconds(Int64(idle)) }
        if let name = options.value("log-level") {
            guard let level = Log.Level(name: name) else { throw UsageError("--log-level is error, warning, info or debug") }
            configuration.log = Log(level: level)
        }
        // The metrics port listens before the store loads, so a service manager polling /ready
        // sees 503 through a long start (a migration, a big file) and 200 once the desk serves.
        let metrics = try startMetrics(options)
        var retention = SQLiteStore.Retention()
        if let days = try options.integer("mailbox-retention-days", in: 1...36_500) { retention.mailboxes = Milliseconds(Int64(days) * 86_400_000) }
        if let days = try options.integer("audit-retention-days", in: 0...36_500), days > 0 { retention.audit = Milliseconds(Int64(days) * 86_400_000) }
        let isStandby = options.has("standby")
        let nodeTimeout = try options.integer("node-timeout", in: 1...3600)
        if isStandby || options.has("cluster") || nodeTimeout != nil || options.value("node") != nil, options.value("postgres") == nil {
            throw UsageError("--standby, --cluster, --node and --node-timeout are for servers over PostgreSQL (--postgres CONNINFO)")
        }
        if isStandby, options.has("cluster") || options.value("node") != nil {
            throw UsageError("--standby excludes --cluster and --node: a cluster has no standbys, every node serves")
        }
        // Over PostgreSQL every node serves (active-active) unless it is one of --standby nodes.
        let isCluster = options.value("postgres") != nil && !isStandby
        if let name = options.value("node"), name.isEmpty || name.utf8.count > 64 || name.contains(where: { $0.isWhitespace }) {
            throw UsageError("--node takes a name of 1 to 64 characters without spaces")
        }
        let log = configuration.log
        var node = PostgresStore.Node(waitsForDesk: isStandby, liveness: .seconds(Int64(nodeTimeout ?? 10))) { database in
            say("orderdesk standby: another server has the desk in \(database); taking over when it goes")
            log(.info, "standby", [("database", database)])
        }
        // SIGTERM or SIGINT (blocked, so pending) ends a standby's wait: it has nothing to hand over.
        node.isWaitOver = { takePendingStopSignal() }
        if isCluster {
            let port = configuration.port.map(String.init) ?? "tls"
            node.cluster = ClusterIdentity(name: options.value("node") ?? "\(ProcessInfo.processInfo.hostName):\(port)")
        }
        let opened: OpenedStore
        do {
            opened = try openStore(options, retention: retention, node: node)
        } catch PostgresError.waitEnded {
            log(.info, "stopped while a standby", [])
            return
        }
        if isStandby { log(.info, "serving the desk", [("database", opened.place)]) }
        let store = opened.store
        if options.has("demo") {
            // Cluster nodes starting together seed one after the other: the second finds users.
            let seeded = try (store as? PostgresStore)?.duringTurnIfClustered { try DemoData.seed(into: store, now: SystemClock.now()) }
                ?? DemoData.seed(into: store, now: SystemClock.now())
            if seeded {
                configuration.log(.info, "demo data added", [("users", DemoData.users.map(\.name).joined(separator: ",")), ("password", "see README")])
            }
        }
        let server = try DeskServer(configuration: configuration, store: store)
        do { try server.start() } catch let failure as StartFailure { throw UsageError(failure.description) }
        var listening: [String] = []
        if configuration.port != nil { listening.append("on \(configuration.host):\(server.port)") }
        if let tls = configuration.tls { listening.append("with tls on \(tls.host ?? configuration.host):\(server.tlsPort)") }
        say("orderdesk listening " + listening.joined(separator: ", ") + " " + opened.location)
        if options.has("demo") {
            say("demo logins (password \"\(DemoData.password)\"): " + DemoData.users.map { "\($0.name) (\($0.role.rawValue))" }.joined(separator: ", "))
        }
        if let metrics {
            let host = options.value("metrics-listen").flatMap(MetricsListener.parseAddress)?.host ?? "?"
            say("metrics on http://\(host.contains(":") ? "[\(host)]" : host):\(metrics.port)/metrics (and /ready)")
            metrics.listener.ready(serving: server)
        }
        ServiceNotify.send("READY=1\nSTATUS=serving " + listening.joined(separator: ", "))
        waitForStopSignal(server, beforeShutdown: { metrics?.listener.notReady() }) { withExtendedLifetime(opened) {} }
    }

    /// `--metrics-listen HOST:PORT`: the HTTP endpoint for scrapers, started (not yet ready).
    static func startMetrics(_ options: Options) throws -> (listener: MetricsListener, port: UInt16)? {
        guard let text = options.value("metrics-listen") else { return nil }
        guard let address = MetricsListener.parseAddress(text) else {
            throw UsageError("--metrics-listen takes HOST:PORT, e.g. 127.0.0.1:9100 or [::1]:9100")
        }
        let listener = MetricsListener(host: address.host, port: address.port)
        let port: UInt16
        do { port = try listener.start() } catch { throw UsageError("\(error)") }
        return (listener, port)
    }

    /// The TLS port's settings, or nil without --tls-port.
    static func tlsSettings(_ options: Options) throws -> TLSSettings? {
        guard let port = try options.integer("tls-port", in: 0...65535) else {
            for name in ["tls-cert", "tls-key", "tls-host", "tls-client-ca"] where options.value(name) != nil {
                throw UsageError("--\(name) needs --tls-port")
            }
            return nil
        }
        guard let certificate = options.value("tls-cert"), let key = options.value("tls-key") else {
            throw UsageError("--tls-port needs --tls-cert FILE and --tls-key FILE (PEM)")
        }
        return TLSSettings(host: options.value("tls-host"), port: UInt16(port), certificateFile: certificate, keyFile: key,
                           clientCAFile: options.value("tls-client-ca"))
    }

    /// The signals the server takes with sigwait: SIGTERM and SIGINT stop it, SIGHUP reloads the
    /// TLS certificate.
    static var stopSignals: sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGTERM)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGHUP)
        return set
    }

    /// Blocks SIGTERM, SIGINT and SIGHUP in this thread and so in every thread started after it: from
    /// this call on, such a signal stays pending until `waitForStopSignal` takes it, so one sent
    /// at any instant after start is never lost. Call before anything starts a thread.
    static func blockStopSignals() {
        var set = stopSignals
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    /// True when a SIGTERM or SIGINT is pending, which it takes (a SIGHUP is taken and ignored).
    static func takePendingStopSignal() -> Bool {
        var set = stopSignals
        var zero = timespec(tv_sec: 0, tv_nsec: 0)
        while true {
            let number = sigtimedwait(&set, nil, &zero)
            if number == SIGTERM || number == SIGINT { return true }
            if number != SIGHUP { return false }
        }
    }

    /// Takes SIGTERM or SIGINT with sigwait on the main thread (the server runs on its own
    /// queues), then shuts down cleanly and exits 0; a SIGHUP before then reloads the TLS
    /// certificate and key. Never returns.
    static func waitForStopSignal(_ server: DeskServer, beforeShutdown: () -> Void = {}, onExit: @escaping @Sendable () -> Void) -> Never {
        var set = stopSignals
        var number: Int32 = 0
        while sigwait(&set, &number) != 0 || number == SIGHUP {
            guard number == SIGHUP else { continue }
            number = 0
            do {
                try server.reloadCertificates()
            } catch {
                server.log(.error, "tls certificate reload failed; the old one stays in force", [("error", "\(error)")])
            }
        }
        server.log(.info, "signal received; shutting down", [("signal", number == SIGTERM ? "TERM" : "INT")])
        ServiceNotify.send("STOPPING=1")
        beforeShutdown()
        server.shutdown {
            onExit()
            exit(0)
        }
        // Later signals are taken and ignored: shutdown is under way (SIGKILL still works).
        while true { _ = sigwait(&set, &number) }
    }

    static func addUser(_ options: Options) throws {
        let usage = "usage: orderdesk user add NAME --role ROLE [--data PATH]\n  roles: " + Role.allCases.map(\.rawValue).joined(separator: ", ")
        if options.has("help") { print(usage); return }
        guard options.positional.count == 3, options.positional[1] == "add" else { throw UsageError(usage) }
        let name = options.positional[2]
        guard UserName.isValid(name) else { throw UsageError("a user name starts with a letter and holds letters, digits, _ . - (at most 32)") }
        guard let roleName = options.value("role"), let role = Role(rawValue: roleName) else { throw UsageError(usage) }
        // Over PostgreSQL, beside serving nodes: the user goes into the cluster's log, which they replay.
        var node = PostgresStore.Node()
        node.cluster = ClusterIdentity(name: "user-add")
        let opened = try openStore(options, node: node)
        defer { opened.close() }
        let store = opened.store
        let password = try PasswordPrompt.read(prompt: "password for \(name): ", confirm: true)
        if let problem = PasswordRule.problem(with: password) { throw UsageError(problem) }
        if let postgres = store as? PostgresStore {
            let existed = try postgres.putUserThroughLog(User(name: name, role: role, credential: try Passwords.credential(for: password)))
            print("\(existed ? "updated" : "added") user \(name) (\(role.rawValue)) in \(opened.place)")
            return
        }
        var desk = Desk(settings: DeskSettings(), snapshot: try store.load(), now: SystemClock.now())
        let existed = desk.users[name] != nil
        try store.commit(desk.put(User(name: name, role: role, credential: try Passwords.credential(for: password))).changes)
        print("\(existed ? "updated" : "added") user \(name) (\(role.rawValue)) in \(opened.place)")
    }

    /// Asks a running desk for METRICS as an admin and prints them, as Prometheus text with --prometheus.
    static func metrics(_ options: Options) throws -> Int32 {
        let usage = "usage: orderdesk metrics [--prometheus] [--host H] [--port N] [--user NAME] [--window 30d] [--tls [--ca FILE]]"
        if options.has("help") { print(usage); return 0 }
        let host = options.value("host") ?? "127.0.0.1"
        let port = UInt16(try options.integer("port", in: 1...65535) ?? 7878)
        let user = options.value("user") ?? ProcessInfo.processInfo.environment["USER"] ?? "admin"
        let password = try ProcessInfo.processInfo.environment["ORDERDESK_PASSWORD"] ?? PasswordPrompt.read(prompt: "password for \(user): ", confirm: false)
        let tls = options.has("tls") || options.value("ca") != nil
        let connection: BlockingLineConnection
        do {
            connection = try BlockingLineConnection(host: host, port: port, tls: tls ? TLSContext.client(ca: options.value("ca")) : nil)
        } catch let failure as TLSError {
            FileHandle.standardError.write(Data("orderdesk: \(failure)\n".utf8))
            return failure.kind == .verification ? 3 : 1
        }
        _ = try connection.readLine()
        let login = try connection.request("LOGIN \(Quoting.word(user)) \(Quoting.word(password))")
        guard login.last?.hasPrefix("OK") == true else { throw UsageError("login failed: \(login.last ?? "")") }
        let window = options.value("window").map { " window=" + $0 } ?? ""
        let reply = try connection.request("METRICS" + window)
        guard let last = reply.last, last.hasPrefix("OK") else { throw UsageError(reply.last ?? "no reply") }
        let data = reply.dropLast().map { String($0.dropFirst(2)) }
        print(options.has("prometheus") ? PrometheusFormat.render(data) : data.joined(separator: "\n"), terminator: options.has("prometheus") ? "" : "\n")
        return 0
    }

    static func importFile(_ options: Options) throws -> Int32 {
        let usage = "usage: orderdesk import FILE [--data PATH]   (CSV with a header row, or JSON lines)"
        if options.has("help") { print(usage); return 0 }
        guard options.positional.count == 2 else { throw UsageError(usage) }
        let file = options.positional[1]
        guard let contents = try? String(contentsOfFile: file, encoding: .utf8) else { throw UsageError("cannot read \(file) as UTF-8 text") }
        let opened = try openStore(options)
        defer { opened.close() }
        let store = opened.store
        let result = try Importer.run(Importer.parse(contents: contents, fileName: file), into: store, now: SystemClock.now())
        for rejection in result.rejected { print("refused \(file) \(rejection.location): \(rejection.reason)") }
        print("imported \(result.captured.count) orders, refused \(result.rejected.count)")
        return result.rejected.isEmpty ? 0 : 1
    }
}
