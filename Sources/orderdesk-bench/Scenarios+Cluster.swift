import Foundation
import OrderDeskOps
import OrderDeskServer
#if canImport(Glibc)
import Glibc
#endif

extension Scenarios {
    // MARK: Cluster: the capture cycle over PostgreSQL, beside pgbench on the same server

    /// Figures of the cluster scenario for one session count.
    struct ClusterFigures {
        /// The desk's capture cycle over PostgreSQL: rate, cpu (orderdesk's µs per cycle), p99.
        var desk: [String: Double]
        /// PostgreSQL's CPU per cycle (all its processes), µs.
        var postgresCPU: Double
        /// Transactions PostgreSQL committed per cycle in the desk's database.
        var commitsPerCycle: Double
        /// pgbench simple-update with as many clients, on the same server; nil if it failed.
        var pgbenchTPS: Double?
        /// The same cycle on an active-active cluster of 1, 2 and 3 nodes, the
        /// sessions spread over them: rate, cpu (the nodes' µs per cycle together), p99.
        var clusterNodes: [Int: [String: Double]] = [:]
    }

    /// For each session count, the capture cycle (CAPTURE -> NEXT -> MOVE released) with the
    /// desk kept in a throwaway PostgreSQL (fsync and synchronous_commit on), one serving node,
    /// then pgbench's built-in simple-update with as many clients against the same server; and
    /// the fan-out to W watchers over it. Nil when this machine has no PostgreSQL server.
    func cluster(sessionCounts: [Int]) throws -> (cycles: [Int: ClusterFigures], fanOut: [String: Double]?)? {
        if let reason = ThrowawayPostgres.unavailableReason {
            say("cluster: skipped: \(reason)")
            return nil
        }
        let postgres = try ThrowawayPostgres(settings: ThrowawayPostgres.Settings(fsync: true, synchronousCommit: true, maximumConnections: 200))
        defer { postgres.stop() }
        let version = (try? postgres.psql("SHOW server_version")) ?? "?"
        say("cluster: a throwaway PostgreSQL \(version) on a Unix socket, fsync=on, synchronous_commit=on (every acknowledged step is on disk); "
            + "1 serving node (standbys wait), then active-active nodes at the largest session count (docs/CLUSTER.md)")
        // pgbench's -T takes whole seconds.
        let duration = options.quick ? 1 : max(1, Int(options.duration.rounded()))
        let pgbenchReady = preparePgbench(postgres)
        var cycles: [Int: ClusterFigures] = [:]
        for count in sessionCounts {
            let database = "desk_\(count)"
            _ = try postgres.psql("CREATE DATABASE \(database)")
            let conninfo = postgres.conninfo(database: database)
            // The seeding store's session ends (and frees the desk lock) when it is released here.
            try BenchData.prepare(into: try PostgresStore(conninfo: conninfo), processors: 1, watchers: 0, orders: 0, admins: count)
            let server = try BenchServer(store: .postgres(conninfo: conninfo))
            defer { server.stop() }  // on a throw too; stopping twice is harmless
            let commitsBefore = committed(postgres, database: database)
            let cpuBefore = postgresCPUSeconds(postgres)
            let desk = try measureCaptureCycle(on: server, sessions: count, label: "cluster: capture cycle over PostgreSQL, 1 node")
            let postgresCPU = postgresCPUSeconds(postgres) - cpuBefore
            server.stop()
            // After the server's session has ended, so its statistics are flushed.
            let commits = committed(postgres, database: database) - commitsBefore
            let done = desk["cycles"] ?? 0
            var figures = ClusterFigures(desk: desk, postgresCPU: done > 0 ? postgresCPU / done * 1e6 : 0,
                                         commitsPerCycle: done > 0 ? Double(commits) / done : 0, pgbenchTPS: nil)
            say(String(format: "  PostgreSQL CPU %.1f µs/cycle (all its processes); %.2f commits/cycle in the desk's database", figures.postgresCPU, figures.commitsPerCycle))
            if pgbenchReady { figures.pgbenchTPS = pgbench(postgres, clients: count, seconds: duration) }
            // Active-active at the largest session count: 1 node, then 2 over one database.
            if count == sessionCounts.max() {
                for nodes in [1, 2, 3] {
                    let database = "desk_\(count)_\(nodes)n"
                    _ = try postgres.psql("CREATE DATABASE \(database)")
                    let conninfo = postgres.conninfo(database: database)
                    try BenchData.prepare(into: try PostgresStore(conninfo: conninfo), processors: 1, watchers: 0, orders: 0, admins: count)
                    var servers: [BenchServer] = []
                    defer { for server in servers { server.stop() } }
                    for node in 1...nodes { servers.append(try BenchServer(store: .cluster(conninfo: conninfo, node: "n\(node)"))) }
                    figures.clusterNodes[nodes] = try measureCaptureCycle(on: servers, sessions: count,
                                                                          label: "cluster: capture cycle, active-active, \(nodes) node\(nodes == 1 ? "" : "s")")
                }
            }
            cycles[count] = figures
        }
        let fan = try fanOut(label: "cluster: fan-out over PostgreSQL") { watchers in
            _ = try postgres.psql("CREATE DATABASE desk_fanout")
            try BenchData.prepare(into: try PostgresStore(conninfo: postgres.conninfo(database: "desk_fanout")), processors: 1, watchers: watchers, orders: 10)
            return .postgres(conninfo: postgres.conninfo(database: "desk_fanout"))
        }
        _ = try fanOut(label: "cluster: fan-out, active-active, watchers spread over 2 nodes", stores: { watchers in
            _ = try postgres.psql("CREATE DATABASE desk_fanout2")
            let conninfo = postgres.conninfo(database: "desk_fanout2")
            try BenchData.prepare(into: try PostgresStore(conninfo: conninfo), processors: 1, watchers: watchers, orders: 10)
            return [.cluster(conninfo: conninfo, node: "n1"), .cluster(conninfo: conninfo, node: "n2")]
        })
        return (cycles, fan)
    }

    /// `pgbench -i -s 1` into a database of its own, apart from the desk's tables; false (said) if it failed.
    private func preparePgbench(_ postgres: ThrowawayPostgres) -> Bool {
        do {
            _ = try postgres.psql("CREATE DATABASE pgbench")
            let initialised = try postgres.client("pgbench", ["-i", "-s", "1", "-q", "pgbench"])
            guard initialised.status == 0 else { throw ThrowawayPostgres.Failure.commandFailed(command: "pgbench -i", output: initialised.output) }
            return true
        } catch {
            say("cluster: pgbench skipped: \(error)")
            return false
        }
    }

    /// pgbench's built-in simple-update with `clients` clients on 2 threads for `seconds`; its tps.
    private func pgbench(_ postgres: ThrowawayPostgres, clients: Int, seconds: Int) -> Double? {
        let arguments = ["-c", String(clients), "-j", String(min(2, clients)), "-T", String(seconds), "-b", "simple-update", "pgbench"]
        guard let result = try? postgres.client("pgbench", arguments), result.status == 0,
              let line = result.output.split(separator: "\n").first(where: { $0.hasPrefix("tps = ") }),
              let tps = Double(line.dropFirst(6).prefix { $0 != " " }) else {
            say("  pgbench -b simple-update -c \(clients) failed")
            return nil
        }
        say(String(format: "  pgbench -b simple-update -c %d -j %d -T %d, same server: %.0f tps", clients, min(2, clients), seconds, tps))
        return tps
    }

    /// Transactions committed in `database` so far (pg_stat_database; a backend reports its
    /// own within a second, and when it ends).
    private func committed(_ postgres: ThrowawayPostgres, database: String) -> Int {
        Int((try? postgres.psql("SELECT xact_commit FROM pg_stat_database WHERE datname = '\(database)'")) ?? "") ?? 0
    }

    /// CPU seconds used by the postmaster and the processes it runs now (backends, WAL writer,
    /// checkpointer); a backend that ended meanwhile is not counted.
    private func postgresCPUSeconds(_ postgres: ThrowawayPostgres) -> Double {
        guard let pidFile = try? String(contentsOfFile: postgres.directory + "/data/postmaster.pid", encoding: .utf8),
              let postmaster = pidFile.split(separator: "\n").first.flatMap({ Int32($0) }) else { return 0 }
        var total = ProcessStats.cpuSeconds(postmaster)
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            // After the command: state, then the parent's pid.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 1, Int32(fields[1]) == postmaster { total += ProcessStats.cpuSeconds(pid) }
        }
        return total
    }
}
