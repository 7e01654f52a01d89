import Testing
@testable import OrderDeskCore

/// Issue 11: stuck counts and oldest ages per queue, in METRICS (for the desk's dashboard) and as
/// gauges a scrape reads without a scan.
@Suite("Queue gauges")
struct QueueGaugeTests {
    /// A threshold of `stuck` for `queue`, warning a minute before.
    static func threshold(_ queue: String, stuck minutes: Int) -> String {
        "THRESHOLD \(queue) warning=\(minutes - 1)m stuck=\(minutes)m admins=\(minutes * 10)m"
    }

    func gauge(_ desk: Desk, _ queue: String, now: Instant) throws -> DeskGauges.QueueGauge {
        try #require(desk.gauges(now: now).queues.first { $0.queue == queue })
    }

    @Test("METRICS queue lines and the gauges count stuck orders per queue and age the oldest stay, as STUCK does")
    func stuckAndOldest() throws {
        var fixture = DeskFixture()
        #expect(fixture.run(Self.threshold("pricing", stuck: 10), as: "ada").reply?.isOK == true)
        fixture.capture("SO-1")
        fixture.advance(.seconds(60))
        fixture.capture("SO-2")
        fixture.capture("SO-3")
        #expect(fixture.run("CLAIM SO-1", as: "ana").reply?.isOK == true)
        #expect(fixture.run("HOLD SO-1 pricing check the list price", as: "ana").reply?.isOK == true)
        fixture.advance(.seconds(30))
        #expect(fixture.run("CLAIM SO-2", as: "ben").reply?.isOK == true)
        #expect(fixture.run("HOLD SO-2 pricing and this one", as: "ben").reply?.isOK == true)

        var gauges = try gauge(fixture.desk, "pricing", now: fixture.now)
        #expect(gauges.depth == 2 && gauges.stuck == 0 && gauges.oldestSeconds == 30)
        #expect(try gauge(fixture.desk, "new", now: fixture.now).oldestSeconds == 30, "SO-1 left new; SO-3 entered it 30 s ago")

        // Past the threshold for SO-1 only (placed 30 s before SO-2's hold).
        fixture.advance(.seconds(9 * 60 + 45))
        _ = fixture.desk.tick(now: fixture.now)
        gauges = try gauge(fixture.desk, "pricing", now: fixture.now)
        #expect(gauges.stuck == 1 && gauges.oldestSeconds == 615)
        let metrics = fixture.run("METRICS", as: "ada").reply
        guard case .answer(.metrics(let report))? = metrics else { Issue.record("METRICS failed"); return }
        let pricing = report.queues.first { $0.queue == .hold(.pricing) }
        #expect(pricing == MetricsReport.QueueFigures(queue: .hold(.pricing), depth: 2, oldest: .seconds(615), stuck: 1))
        let new = report.queues.first { $0.queue == .new }
        #expect(new?.depth == 1 && new?.stuck == 0, "\(report.queues)")
        #expect(metrics?.wireText.contains("* queue name=pricing depth=2 oldest-seconds=615 oldest=10m stuck=1\n") == true)
        let stuck = fixture.run("STUCK queue=pricing", as: "ada").reply
        #expect(stuck?.summary == "stuck=1 shown=1")

        // The oldest leaves: the next oldest is the gauge's; the stuck one is no longer counted.
        let unhold = fixture.run("UNHOLD SO-1 pricing list price confirmed", as: "ada").reply
        #expect(unhold?.isOK == true, "\(String(describing: unhold))")
        gauges = try gauge(fixture.desk, "pricing", now: fixture.now)
        #expect(gauges.depth == 1 && gauges.stuck == 0 && gauges.oldestSeconds == 585)
        #expect(try gauge(fixture.desk, "new", now: fixture.now).oldestSeconds == 615, "SO-3 is still the oldest in new")

        // Empty queues gauge nothing old.
        #expect(fixture.run("UNHOLD SO-2 pricing fine too", as: "ada").reply?.isOK == true)
        gauges = try gauge(fixture.desk, "pricing", now: fixture.now)
        #expect(gauges.depth == 0 && gauges.stuck == 0 && gauges.oldestSeconds == 0)
        #expect(DeskChecks.stayGauges(of: fixture.desk).isEmpty)
    }

    @Test("a desk restored from its snapshot gauges what it was gauging")
    func restored() throws {
        var fixture = DeskFixture()
        #expect(fixture.run(Self.threshold("credit", stuck: 5), as: "ada").reply?.isOK == true)
        for number in 1...3 {
            fixture.capture("SO-\(number)")
            #expect(fixture.run("CLAIM SO-\(number)", as: "ana").reply?.isOK == true)
            #expect(fixture.run("HOLD SO-\(number) credit over the limit", as: "ana").reply?.isOK == true)
            fixture.advance(.seconds(60))
        }
        fixture.advance(.seconds(3 * 60))
        _ = fixture.desk.tick(now: fixture.now)
        let before = try gauge(fixture.desk, "credit", now: fixture.now)
        #expect(before.stuck == 2 && before.oldestSeconds == 360)

        var snapshot = DeskSnapshot()
        snapshot.orders = Array(fixture.desk.orders.values)
        snapshot.users = Array(fixture.desk.users.values)
        snapshot.thresholds = fixture.desk.thresholds
        let restored = Desk(settings: DeskSettings(), snapshot: snapshot, now: fixture.now)
        #expect(try gauge(restored, "credit", now: fixture.now) == before)
        #expect(DeskChecks.stayGauges(of: restored).isEmpty)
    }

    @Test("many stays come and go: the heap of stay starts is trimmed and still agrees with the orders")
    func churn() {
        var fixture = DeskFixture()
        for number in 1...20 { fixture.capture("SO-\(number)") }
        for round in 0..<100 {
            fixture.advance(.seconds(1))
            let number = "SO-\(round % 20 + 1)"
            #expect(fixture.run("CLAIM \(number)", as: "ana").reply?.isOK == true)
            #expect(fixture.run("HOLD \(number) other round \(round)", as: "ana").reply?.isOK == true)
            #expect(fixture.run("UNHOLD \(number) other done", as: "ana").reply?.isOK == true)
            #expect(fixture.run("HANDBACK \(number) next round", as: "ana").reply?.isOK == true)
            #expect(DeskChecks.stayGauges(of: fixture.desk).isEmpty, "round \(round)")
        }
    }
}
