import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What to run, from the command line.
struct BenchOptions {
    static let usage = """
        usage: orderdesk-bench [--quick] [--scenario claim,capture,rules,store,note,fanout,idle,restart,neighbour,backup,peer,cluster] [--sessions 1,10,50]
                               [--duration SECONDS] [--restart-orders N] [--data-dir DIR] [--tls]

          --quick            a few seconds in all, small sizes (CI runs this; it checks nothing but that it runs)
          --scenario LIST    which scenarios (default: all)
          --sessions LIST    claim-, capture- and cluster-cycle session counts (default 1,10,50)
          --duration S       seconds per claim-cycle run (default 10; pgbench's in cluster, rounded)
        cluster: the capture cycle over a throwaway PostgreSQL (fsync on; skipped without the server),
                 beside pgbench -b simple-update on the same server, and the fan-out over it
          --restart-orders N orders in the restart and backup scenarios' data file (default 1000000)
          --data-dir DIR     keep data files in DIR and reuse the restart file on the next run
          --tls              the desk and Redis serve TLS only (a throwaway CA); every client speaks TLS
          --backup-tuning P:U:F  backup scenario: P pages per step, U µs pause, fsync every F pages (default 256:1000:512)
        Build it released: swift run -c release orderdesk-bench
        """

    var quick = false
    var help = false
    var tls = false
    var scenarios: Set<String> = ["claim", "capture", "rules", "store", "note", "fanout", "idle", "restart", "neighbour", "backup", "peer", "cluster"]
    var sessions = [1, 10, 50]
    var duration = 10.0
    var restartOrders = 1_000_000
    var dataDirectory: String?
    var backupTuning: (pagesPerStep: Int32, pause: UInt32, flushPages: Int) = (256, 1000, 512)

    init(_ arguments: [String]) throws {
        var iterator = arguments.makeIterator()
        while let argument = iterator.next() {
            func value() throws -> String {
                guard let next = iterator.next() else { throw BenchError("\(argument) needs a value") }
                return next
            }
            switch argument {
            case "--quick": quick = true
            case "--tls": tls = true
            case "--help", "-h": help = true
            case "--scenario": scenarios = Set(try value().split(separator: ",").map(String.init))
            case "--sessions": sessions = try value().split(separator: ",").map { guard let n = Int($0), n > 0 else { throw BenchError("bad --sessions") }; return n }
            case "--duration": guard let seconds = Double(try value()), seconds > 0 else { throw BenchError("bad --duration") }; duration = seconds
            case "--data-dir": dataDirectory = try value()
            case "--backup-tuning":
                let parts = try value().split(separator: ":")
                guard parts.count == 3, let pages = Int32(parts[0]), pages > 0, let pause = UInt32(parts[1]), let flush = Int(parts[2]), flush > 0 else {
                    throw BenchError("bad --backup-tuning; P:U:F, e.g. 256:1000:512")
                }
                backupTuning = (pages, pause, flush)
            case "--restart-orders": guard let count = Int(try value()), count > 0 else { throw BenchError("bad --restart-orders") }; restartOrders = count
            default: throw BenchError("unknown argument \(argument)\n\n" + Self.usage)
            }
        }
        if quick { sessions = Array(Set(sessions.map { min($0, 10) })).sorted() }
    }
}

/// Runs the chosen scenarios and prints a summary with the ratios to the peers.
struct BenchRun {
    let options: BenchOptions

    func run() throws {
        raiseFileLimit()
        let directory = options.dataDirectory ?? NSTemporaryDirectory() + "orderdesk-bench-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { if options.dataDirectory == nil { try? FileManager.default.removeItem(atPath: directory) } }
        printMachine()
        if options.tls {
            try BenchTLS.prepare(in: directory)
            say("tls: the desk and Redis serve TLS only; every client speaks TLS 1.3")
        }
        let scenarios = Scenarios(options: options, directory: directory)
        let peers = Peers(options: options, directory: directory)
        var claim: [Int: [String: Double]] = [:]
        if options.scenarios.contains("claim") {
            for count in options.sessions { claim[count] = try scenarios.claimCycle(sessions: count) }
        }
        var capture: [Int: [String: Double]] = [:]
        if options.scenarios.contains("capture") {
            for count in options.sessions { capture[count] = try scenarios.captureCycle(sessions: count) }
        }
        if options.scenarios.contains("rules") { _ = try scenarios.rulesCost() }
        if options.scenarios.contains("store") { _ = try scenarios.storeCost() }
        if options.scenarios.contains("note") { _ = try scenarios.noteCost() }
        var beanstalk: [Int: (memory: [String: Double]?, durable: [String: Double]?)] = [:]
        if options.scenarios.contains("peer") {
            for count in options.sessions {
                beanstalk[count] = (try peers.beanstalk(sessions: count, durable: false), try peers.beanstalk(sessions: count, durable: true))
            }
        }
        var fan: [String: Double]?
        var redis: [String: Double]?
        if options.scenarios.contains("fanout") {
            fan = try scenarios.fanOut()
            if options.scenarios.contains("peer") { redis = try peers.redisFanOut() }
        }
        if options.scenarios.contains("idle") { _ = try scenarios.idle() }
        if options.scenarios.contains("restart") { _ = try scenarios.restart() }
        if options.scenarios.contains("neighbour") { _ = try scenarios.noisyNeighbour() }
        if options.scenarios.contains("backup") { _ = try scenarios.backup() }
        let cluster = options.scenarios.contains("cluster") ? try scenarios.cluster(sessionCounts: options.sessions) : nil

        say("\nratios (orderdesk / peer, same run):")
        for count in options.sessions {
            guard let ours = claim[count]?["rate"], let peer = beanstalk[count] else { continue }
            if let memory = peer.memory?["rate"], let cpu = peer.memory?["cpu"], let ourCPU = claim[count]?["cpu"] {
                say(String(format: "  claim cycle %d sessions: %.2f× beanstalkd in memory; server CPU per cycle %.2f× beanstalkd's", count, ours / memory, ourCPU / cpu))
            }
            if let durable = peer.durable?["rate"] {
                say(String(format: "  claim cycle %d sessions: %.1f× beanstalkd with fsync", count, ours / durable))
            }
        }
        for count in options.sessions {
            guard let ours = capture[count], let rate = ours["rate"], let ourCPU = ours["cpu"], let peer = beanstalk[count] else { continue }
            if let memory = peer.memory?["rate"], let cpu = peer.memory?["cpu"] {
                say(String(format: "  capture cycle %d sessions: %.2f× beanstalkd in memory; server CPU per cycle %.1f× beanstalkd's", count, rate / memory, ourCPU / cpu))
            }
            if let switches = ours["switches"], let theirs = peer.memory?["switches"] {
                say(String(format: "  capture cycle %d sessions: %.1f thread switches per cycle in the desk, %.1f in beanstalkd in memory", count, switches, theirs))
            }
            if let durable = peer.durable?["rate"], let cpu = peer.durable?["cpu"] {
                say(String(format: "  capture cycle %d sessions: %.2f× beanstalkd with fsync; server CPU per cycle %.1f× beanstalkd's", count, rate / durable, ourCPU / cpu))
            }
        }
        for count in options.sessions {
            guard let figures = cluster?.cycles[count], let rate = figures.desk["rate"] else { continue }
            if let tps = figures.pgbenchTPS {
                say(String(format: "  cluster %d sessions: %.0f capture cycles/s over PostgreSQL (1 node) = %.2f× pgbench simple-update's %.0f tps", count, rate, rate / tps, tps))
            }
            if let sqlite = capture[count]?["rate"] {
                say(String(format: "  cluster %d sessions: %.2f× the capture cycle on SQLite", count, rate / sqlite))
            }
            for (nodes, active) in figures.clusterNodes.sorted(by: { $0.key < $1.key }) {
                guard let activeRate = active["rate"], let cpu = active["cpu"] else { continue }
                let versus = figures.pgbenchTPS.map { String(format: " = %.2f× pgbench's", activeRate / $0) } ?? ""
                say(String(format: "  cluster %d sessions, active-active, %d node%@: %.0f capture cycles/s%@; nodes' CPU %.0f µs/cycle", count, nodes,
                           nodes == 1 ? "" : "s", activeRate, versus, cpu))
            }
        }
        if let fan, let redis, let ours = fan["p99"], let theirs = redis["p99"] {
            say(String(format: "  fan-out p99: %@ vs redis %@ (%.2f×)", format(ours), format(theirs), ours / theirs))
        }
        say("bench: done")
    }

    private func printMachine() {
        let cpu = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("model name") }?.split(separator: ":").last?.trimmingCharacters(in: .whitespaces) ?? "unknown CPU"
        let memory = ProcessInfo.processInfo.physicalMemory / 1_073_741_824
        say("orderdesk-bench \(CommandLine.arguments.dropFirst().joined(separator: " "))")
        say("machine: \(ProcessInfo.processInfo.activeProcessorCount) cores (\(cpu)), \(memory) GiB; client and server share the cores")
        #if DEBUG
        say("build: DEBUG (figures are not representative; use swift run -c release orderdesk-bench)")
        #else
        say("build: release")
        #endif
        say("settings: SQLite WAL synchronous=FULL, group commit; bench users hash with \(BenchData.iterations) PBKDF2 iterations\n")
    }

    private func raiseFileLimit() {
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        limit.rlim_cur = limit.rlim_max
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }
}
