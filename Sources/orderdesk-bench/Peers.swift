import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The same loads against the servers users compare us with: beanstalkd's put -> reserve ->
/// delete cycle, and Redis pub/sub fan-out. Each runs only if its server is installed.
struct Peers {
    let options: BenchOptions
    let directory: String

    static func which(_ name: String) -> String? {
        for folder in ["/usr/bin", "/usr/sbin", "/usr/local/bin"] where access(folder + "/" + name, X_OK) == 0 {
            return folder + "/" + name
        }
        return nil
    }

    /// Starts a peer server process and waits until it accepts connections.
    static func launch(_ path: String, _ arguments: [String], port: UInt16) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = monotonicNanoseconds() + 10_000_000_000
        while monotonicNanoseconds() < deadline {
            if (try? BenchClient(port: port)) != nil { return process }
            usleep(20_000)
        }
        process.terminate()
        throw BenchError("\(path) did not start")
    }

    static func freePort() -> UInt16 {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) } }
        return UInt16(bigEndian: address.sin_port)
    }

    /// beanstalkd's cycle with N sessions; `durable` runs it with a binlog fsynced on every write.
    func beanstalk(sessions: Int, durable: Bool) throws -> [String: Double]? {
        guard let binary = Self.which("beanstalkd") else {
            say("beanstalkd: not installed; `apt-get install beanstalkd` to compare with it")
            return nil
        }
        let port = Self.freePort()
        var arguments = ["-l", "127.0.0.1", "-p", String(port)]
        if durable {
            let binlog = directory + "/beanstalk-binlog"
            try? FileManager.default.removeItem(atPath: binlog)
            try FileManager.default.createDirectory(atPath: binlog, withIntermediateDirectories: true)
            arguments += ["-b", binlog, "-f", "0"]
        }
        let process = try Self.launch(binary, arguments, port: port)
        defer { process.terminate(); process.waitUntilExit() }
        let clients = try (0..<sessions).map { _ in try BenchClient(port: port) }
        let duration = options.quick ? 1.0 : options.duration
        let results = Shared<(cycles: Int, cycle: Samples, errors: [String])>((0, Samples(), []))
        let cpuBefore = ProcessStats.cpuSeconds(process.processIdentifier)
        let switchesBefore = ProcessStats.contextSwitches(process.processIdentifier)
        let started = monotonicNanoseconds()
        let stop = started + UInt64(duration * 1e9)
        onThreads(sessions) { index in
            let client = clients[index]
            var cycle = Samples()
            var cycles = 0
            var error: String?
            do {
                while monotonicNanoseconds() < stop {
                    let t0 = monotonicNanoseconds()
                    try client.send("put 0 0 60 31\r\nSO-1000000 checked stock/credit\r\n")
                    guard let inserted = try client.readLine(), inserted.hasPrefix("INSERTED") else { error = "put"; break }
                    try client.send("reserve\r\n")
                    guard let reserved = try client.readLine(), reserved.hasPrefix("RESERVED") else { error = "reserve"; break }
                    _ = try client.readLine()
                    let id = reserved.split(separator: " ")[1]
                    try client.send("delete \(id)\r\n")
                    guard let deleted = try client.readLine(), deleted.hasPrefix("DELETED") else { error = "delete"; break }
                    cycle.add(Double(monotonicNanoseconds() - t0) / 1000)
                    cycles += 1
                }
            } catch let failure {
                error = "\(failure)"
            }
            results.update {
                $0.cycles += cycles
                $0.cycle.merge(cycle)
                if let error { $0.errors.append(error) }
            }
        }
        let elapsed = Double(monotonicNanoseconds() - started) / 1e9
        let cpu = ProcessStats.cpuSeconds(process.processIdentifier) - cpuBefore
        let switches = ProcessStats.contextSwitches(process.processIdentifier) - switchesBefore
        let result = results.current
        let rate = Double(result.cycles) / elapsed
        let cpuPerCycle = result.cycles > 0 ? cpu / Double(result.cycles) * 1e6 : 0
        let switchesPerCycle = result.cycles > 0 ? Double(switches) / Double(result.cycles) : 0
        say("beanstalkd \(durable ? "fsync every write (-b -f 0)" : "in memory"), \(sessions) sessions: \(String(format: "%.0f", rate)) cycles/s; server CPU \(String(format: "%.1f", cpuPerCycle)) µs/cycle, \(String(format: "%.1f", switchesPerCycle)) thread switches/cycle; cycle \(result.cycle.summary)")
        if !result.errors.isEmpty { say("  errors: \(result.errors.prefix(3))") }
        return ["rate": rate, "cpu": cpuPerCycle, "switches": switchesPerCycle]
    }

    /// Redis pub/sub: W subscribers, one PUBLISH, latency from its reply to receipt at each.
    func redisFanOut() throws -> [String: Double]? {
        guard let binary = Self.which("redis-server") else {
            say("redis: not installed; `apt-get install redis-server` to compare fan-out with it")
            return nil
        }
        let port = Self.freePort()
        var arguments = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--maxclients", "20000"]
        if let files = BenchTLS.files {
            arguments = ["--port", "0", "--tls-port", String(port), "--tls-cert-file", files.certificate, "--tls-key-file", files.key,
                         "--tls-ca-cert-file", files.ca, "--tls-auth-clients", "no"] + arguments.dropFirst(2)
            try BenchTLS.serve(port: port)
        }
        let process = try Self.launch(binary, arguments, port: port)
        defer { process.terminate(); process.waitUntilExit() }
        let watchers = options.quick ? 100 : 1000
        let rounds = options.quick ? 3 : 20
        var sockets: [BenchClient] = []
        for _ in 0..<watchers {
            let client = try BenchClient(port: port)
            try client.send("SUBSCRIBE orders\r\n")
            for _ in 0..<6 { _ = try client.readLine() }  // *3 $9 subscribe $6 orders :1
            sockets.append(client)
        }
        let publisher = try BenchClient(port: port)
        var all = Samples()
        var lasts = Samples()
        for round in 0..<rounds {
            let payload = "note SO-1000000 fan-out round \(round)"
            try publisher.send("PUBLISH orders \"\(payload)\"\r\n")
            _ = try publisher.readLine()
            let received = try Scenarios(options: options, directory: directory).receiptLatencies(sockets, since: monotonicNanoseconds()) { client in
                for _ in 0..<7 { _ = try client.readLine() }  // *3 $7 message $6 orders $N payload
            }
            all.merge(received)
            lasts.add(received.percentile(1.0))
        }
        say("redis pub/sub fan-out to \(watchers) subscribers, \(rounds) rounds: \(all.summary); time to the last p50 \(format(lasts.percentile(0.5)))")
        return ["p50": all.percentile(0.5), "p99": all.percentile(0.99), "last": lasts.percentile(0.5)]
    }
}
