import Foundation

/// Scenario 5, "noisy neighbour" (issue 9): one admin session pipelines the heaviest look-ups
/// (FIND over every order with limit=1000, STUCK, METRICS, QUEUE new 1000) as fast as the
/// server answers, while other sessions PING; their PING latency is measured beside a baseline
/// taken in the same run without the neighbour.
extension Scenarios {
    func noisyNeighbour() throws -> [String: Double] {
        let orders = options.quick ? 5_000 : 100_000
        let quiet = 4
        let path = directory + "/neighbour.sqlite"
        try BenchData.prepare(path: path, processors: quiet, watchers: 0, orders: orders)
        let server = try BenchServer(data: path)
        defer { server.stop() }
        let pingers = try (1...quiet).map { index -> BenchClient in
            let client = try BenchClient(port: server.port)
            _ = try client.readLine()
            guard try client.request("LOGIN p\(index) p\(index)").hasPrefix("OK") else { throw BenchError("login p\(index) failed") }
            return client
        }
        let duration = options.quick ? 1.0 : min(options.duration, 10)
        func measurePings() -> Samples {
            let samples = Shared(Samples())
            let stop = monotonicNanoseconds() + UInt64(duration * 1e9)
            onThreads(pingers.count) { index in
                var mine = Samples()
                while monotonicNanoseconds() < stop {
                    let started = monotonicNanoseconds()
                    guard (try? pingers[index].request("PING")) != nil else { return }
                    mine.add(Double(monotonicNanoseconds() - started) / 1000)
                    usleep(2_000)
                }
                samples.update { $0.merge(mine) }
            }
            return samples.current
        }
        let baseline = measurePings()

        let noisy = try BenchClient(port: server.port)
        _ = try noisy.readLine()
        guard try noisy.request("LOGIN boss boss").hasPrefix("OK") else { throw BenchError("login boss failed") }
        let heavy = ["FIND so limit=1000", "STUCK limit=1000", "METRICS", "QUEUE new 1000"]
        let running = Shared(true)
        let answered = Shared(0)
        let done = DispatchSemaphore(value: 0)
        let worker = Thread {
            defer { done.signal() }
            var round = 0
            while running.current {
                let batch = (0..<20).map { heavy[($0 + round) % heavy.count] }.joined(separator: "\n") + "\n"
                round += 1
                guard (try? noisy.send(batch)) != nil else { return }
                for _ in 0..<20 { guard (try? noisy.readReply()) != nil else { return } }
                answered.update { $0 += 20 }
            }
        }
        worker.start()
        let cpuBefore = ProcessStats.cpuSeconds(server.pid)
        let loaded = measurePings()
        let cpu = ProcessStats.cpuSeconds(server.pid) - cpuBefore
        running.update { $0 = false }
        done.wait()
        let lookups = answered.current
        say("noisy neighbour: \(orders) orders; one session pipelining \(heavy.joined(separator: " | ")) answered \(lookups) look-ups "
            + String(format: "(%.0f/s, %.2f ms server CPU each)", Double(lookups) / duration, lookups > 0 ? cpu * 1000 / Double(lookups) : 0))
        say("  others' PING without it: p50 \(format(baseline.percentile(0.5))) p99 \(format(baseline.percentile(0.99))) (\(baseline.values.count) pings)")
        say("  others' PING beside it:  p50 \(format(loaded.percentile(0.5))) p99 \(format(loaded.percentile(0.99))) (\(loaded.values.count) pings)")
        return ["p99": loaded.percentile(0.99), "baselineP99": baseline.percentile(0.99), "lookups": Double(lookups)]
    }
}
