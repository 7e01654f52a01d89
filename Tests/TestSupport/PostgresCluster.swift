import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A throwaway PostgreSQL server for one test: its own data folder under /tmp, reached only
/// through a Unix socket in that folder (`listen_addresses=''`), stopped and removed by `stop()`.
///
/// initdb and postgres refuse to run as root, so under root every server command runs as the
/// `postgres` user (`runuser`), which owns the folder. initdb runs once per test process into a
/// template folder that each cluster copies (a copy and a start take a fraction of a second,
/// initdb more than a second). Tests that need one check `PostgresCluster.isAvailable` (or
/// `unavailableReason`) and are skipped with that reason on a machine without the server.
public final class PostgresCluster: @unchecked Sendable {  // immutable after init; stop() is idempotent under `stopped`
    /// The cluster's folder: data/, the log and the socket.
    public let directory: String
    public let port: UInt16
    private let stopped = Locked(false)

    /// Why tests cannot start a cluster here, or nil when they can.
    public static let unavailableReason: String? = {
        guard let bin = serverBinaries else { return "PostgreSQL server binaries not found (pg_config --bindir; apt install postgresql-15)" }
        guard FileManager.default.isExecutableFile(atPath: bin + "/initdb"), FileManager.default.isExecutableFile(atPath: bin + "/pg_ctl") else {
            return "no initdb or pg_ctl in \(bin) (apt install postgresql-15)"
        }
        if geteuid() == 0, getpwnam("postgres") == nil { return "running as root and there is no postgres user to run the server as" }
        return nil
    }()

    public static var isAvailable: Bool { unavailableReason == nil }

    /// `pg_config --bindir`: where initdb, pg_ctl and postgres are.
    static let serverBinaries: String? = {
        guard let result = try? run(["/usr/bin/env", "pg_config", "--bindir"], asServerUser: false), result.status == 0 else { return nil }
        let path = result.output.trimmingCharacters(in: .whitespacesAndNewlines)
        return path.isEmpty ? nil : path
    }()

    /// A freshly initialised data folder every cluster copies, made on first use.
    private static let template: Result<String, Error> = Result {
        guard let bin = serverBinaries else { throw LineClient.Failure(description: unavailableReason ?? "no PostgreSQL") }
        let folder = try makeOwnedFolder()
        let initdb = try run([bin + "/initdb", "-D", folder + "/data", "-A", "trust", "-U", "postgres", "--no-locale", "-E", "UTF8",
                              "--no-sync"], asServerUser: true)
        guard initdb.status == 0 else { throw LineClient.Failure(description: "initdb failed: \(initdb.output)") }
        atexit { if case .success(let folder) = PostgresCluster.template { try? FileManager.default.removeItem(atPath: folder) } }
        return folder
    }

    /// Copies the template, picks a free port and starts the server; returns once it accepts
    /// connections (pg_ctl -w, within `timeout` seconds).
    public init(timeout: Int = 30) throws {
        guard let bin = Self.serverBinaries else { throw LineClient.Failure(description: Self.unavailableReason ?? "no PostgreSQL") }
        let template = try Self.template.get()
        directory = try Self.makeOwnedFolder()
        port = try Self.freePort()
        let copy = try Self.run(["/bin/cp", "-a", template + "/data", directory + "/data"], asServerUser: true)
        guard copy.status == 0 else { throw LineClient.Failure(description: "copying the template cluster failed: \(copy.output)") }
        // The port names the socket file in our folder; a free TCP port keeps it apart from any
        // other server's shared memory keys and from a system cluster's socket name.
        do {
            try startServer(timeout: timeout)
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
    }

    /// Starts the server on the cluster's folder (again, after `stopServer`); returns once it
    /// accepts connections.
    public func startServer(timeout: Int = 30) throws {
        guard let bin = Self.serverBinaries else { throw LineClient.Failure(description: Self.unavailableReason ?? "no PostgreSQL") }
        let options = "-c listen_addresses='' -k \(directory) -c port=\(port) -c fsync=off -c max_connections=40"
        let start = try Self.run([bin + "/pg_ctl", "-D", directory + "/data", "-l", directory + "/log", "-w", "-t", String(timeout),
                                  "-o", options, "start"], asServerUser: true)
        guard start.status == 0 else { throw LineClient.Failure(description: "pg_ctl start failed: \(start.output)\n\(log)") }
    }

    /// Stops the server and keeps the folder (`immediate`: as a crash, with recovery at the next
    /// start), for tests of a database that goes away and comes back.
    public func stopServer(mode: String = "immediate") throws {
        guard let bin = Self.serverBinaries else { return }
        let stop = try Self.run([bin + "/pg_ctl", "-D", directory + "/data", "-m", mode, "-w", "-t", "30", "stop"], asServerUser: true)
        guard stop.status == 0 else { throw LineClient.Failure(description: "pg_ctl stop failed: \(stop.output)") }
    }

    /// Runs `sql` through psql as the superuser; returns what it printed (unaligned, tuples only).
    public func psql(_ sql: String, database: String = "postgres") throws -> String {
        guard let bin = Self.serverBinaries else { throw LineClient.Failure(description: "no PostgreSQL") }
        let result = try Self.run([bin + "/psql", "-X", "-A", "-t", "-h", directory, "-p", String(port), "-U", "postgres", "-d", database,
                                   "-c", sql], asServerUser: false)
        guard result.status == 0 else { throw LineClient.Failure(description: "psql failed: \(result.output)") }
        return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    deinit { stop() }

    /// A libpq connection string for `database` as the superuser `postgres`.
    public func conninfo(database: String = "postgres") -> String {
        "host=\(directory) port=\(port) user=postgres dbname=\(database)"
    }

    /// `pg_ctl stop` with `mode` (fast: clean; immediate: as a crash), then the folder goes.
    public func stop(mode: String = "fast") {
        let first = stopped.withLock { wasStopped in
            defer { wasStopped = true }
            return !wasStopped
        }
        guard first, let bin = Self.serverBinaries else { return }
        _ = try? Self.run([bin + "/pg_ctl", "-D", directory + "/data", "-m", mode, "-w", "-t", "30", "stop"], asServerUser: true)
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// The server's log so far, for failure messages.
    public var log: String { (try? String(contentsOfFile: directory + "/log", encoding: .utf8)) ?? "" }

    /// A `mktemp -d` folder owned by the server's user.
    private static func makeOwnedFolder() throws -> String {
        var template = Array("/tmp/orderdesk-pg-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw LineClient.Failure(description: "mkdtemp: \(String(cString: strerror(errno)))") }
        let folder = String(cString: made)
        if geteuid() == 0, let user = getpwnam("postgres") {
            guard chown(folder, user.pointee.pw_uid, user.pointee.pw_gid) == 0 else {
                throw LineClient.Failure(description: "chown \(folder): \(String(cString: strerror(errno)))")
            }
        }
        return folder
    }

    /// A TCP port nobody listens on at this moment.
    private static func freePort() throws -> UInt16 {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw LineClient.Failure(description: "socket: \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0 }
        }
        guard bound else { throw LineClient.Failure(description: "bind: \(String(cString: strerror(errno)))") }
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
        guard spawned == 0 else { throw LineClient.Failure(description: "cannot run \(command[0]): \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { throw LineClient.Failure(description: "waitpid: \(String(cString: strerror(errno)))") }
        }
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        // WIFEXITED / WEXITSTATUS are macros Swift does not import.
        let exited = status & 0x7F == 0
        return (exited ? (status >> 8) & 0xFF : 128 + (status & 0x7F), text)
    }
}
