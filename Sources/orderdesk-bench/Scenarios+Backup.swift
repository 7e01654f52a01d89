import Foundation
import OrderDeskOps
import OrderDeskServer
#if canImport(Glibc)
import Glibc
#endif

extension Scenarios {
    // MARK: 5. Backup

    /// What others see while `orderdesk backup` copies the restart scenario's big file: PING
    /// latency of sessions pinging every 10 ms and CAPTURE latency of writers capturing as fast
    /// as acknowledged, before, during and after the copy.
    func backup() throws -> [String: Double] {
        let (path, orders) = try restartFile()
        let server = try BenchServer(data: path)
        defer { server.stop() }
        let copy = directory + "/backup-copy.sqlite"
        unlink(copy)
        defer { unlink(copy) }
        let writers = 2
        let pingers = 4
        let isStopping = Shared(false)
        // (when it was sent, latency µs, is a write) for every request, from every session.
        let samples = Shared<[(at: UInt64, micros: Double, isWrite: Bool)]>([])
        let errors = Shared<[String]>([])
        let port = server.port
        let run = getpid()
        let finished = DispatchSemaphore(value: 0)
        let load = Thread {
            defer { finished.signal() }
            onThreads(writers + pingers) { index in
                var mine: [(at: UInt64, micros: Double, isWrite: Bool)] = []
                do {
                    let client = try BenchClient(port: port)
                    _ = try client.readLine()
                    let user = index < writers ? "shop" : ["p1", "p2", "p3", "rep"][(index - writers) % 4]
                    guard try client.request("LOGIN \(user) \(user)").hasPrefix("OK") else { throw BenchError("login \(user)") }
                    var count = 0
                    while !isStopping.current {
                        let isWrite = index < writers
                        let line = isWrite ? "CAPTURE BK\(run)-\(index)-\(count) customer=Load rep=rep po=PO-\(count) lines=WID-1:1:1.00" : "PING"
                        let sent = monotonicNanoseconds()
                        let reply = try client.request(line)
                        guard reply.hasPrefix("OK") else { throw BenchError("\(line): \(reply)") }
                        mine.append((sent, Double(monotonicNanoseconds() - sent) / 1000, isWrite))
                        count += 1
                        if !isWrite { usleep(10_000) }
                    }
                } catch {
                    errors.update { $0.append("\(error)") }
                }
                samples.update { $0 += mine }
            }
        }
        load.start()
        let window = options.quick ? 1.0 : 5.0
        // Warm-up first: the server's first minutes after start include its retention pass.
        usleep(UInt32((options.quick ? 0.5 : 10.0) * 1e6))
        usleep(UInt32(window * 1e6))
        let backupStart = monotonicNanoseconds()
        let tuning = options.backupTuning
        let summary = try Backup.run(from: path, to: copy, pagesPerStep: tuning.pagesPerStep, pause: tuning.pause, flushPages: tuning.flushPages)
        let backupEnd = monotonicNanoseconds()
        usleep(UInt32(window * 1e6))
        let afterEnd = monotonicNanoseconds()
        isStopping.update { $0 = true }
        finished.wait()
        if !errors.current.isEmpty { say("  errors: \(errors.current.prefix(3))") }
        let all = samples.current
        func pick(_ isWrite: Bool, _ range: Range<UInt64>) -> Samples {
            var picked = Samples()
            for sample in all where sample.isWrite == isWrite && range.contains(sample.at) { picked.add(sample.micros) }
            return picked
        }
        /// When, in seconds into `range`, the slowest request of the kind was sent.
        func worst(_ isWrite: Bool, _ range: Range<UInt64>) -> String {
            let slowest = all.filter { $0.isWrite == isWrite && range.contains($0.at) }.max { $0.micros < $1.micros }
            return slowest.map { String(format: "at +%.2f s", Double($0.at - range.lowerBound) / 1e9) } ?? "-"
        }
        let baseline = (backupStart - UInt64(window * 1e9))..<backupStart
        let during = backupStart..<backupEnd
        let after = backupEnd..<afterEnd
        say(String(format: "backup of %d orders (%d MiB, %d pages; %d pages a step, %d µs pauses, fsync every %d pages) while %d sessions ping and %d capture: %.1f s",
                   orders, Int(summary.bytes / 1_048_576), summary.pages, tuning.pagesPerStep, tuning.pause, tuning.flushPages,
                   pingers, writers, summary.seconds))
        for (name, range) in [("before", baseline), ("during", during), ("after", after)] {
            let pings = pick(false, range)
            let writes = pick(true, range)
            say("  \(name.padding(toLength: 6, withPad: " ", startingAt: 0)) PING \(pings.values.count): \(pings.summary)  max \(format(pings.percentile(1.0))) \(worst(false, range))")
            say("         CAPTURE \(writes.values.count): \(writes.summary)  max \(format(writes.percentile(1.0))) \(worst(true, range))")
        }
        let report = try DataFileCheck.run(path: copy)
        say("  check of the copy: \(report.isSound ? "ok" : report.problems.prefix(3).joined(separator: "; ")) (\(report.orders) orders)")
        let pingDuring = pick(false, during)
        return ["seconds": summary.seconds, "pingP99": pingDuring.percentile(0.99), "pingBaselineP99": pick(false, baseline).percentile(0.99)]
    }
}
