import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension Scenarios {
    // MARK: Capture cycle: the like-for-like of beanstalkd's put -> reserve -> delete

    /// N admin sessions loop CAPTURE -> NEXT -> MOVE released, every step durable, on a desk that
    /// starts with no open orders: the order a session captures goes into `new`, a NEXT (its own
    /// or another session's) claims it, the MOVE takes it out of every queue, as beanstalkd's put,
    /// reserve and delete do with a job. Logins happen before the measured window.
    func captureCycle(sessions: Int) throws -> [String: Double] {
        let path = directory + "/capture-\(sessions).sqlite"
        try BenchData.prepare(path: path, processors: 1, watchers: 0, orders: 0, admins: sessions)
        let server = try BenchServer(data: path)
        defer { server.stop() }
        return try measureCaptureCycle(on: server, sessions: sessions, label: "capture cycle (CAPTURE -> NEXT -> MOVE released)")
    }

    /// The capture cycle's CAPTURE line (the TCP cycle, and the in-process rules and store scenarios).
    static func captureLine(_ number: String, cycle: Int) -> String {
        "CAPTURE \(number) customer=\"Acme Corp\" rep=rep po=PO-\(cycle) lines=WID-100:3:10.50"
    }

    /// The capture cycle's measured loop on `server`, whose desk has admins a1...aN and no open
    /// orders; prints one line that starts with `label`. rate: cycles/s; cpu: the server
    /// process's CPU µs per cycle; p99: the cycle's, in µs; cycles: how many.
    func measureCaptureCycle(on server: BenchServer, sessions: Int, label: String) throws -> [String: Double] {
        try measureCaptureCycle(on: [server], sessions: sessions, label: label)
    }

    /// The capture cycle with the sessions spread over `servers` (cluster nodes) in turn; the
    /// server CPU is theirs together.
    func measureCaptureCycle(on servers: [BenchServer], sessions: Int, label: String) throws -> [String: Double] {
        let clients = try (1...sessions).map { index -> BenchClient in
            let client = try BenchClient(port: servers[(index - 1) % servers.count].port)
            _ = try client.readLine()
            guard try client.request("LOGIN a\(index) a\(index)").hasPrefix("OK") else { throw BenchError("login a\(index) failed") }
            return client
        }
        let duration = options.quick ? 1.0 : options.duration
        let results = Shared<(cycles: Int, cycle: Samples, errors: [String])>((0, Samples(), []))
        let cpuOfServers = { servers.reduce(0.0) { $0 + ProcessStats.cpuSeconds($1.pid) } }
        let switchesOfServers = { servers.reduce(0) { $0 + ProcessStats.contextSwitches($1.pid) } }
        let cpuBefore = cpuOfServers()
        let switchesBefore = switchesOfServers()
        let started = monotonicNanoseconds()
        let stop = started + UInt64(duration * 1e9)
        onThreads(sessions) { index in
            let client = clients[index]
            var cycle = Samples()
            var cycles = 0
            var error: String?
            while monotonicNanoseconds() < stop {
                do {
                    let t0 = monotonicNanoseconds()
                    let number = "SO-\(index + 1)-\(cycles)"
                    let captured = try client.request(Self.captureLine(number, cycle: cycles))
                    guard captured.hasPrefix("OK") else { error = "CAPTURE: \(captured)"; break }
                    let claimed = try client.request("NEXT")
                    guard claimed.hasPrefix("OK order=") else { error = "NEXT: \(claimed)"; break }
                    let order = claimed.dropFirst(9).prefix { $0 != " " }
                    let moved = try client.request("MOVE \(order) released")
                    guard moved.hasPrefix("OK") else { error = "MOVE: \(moved)"; break }
                    cycle.add(Double(monotonicNanoseconds() - t0) / 1000)
                    cycles += 1
                } catch let failure {
                    error = "\(failure)"
                    break
                }
            }
            results.update {
                $0.cycles += cycles
                $0.cycle.merge(cycle)
                if let error { $0.errors.append(error) }
            }
        }
        let elapsed = Double(monotonicNanoseconds() - started) / 1e9
        let cpu = cpuOfServers() - cpuBefore
        let switches = switchesOfServers() - switchesBefore
        let result = results.current
        if !result.errors.isEmpty { say("  errors: \(result.errors.prefix(3))") }
        let rate = Double(result.cycles) / elapsed
        let cpuPerCycle = result.cycles > 0 ? cpu / Double(result.cycles) * 1e6 : 0
        let switchesPerCycle = result.cycles > 0 ? Double(switches) / Double(result.cycles) : 0
        say("\(label), \(sessions) sessions: \(result.cycles) cycles in \(String(format: "%.1f", elapsed)) s = \(String(format: "%.0f", rate)) cycles/s; server CPU \(String(format: "%.1f", cpuPerCycle)) µs/cycle, \(String(format: "%.1f", switchesPerCycle)) thread switches/cycle; cycle \(result.cycle.summary)")
        return ["rate": rate, "cpu": cpuPerCycle, "p99": result.cycle.percentile(0.99), "cycles": Double(result.cycles), "switches": switchesPerCycle]
    }

    // MARK: NOTE on a short thread and on a long one

    /// Server CPU per NOTE on orders with 20 notes and on one with 3,000. One session pipelines
    /// NOTEs in batches of 100 (so commits are shared and the figure is the desk's work, not
    /// one fsync per NOTE): 1,000 NOTEs spread over 50 orders of 20 notes each (they end with
    /// 40), then 1,000 on the order of 3,000 (it ends with 4,000).
    func noteCost() throws -> [String: Double] {
        let path = directory + "/notes.sqlite"
        let longThread = 3_000
        try BenchData.prepare(path: path, processors: 1, watchers: 0, orders: 51,
                              notes: Dictionary(uniqueKeysWithValues: (0...50).map { ($0, $0 == 50 ? longThread : 20) }))
        let server = try BenchServer(data: path)
        defer { server.stop() }
        let client = try BenchClient(port: server.port)
        _ = try client.readLine()
        guard try client.request("LOGIN p1 p1").hasPrefix("OK") else { throw BenchError("login p1 failed") }
        let total = options.quick ? 200 : 1_000
        let batch = 100
        func measure(_ orders: [String]) throws -> Double {
            // One warm-up batch, not counted.
            for round in 0..<2 {
                let count = round == 0 ? batch : total
                let before = ProcessStats.cpuSeconds(server.pid)
                var sent = 0
                while sent < count {
                    let lines = (sent..<min(count, sent + batch)).map { "NOTE \(orders[$0 % orders.count]) checked stock and credit, note \($0)\n" }
                    try client.send(lines.joined())
                    for _ in lines {
                        let reply = try client.readReply()
                        guard reply.hasPrefix("OK") else { throw BenchError("NOTE: \(reply)") }
                    }
                    sent += lines.count
                }
                if round == 1 { return (ProcessStats.cpuSeconds(server.pid) - before) / Double(count) * 1e6 }
            }
            return 0
        }
        let short = try measure((0..<50).map { "SO-\(1_000_000 + $0)" })
        let long = try measure(["SO-\(1_000_050)"])
        say(String(format: "NOTE, server CPU per NOTE: %.1f µs on orders with 20 notes, %.1f µs on an order with %d notes (%.1f×)", short, long, longThread, long / max(short, 0.001)))
        return ["short": short, "long": long]
    }
}
