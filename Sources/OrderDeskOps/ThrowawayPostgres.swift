import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A throwaway PostgreSQL server for a test or a bench run: its own data folder under /tmp,
/// reached only through a Unix socket in that folder (`listen_addresses=''`), stopped and
/// removed by `stop()` (or when it is released).
///
/// initdb and postgres refuse to run as root, so under root every server command runs as the
/// `postgres` user (`runuser`), which owns the folder. initdb runs once per process into a
/// template folder that each server copies (a copy and a start take a fraction of a second,
/// initdb more than a second). Callers check `ThrowawayPostgres.unavailableReason` and skip
/// what needs one on a machine without the server.
public final class ThrowawayPostgres: @unchecked Sendable {  // immutable after init but `isStopped`, which `lock` guards
    /// How the server runs: tests turn fsync off, the bench keeps it (durability is the point).
    public struct Settings: Sendable {
        /// Off: commits are not flushed to disk (fast, for tests only).
        public var fsync: Bool
        /// `synchronous_commit`: COMMIT returns once the WAL is flushed (with fsync on, on disk).
        public var synchronousCommit: Bool
        public var maximumConnections: Int

        public init(fsync: Bool = true, synchronousCommit: Bool = true, maximumConnections: Int = 100) {
            self.fsync = fsync
            self.synchronousCommit = synchronousCommit
            self.maximumConnections = maximumConnections
        }

        /// The `-c name=value` options pg_ctl passes on to postgres.
        var serverOptions: String {
            "-c fsync=\(fsync ? "on" : "off") -c synchronous_commit=\(synchronousCommit ? "on" : "off") -c max_connections=\(maximumConnections)"
        }
    }

    /// What went wrong starting, stopping or talking to the server.
    public enum Failure: Error, CustomStringConvertible {
        /// This machine cannot run one (no server binaries, or root without a postgres user).
        case unavailable(String)
        /// A command (initdb, pg_ctl, psql, pgbench, ...) failed; what it printed.
        case commandFailed(command: String, output: String)
        /// A system call failed.
        case system(call: String, message: String)

        public var description: String {
            switch self {
            case .unavailable(let reason): "PostgreSQL is not available: \(reason)"
            case .commandFailed(let command, let output): "\(command) failed: \(output)"
            case .system(let call, let message): "\(call): \(message)"
            }
        }
    }

    /// The server's folder: data/, the log and the socket.
    public let directory: String
    public let port: UInt16
    public let settings: Settings
    private let lock = NSLock()
    private var isStopped = false

    /// Why a server cannot be started here, or nil when it can.
    public static let unavailableReason: String? = {
        guard let bin = binaries else { return "PostgreSQL server binaries not found (pg_config --bindir; apt install postgresql-15)" }
        guard FileManager.default.isExecutableFile(atPath: bin + "/initdb"), FileManager.default.isExecutableFile(atPath: bin + "/pg_ctl") else {
            return "no initdb or pg_ctl in \(bin) (apt install postgresql-15)"
        }
        if geteuid() == 0, getpwnam("postgres") == nil { return "running as root and there is no postgres user to run the server as" }
        return nil
    }()

    public static var isAvailable: Bool { unavailableReason == nil }

    /// `pg_config --bindir`: where initdb, pg_ctl, postgres, psql and pgbench are.
    public static let binaries: String? = {
        guard let result = try? run(["/usr/bin/env", "pg_config", "--bindir"], asServerUser: false), result.status == 0 else { return nil }
        let path = result.output.trimmingCharacters(in: .whitespacesAndNewlines)
        return path.isEmpty ? nil : path
    }()

    /// A freshly initialised data folder every server copies, made on first use (`--no-sync`:
    /// the template is thrown away with the process; the servers' own commits are what fsync covers).
    private static let template: Result<String, Error> = Result {
        let bin = try requireBinaries()
        let folder = try makeOwnedFolder()
        let initdb = try run([bin + "/initdb", "-D", folder + "/data", "-A", "trust", "-U", "postgres", "--no-locale", "-E", "UTF8",
                              "--no-sync"], asServerUser: true)
        guard initdb.status == 0 else { throw Failure.commandFailed(command: "initdb", output: initdb.output) }
        atexit { if case .success(let folder) = ThrowawayPostgres.template { try? FileManager.default.removeItem(atPath: folder) } }
        return folder
    }

    /// Copies the template, picks a free port and starts the server with `settings`; returns
    /// once it accepts connections (pg_ctl -w, within `timeout` seconds).
    public init(settings: Settings, timeout: Int = 30) throws {
        _ = try Self.requireBinaries()
        let template = try Self.template.get()
        self.settings = settings
        // The port names the socket file in our folder; a free TCP port keeps it apart from any
        // other server's shared memory keys and from a system cluster's socket name.
        port = try Self.freePort()
        directory = try Self.makeOwnedFolder()
        do {
            let copy = try Self.run(["/bin/cp", "-a", template + "/data", directory + "/data"], asServerUser: true)
            guard copy.status == 0 else { throw Failure.commandFailed(command: "copying the template cluster", output: copy.output) }
            try startServer(timeout: timeout)
        } catch {
            // A start that timed out may have left a server running: stop it, then the folder goes.
            stop(mode: "immediate")
            throw error
        }
    }

    deinit { stop() }

    /// Starts the server on its folder (again, after `stopServer`); returns once it accepts connections.
    public func startServer(timeout: Int = 30) throws {
        let bin = try Self.requireBinaries()
        let options = "-c listen_addresses='' -k \(directory) -c port=\(port) " + settings.serverOptions
        let start = try Self.run([bin + "/pg_ctl", "-D", directory + "/data", "-l", directory + "/log", "-w", "-t", String(timeout),
                                  "-o", options, "start"], asServerUser: true)
        guard start.status == 0 else { throw Failure.commandFailed(command: "pg_ctl start", output: start.output + "\n" + log) }
    }

    /// Stops the server and keeps the folder (`immediate`: as a crash, with recovery at the next
    /// start), for a database that goes away and comes back.
    public func stopServer(mode: String = "immediate") throws {
        let bin = try Self.requireBinaries()
        let stop = try Self.run([bin + "/pg_ctl", "-D", directory + "/data", "-m", mode, "-w", "-t", "30", "stop"], asServerUser: true)
        guard stop.status == 0 else { throw Failure.commandFailed(command: "pg_ctl stop", output: stop.output) }
    }

    /// `pg_ctl stop` with `mode` (fast: clean; immediate: as a crash), then the folder goes. Once only.
    public func stop(mode: String = "fast") {
        let isFirst = lock.withLock {
            defer { isStopped = true }
            return !isStopped
        }
        guard isFirst, let bin = Self.binaries else { return }
        _ = try? Self.run([bin + "/pg_ctl", "-D", directory + "/data", "-m", mode, "-w", "-t", "30", "stop"], asServerUser: true)
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// A libpq connection string for `database` as the superuser `postgres`.
    public func conninfo(database: String = "postgres") -> String {
        "host=\(directory) port=\(port) user=postgres dbname=\(database)"
    }

    /// Runs `sql` through psql as the superuser; returns what it printed (unaligned, tuples only).
    public func psql(_ sql: String, database: String = "postgres") throws -> String {
        let result = try client("psql", ["-X", "-A", "-t", "-d", database, "-c", sql])
        guard result.status == 0 else { throw Failure.commandFailed(command: "psql", output: result.output) }
        return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Runs the client program `name` (psql, pgbench, ...) from the server's binaries against
    /// this server as the superuser (`-h`, `-p` and `-U` come first); its status and output.
    public func client(_ name: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let bin = try Self.requireBinaries()
        return try Self.run([bin + "/" + name, "-h", directory, "-p", String(port), "-U", "postgres"] + arguments, asServerUser: false)
    }

    /// The server's log so far, for failure messages.
    public var log: String { (try? String(contentsOfFile: directory + "/log", encoding: .utf8)) ?? "" }

    private static func requireBinaries() throws -> String {
        guard let bin = binaries else { throw Failure.unavailable(unavailableReason ?? "no PostgreSQL") }
        return bin
    }

    /// A `mktemp -d` folder owned by the server's user.
    private static func makeOwnedFolder() throws -> String {
        var template = Array("/tmp/orderdesk-pg-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw Failure.system(call: "mkdtemp", message: String(cString: strerror(errno))) }
        let folder = String(cString: made)
        if geteuid() == 0, let user = getpwnam("postgres") {
            guard chown(folder, user.pointee.pw_uid, user.pointee.pw_gid) == 0 else {
                throw Failure.system(call: "chown \(folder)", message: String(cString: strerror(errno)))
            }
        }
        return folder
    }

    /// A TCP port nobody listens on at this moment.
    private static func freePort() throws -> UInt16 {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw Failure.system(call: "socket", message: String(cString: strerror(errno))) }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0 }
        }
        guard bound else { throw Failure.system(call: "bind", message: String(cString: strerror(errno))) }
        return UInt16(bigEndian: address.sin_port)
    }

    /// Runs a command to its end (as the `postgres` user when we are root and `asServerUser`);
    /// returns its exit status and what it printed. posix_spawn and waitpid rather than
    /// Foundation's Process, whose waitUntilExit hung here on an exited runuser while tests ran
    /// in parallel; output goes through a file, not a pipe, so a server that pg_ctl starts
    /// cannot hold it open.
    static func run(_ arguments: [String], asServerUser: Bool) throws -> (status: Int32, output: String) {
        let command = asServerUser && geteuid() == 0 ? ["/usr/sbin/runuser", "-u", "postgres", "--"] + arguments : arguments
        let outputPath = NSTemporaryDirectory() + "orderdesk-pg-output-" + UUID().uuidString
        defer { unlink(outputPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var argv: [UnsafeMutablePointer<CChar>?] = command.map { strdup($0) } + [nil]
        defer { for argument in argv { free(argument) } }
        var pid: pid_t = 0
        let spawned = posix_spawnp(&pid, command[0], &actions, nil, &argv, environ)
        guard spawned == 0 else { throw Failure.system(call: "posix_spawn \(command[0])", message: String(cString: strerror(spawned))) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { throw Failure.system(call: "waitpid", message: String(cString: strerror(errno))) }
        }
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        // WIFEXITED / WEXITSTATUS are macros Swift does not import.
        let exited = status & 0x7F == 0
        return (exited ? (status >> 8) & 0xFF : 128 + (status & 0x7F), text)
    }
}
