import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The benchmark's scenarios; each prints its figures and returns them for the summary.
struct Scenarios {
    let options: BenchOptions
    let directory: String

    // MARK: 1. Claim cycle

    /// N sessions loop NEXT -> NOTE -> MOVE released (every step durable) for the duration.
    func claimCycle(sessions: Int) throws -> [String: Double] {
        let path = directory + "/claim-\(sessions).sqlite"
        let orders = options.quick ? 5_000 : max(200_000, sessions * 4_000)
        try BenchData.prepare(path: path, processors: sessions, watchers: 0, orders: orders)
        let server = try BenchServer(data: path)
        defer { server.stop() }
        let clients = try (1...sessions).map { index -> BenchClient in
            let client = try BenchClient(port: server.port)
            _ = try client.readLine()
            guard try client.request("LOGIN p\(index) p\(index)").hasPrefix("OK") else { throw BenchError("login p\(index) failed") }
            return client
        }
        let duration = options.quick ? 1.0 : options.duration
        let results = Shared<(cycles: Int, next: Samples, note: Samples, move: Samples, cycle: Samples, errors: [String])>((0, Samples(), Samples(), Samples(), Samples(), []))
        let cpuBefore = ProcessStats.cpuSeconds(server.pid)
        let started = monotonicNanoseconds()
        let stop = started + UInt64(duration * 1e9)
        onThreads(sessions) { index in
            let client = clients[index]
            var next = Samples(), note = Samples(), move = Samples(), cycle = Samples()
            var cycles = 0
            var error: String?
            while monotonicNanoseconds() < stop {
                do {
                    let t0 = monotonicNanoseconds()
                    let claimed = try client.request("NEXT")
                    guard claimed.hasPrefix("OK order=") else { error = "NEXT: \(claimed)"; break }
                    let order = claimed.dropFirst(9).prefix { $0 != " " }
                    let t1 = monotonicNanoseconds()
                    let noted = try client.request("NOTE \(order) checked stock and credit")
                    guard noted.hasPrefix("OK") else { error = "NOTE: \(noted)"; break }
                    let t2 = monotonicNanoseconds()
                    let moved = try client.request("MOVE \(order) released")
                    guard moved.hasPrefix("OK") else { error = "MOVE: \(moved)"; break }
                    let t3 = monotonicNanoseconds()
                    next.add(Double(t1 - t0) / 1000)
                    note.add(Double(t2 - t1) / 1000)
                    move.add(Double(t3 - t2) / 1000)
                    cycle.add(Double(t3 - t0) / 1000)
                    cycles += 1
                } catch let failure {
                    error = "\(failure)"
                    break
                }
            }
            results.update {
                $0.cycles += cycles
                $0.next.merge(next); $0.note.merge(note); $0.move.merge(move); $0.cycle.merge(cycle)
                if let error { $0.errors.append(error) }
            }
        }
        let elapsed = Double(monotonicNanoseconds() - started) / 1e9
        let cpu = ProcessStats.cpuSeconds(server.pid) - cpuBefore
        let result = results.current
        if !result.errors.isEmpty { say("  errors: \(result.errors.prefix(3))") }
        let rate = Double(result.cycles) / elapsed
        let cpuPerCycle = result.cycles > 0 ? cpu / Double(result.cycles) * 1e6 : 0
        say("claim cycle, \(sessions) sessions: \(result.cycles) cycles in \(String(format: "%.1f", elapsed)) s = \(String(format: "%.0f", rate)) cycles/s; server CPU \(String(format: "%.1f", cpuPerCycle)) µs/cycle")
        say("  NEXT  \(result.next.summary)")
        say("  NOTE  \(result.note.summary)")
        say("  MOVE  \(result.move.summary)")
        say("  cycle \(result.cycle.summary)")
        return ["rate": rate, "cpu": cpuPerCycle, "p99": result.cycle.percentile(0.99)]
    }

    // MARK: 2. Fan-out

    /// W sessions watch one order; one NOTE; latency from its reply to receipt at every watcher.
    /// `makeStore`, given W, prepares the desk elsewhere (PostgreSQL) than this run's SQLite file.
    func fanOut(label: String = "fan-out", store makeStore: ((_ watchers: Int) throws -> BenchServer.Store)? = nil) throws -> [String: Double] {
        try fanOut(label: label, stores: makeStore.map { make in { [try make($0)] } })
    }

    /// The fan-out with the watchers spread over one server per store (cluster nodes) in turn;
    /// the writer is on the first.
    func fanOut(label: String, stores makeStores: ((_ watchers: Int) throws -> [BenchServer.Store])?) throws -> [String: Double] {
        let watchers = options.quick ? 100 : 1000
        let rounds = options.quick ? 3 : 20
        let stores: [BenchServer.Store]
        if let makeStores {
            stores = try makeStores(watchers)
        } else {
            let path = directory + "/fanout.sqlite"
            try BenchData.prepare(path: path, processors: 1, watchers: watchers, orders: 10)
            stores = [.file(path)]
        }
        var servers: [BenchServer] = []
        defer { for server in servers { server.stop() } }
        for store in stores { servers.append(try BenchServer(store: store)) }
        let server = servers[0]
        let order = "SO-1000000"
        var sockets: [BenchClient] = []
        for index in 1...watchers {
            let client = try BenchClient(port: servers[(index - 1) % servers.count].port)
            _ = try client.readLine()
            guard try client.request("LOGIN w\(index) w\(index)").hasPrefix("OK") else { throw BenchError("login w\(index)") }
            guard try client.request("WATCH \(order)").hasPrefix("OK") else { throw BenchError("watch") }
            sockets.append(client)
        }
        let writer = try BenchClient(port: server.port)
        _ = try writer.readLine()
        _ = try writer.request("LOGIN p1 p1")
        var all = Samples()
        var lasts = Samples()
        for round in 0..<rounds {
            try writer.send("NOTE \(order) fan-out round \(round)\n")
            _ = try writer.readReply()
            let received = try receiptLatencies(sockets, since: monotonicNanoseconds()) { client in
                while let line = try client.readLine(), !line.hasPrefix("EVENT") {}
            }
            all.merge(received)
            lasts.add(received.percentile(1.0))
        }
        say("\(label) to \(watchers) watchers, \(rounds) rounds: \(all.summary); time to the last watcher p50 \(format(lasts.percentile(0.5))) max \(format(lasts.percentile(1.0)))")
        return ["p50": all.percentile(0.5), "p99": all.percentile(0.99), "last": lasts.percentile(0.5)]
    }

    /// Polls every socket until each has delivered one message (read by `readMessage`); returns
    /// each one's latency from `since`, in microseconds. The same method for every server.
    func receiptLatencies(_ sockets: [BenchClient], since replied: UInt64, readMessage: (BenchClient) throws -> Void) throws -> Samples {
        var received = Samples()
        var pending = Set(sockets.indices)
        var polls = sockets.map { pollfd(fd: $0.descriptor, events: Int16(POLLIN), revents: 0) }
        let deadline = replied + 10_000_000_000
        while !pending.isEmpty, monotonicNanoseconds() < deadline {
            for index in polls.indices { polls[index].revents = 0; polls[index].events = pending.contains(index) ? Int16(POLLIN) : 0 }
            guard poll(&polls, nfds_t(polls.count), 1000) > 0 else { continue }
            let now = monotonicNanoseconds()
            for index in polls.indices where polls[index].revents != 0 && pending.contains(index) {
                try readMessage(sockets[index])
                received.add(Double(now > replied ? now - replied : 0) / 1000)
                pending.remove(index)
            }
        }
        if !pending.isEmpty { throw BenchError("\(pending.count) receivers got nothing") }
        return received
    }

    // MARK: 3. Idle sessions

    /// S logged-in idle sessions; server RSS before and after, per session.
    func idle() throws -> [String: Double] {
        let count = options.quick ? 500 : 10_000
        let path = directory + "/idle.sqlite"
        let users = 100
        try BenchData.prepare(path: path, processors: 1, watchers: users, orders: 100)
        let server = try BenchServer(data: path)
        defer { server.stop() }
        let warm = try BenchClient(port: server.port)
        _ = try warm.readLine()
        _ = try warm.request("LOGIN w1 w1")
        let before = ProcessStats.residentKiB(server.pid)
        var sessions: [BenchClient] = []
        sessions.reserveCapacity(count)
        let batch = 200
        var index = 0
        while index < count {
            let chunk = try (index..<min(count, index + batch)).map { number -> BenchClient in
                let client = try BenchClient(port: server.port)
                let user = "w\(number % users + 1)"
                try client.send("LOGIN \(user) \(user)\n")
                return client
            }
            for client in chunk {
                _ = try client.readLine()
                guard try client.readReply().hasPrefix("OK") else { throw BenchError("idle login failed") }
            }
            sessions += chunk
            index += batch
        }
        // Let the server settle, then read its memory.
        _ = try warm.request("PING")
        usleep(500_000)
        let after = ProcessStats.residentKiB(server.pid)
        let perSession = Double(after - before) * 1024 / Double(count)
        say("idle: \(count) logged-in sessions; server RSS \(before / 1024) MiB before, \(after / 1024) MiB after = \(String(format: "%.0f", perSession)) bytes per session")
        withExtendedLifetime(sessions) {}
        return ["perSession": perSession, "rss": Double(after) / 1024]
    }

    // MARK: 4. Restart

    /// Time from start to ready with N orders (and their history) in the data file.
    func restart() throws -> [String: Double] {
        let (path, orders) = try restartFile()
        var times: [Double] = []
        var rss = 0
        for _ in 0..<(options.quick ? 1 : 3) {
            let server = try BenchServer(data: path)
            times.append(server.startSeconds)
            rss = ProcessStats.residentKiB(server.pid)
            server.stop()
        }
        let best = times.min() ?? 0
        say("restart with \(orders) orders: ready in \(times.map { String(format: "%.2f", $0) }.joined(separator: " / ")) s; RSS when ready \(rss / 1024) MiB")
        return ["seconds": best, "rss": Double(rss) / 1024]
    }

    /// The restart scenario's big data file (N orders with history), made once per data
    /// directory; the backup scenario copies the same file.
    func restartFile() throws -> (path: String, orders: Int) {
        let orders = options.quick ? 20_000 : options.restartOrders
        let path = directory + "/restart-\(orders).sqlite"
        let preparing = monotonicNanoseconds()
        // Without --data-dir the directory is this run's own, so a file there was made by this run.
        if FileManager.default.fileExists(atPath: path) {
            say("  reusing \(path)")
        } else {
            var reported = 0
            try BenchData.prepare(path: path, processors: 3, watchers: 0, orders: orders, history: true) { done in
                if !options.quick, done - reported >= 200_000 {
                    reported = done
                    say("  preparing: \(done) orders")
                }
            }
        }
        let fileSize = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        say("  prepared \(orders) orders with history in \(String(format: "%.1f", Double(monotonicNanoseconds() - preparing) / 1e9)) s, file \(fileSize / 1_048_576) MiB")
        return (path, orders)
    }
}
