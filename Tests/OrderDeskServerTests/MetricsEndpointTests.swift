import Foundation
import Testing
import TestSupport
import OrderDeskCore
@testable import OrderDeskServer
#if canImport(Glibc)
import Glibc
#endif

/// Issue 11: Prometheus the way it is scraped, and a readiness signal for service managers.
@Suite("End to end: the metrics endpoint", .serialized)
struct MetricsEndpointTests {
    @Test("/ready is 503 until the desk serves; /metrics counters and histograms only grow between scrapes")
    func scrape() throws {
        let listener = MetricsListener(host: "127.0.0.1", port: 0)
        let port = try listener.start()
        defer { listener.stop() }
        #expect(try HTTP.get("/ready", port: port).status == 503)
        #expect(try HTTP.get("/metrics", port: port).status == 503)

        let desk = try TestDesk()
        defer { desk.stop() }
        listener.ready(serving: desk.server)
        try waitUntil("ready") { try HTTP.get("/ready", port: port).status == 200 }

        let shop = try desk.client("shop")
        try desk.capture("SO-1", using: shop)
        let first = try HTTP.get("/metrics", port: port)
        #expect(first.status == 200)
        #expect(first.head.contains("Content-Type: text/plain; version=0.0.4"))
        #expect(first.body.contains("# TYPE orderdesk_commands_total counter"))
        #expect(first.body.contains("orderdesk_queue_depth{queue=\"new\"} 1\n"))
        #expect(first.body.contains("orderdesk_orders_captured_total 1\n"))
        #expect(first.body.contains("# TYPE orderdesk_commit_duration_seconds histogram"))
        #expect(first.body.contains("orderdesk_commit_duration_seconds_bucket{le=\"+Inf\"} "))

        let ada = try desk.client("ada")
        try ada.ok("CLAIM SO-1")
        try ada.ok("HOLD SO-1 credit check")
        try ada.ok("UNHOLD SO-1 credit fine")
        try ada.ok("MOVE SO-1 released")
        try ada.ok("MOVE SO-1 shipped")
        let second = try HTTP.get("/metrics", port: port)
        func value(_ name: String, in text: String) -> Double? {
            text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") }
        }
        for name in ["orderdesk_commands_total", "orderdesk_commits_total", "orderdesk_commit_duration_seconds_count"] {
            let before = try #require(value(name, in: first.body), "\(name)")
            let after = try #require(value(name, in: second.body), "\(name)")
            #expect(after > before, "\(name) grows between scrapes")
        }
        #expect(second.body.contains("orderdesk_order_moves_total{to=\"shipped\"} 1\n"))
        #expect(second.body.contains("orderdesk_holds_released_total{type=\"credit\"} 1\n"))
        #expect(second.body.contains("orderdesk_order_cycle_seconds_count 1\n"))
        #expect(second.body.contains("orderdesk_hold_resolution_seconds_bucket{type=\"credit\",le=\"60\"} 1\n"))
        #expect(second.body.contains("orderdesk_queue_depth{queue=\"new\"} 0\n"))

        let head = try HTTP.request("HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n", port: port)
        #expect(head.status == 200 && head.body.isEmpty)
        listener.notReady()
        try waitUntil("not ready") { try HTTP.get("/ready", port: port).status == 503 }
    }

    @Test("queue gauges: depth, oldest stay in seconds and stuck orders per queue, with HELP and TYPE, from counts kept current")
    func queueGauges() throws {
        let clock = ManualClock()
        let listener = MetricsListener(host: "127.0.0.1", port: 0)
        let port = try listener.start()
        defer { listener.stop() }
        let desk = try TestDesk(clock: clock)
        defer { desk.stop() }
        listener.ready(serving: desk.server)
        try waitUntil("ready") { try HTTP.get("/ready", port: port).status == 200 }

        for family in ["queue_depth", "queue_oldest_seconds", "queue_stuck_orders"] {
            let body = try HTTP.get("/metrics", port: port).body
            #expect(body.contains("# HELP orderdesk_\(family) "), "\(family)")
            #expect(body.contains("# TYPE orderdesk_\(family) gauge\n"), "\(family)")
            for queue in ["new", "credit", "pricing", "inventory", "address", "other", "released"] {
                #expect(body.contains("orderdesk_\(family){queue=\"\(queue)\"} 0\n"), "\(family) \(queue) on an empty desk")
            }
            #expect(!body.contains("queue=\"mine\""), "mine depends on who asks")
        }

        let ada = try desk.client("ada")
        try ada.ok("THRESHOLD credit warning=1m stuck=2m admins=1h")
        let shop = try desk.client("shop")
        try desk.capture("SO-1", using: shop)
        try desk.capture("SO-2", using: shop)
        clock.advance(.seconds(30))
        try desk.capture("SO-3", using: shop)
        try ada.ok("HOLD SO-1 credit over the limit")
        try ada.ok("HOLD SO-2 credit over the limit")
        clock.advance(.seconds(150))
        // SO-1 and SO-2 have been on credit hold 150 s (past stuck=2m); SO-3 has waited in new 150 s.
        try waitUntil("the escalation tick") { try HTTP.get("/metrics", port: port).body.contains("orderdesk_queue_stuck_orders{queue=\"credit\"} 2\n") }
        let body = try HTTP.get("/metrics", port: port).body
        #expect(body.contains("orderdesk_queue_depth{queue=\"credit\"} 2\n"))
        #expect(body.contains("orderdesk_queue_oldest_seconds{queue=\"credit\"} 150\n"), "\(body)")
        #expect(body.contains("orderdesk_queue_oldest_seconds{queue=\"new\"} 150\n"))
        #expect(body.contains("orderdesk_queue_stuck_orders{queue=\"new\"} 0\n"))

        // The same figures as METRICS and STUCK give on the wire.
        let metrics = try ada.command("METRICS")
        #expect(metrics.contains("* queue name=credit depth=2 oldest-seconds=150 oldest=2m stuck=2"), "\(metrics)")
        #expect(try ada.command("STUCK queue=credit").last == "OK stuck=2 shown=2")

        try ada.ok("UNHOLD SO-1 credit limit raised")
        let after = try HTTP.get("/metrics", port: port).body
        #expect(after.contains("orderdesk_queue_stuck_orders{queue=\"credit\"} 1\n"))
        #expect(after.contains("orderdesk_queue_depth{queue=\"new\"} 2\n"))
        #expect(after.contains("orderdesk_queue_oldest_seconds{queue=\"new\"} 150\n"), "SO-3 is still the oldest in new; SO-1 came back just now")
    }

    @Test("hostile requests: a bad line, a bad method, an unknown path, an oversize head, a slow client, a flood")
    func hostile() throws {
        var limits = MetricsListener.Limits()
        limits.timeout = Milliseconds(300)
        limits.maximumConnections = 8
        let listener = MetricsListener(host: "127.0.0.1", port: 0, limits: limits)
        let port = try listener.start()
        defer { listener.stop() }
        let desk = try TestDesk()
        defer { desk.stop() }
        listener.ready(serving: desk.server)
        try waitUntil("ready") { try HTTP.get("/ready", port: port).status == 200 }

        #expect(try HTTP.request("garbage\r\n\r\n", port: port).status == 400)
        #expect(try HTTP.request("GET /metrics HTTP/2.0\r\n\r\n", port: port).status == 505)
        #expect(try HTTP.request("POST /metrics HTTP/1.1\r\n\r\n", port: port).status == 405)
        #expect(try HTTP.get("/nowhere", port: port).status == 404)
        #expect(try HTTP.request("GET /ready HTTP/1.1\r\nX: " + String(repeating: "a", count: 20_000) + "\r\n\r\n", port: port).status == 431)
        #expect(try HTTP.request("GET /ready?x=1 HTTP/1.0\n\n", port: port).status == 200, "bare LF and a query are fine")

        // A client that never finishes its request is closed at the deadline, answered or not.
        let slow = try HTTP.connect(port: port)
        defer { close(slow) }
        _ = "GET /ready HT".withCString { send(slow, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
        let started = Date()
        #expect(HTTP.readAll(slow, timeout: 5).isEmpty)
        #expect(Date().timeIntervalSince(started) < 4, "closed by the listener's timeout")

        // More connections than allowed at once: the extra ones are closed, and the endpoint recovers.
        let idle = try (0..<16).map { _ in try HTTP.connect(port: port) }
        defer { idle.forEach { close($0) } }
        // Meanwhile a new connection may be closed at once (the server is full): try again until the idle ones time out.
        try waitUntil("the idle ones time out") { (try? HTTP.get("/ready", port: port).status) == 200 }
        #expect(try HTTP.get("/metrics", port: port).status == 200)
    }

    @Test("READY=1 goes to NOTIFY_SOCKET when it is set, and nothing is sent when it is not")
    func serviceNotify() throws {
        let path = temporaryDirectory() + "/notify"
        let receiver = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(receiver) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in for (index, byte) in path.utf8.enumerated() { raw[index] = byte } }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(receiver, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(bound == 0)
        #expect(!ServiceNotify.send("READY=1", environment: [:]))
        #expect(ServiceNotify.send("READY=1", environment: ["NOTIFY_SOCKET": path]))
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = buffer.withUnsafeMutableBytes { recv(receiver, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
        #expect(count > 0 && String(decoding: buffer[..<max(0, count)], as: UTF8.self) == "READY=1")
    }

    @Test("the text format: escaped labels, cumulative buckets, +Inf equal to the count")
    func format() {
        var histogram = Histogram(bounds: [1, 10])
        for value in [0, 5, 5, 50] as [Int64] { histogram.record(value) }
        #expect(histogram.cumulativeCounts == [1, 3])
        #expect(histogram.count == 4 && histogram.sum == 60)
        #expect(PrometheusSnapshot.labels([("a", "x\"y\\z\n")]) == "{a=\"x\\\"y\\\\z\\n\"}")
        #expect(PrometheusSnapshot.number(0.00025) == "0.00025" && PrometheusSnapshot.number(60) == "60")
        #expect(MetricsListener.parseAddress("127.0.0.1:9100")! == ("127.0.0.1", 9100))
        #expect(MetricsListener.parseAddress("[::1]:9100")! == ("::1", 9100))
        #expect(MetricsListener.parseAddress("::1:9100") == nil && MetricsListener.parseAddress("host") == nil)
        #expect(MetricsListener.parseAddress("h:70000") == nil)
    }
}

struct HTTPTestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Raw HTTP over TCP for the tests: one request, the whole answer.
enum HTTP {
    struct Response {
        var status: Int
        var head: String
        var body: String
    }

    static func get(_ path: String, port: UInt16) throws -> Response {
        try request("GET \(path) HTTP/1.1\r\nHost: localhost\r\n\r\n", port: port)
    }

    static func request(_ text: String, port: UInt16) throws -> Response {
        let descriptor = try connect(port: port)
        defer { close(descriptor) }
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent <= 0 { break }  // the server may refuse before reading it all (431)
            offset += sent
        }
        let answer = readAll(descriptor, timeout: 5)
        guard let split = answer.range(of: "\r\n\r\n") else { throw HTTPTestFailure("no HTTP answer to \(text.prefix(40)): \(answer)") }
        let head = String(answer[..<split.lowerBound])
        let status = head.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        return Response(status: status, head: head, body: String(answer[split.upperBound...]))
    }

    static func connect(port: UInt16) throws -> Int32 {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard status == 0 else {
            close(descriptor)
            throw HTTPTestFailure("connect: \(String(cString: strerror(errno)))")
        }
        return descriptor
    }

    /// Everything until the peer closes, or `timeout` seconds.
    static func readAll(_ descriptor: Int32, timeout: Double) -> String {
        var data: [UInt8] = []
        let deadline = Date().addingTimeInterval(timeout)
        while deadline.timeIntervalSinceNow > 0 {
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, Int32(max(1, deadline.timeIntervalSinceNow * 1000))) > 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 65_536)
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            data += chunk[..<count]
        }
        return String(decoding: data, as: UTF8.self)
    }
}
