import Testing
@testable import OrderDeskCore
import OrderDeskWire

/// The server-answered replies as the encoder writes them: values in, bytes out.
@Suite("Encoder: METRICS, HELP, RESUME, UNLOCK and the greeting")
struct EncoderTests {
    @Test("METRICS: queue, cycle, hold, clean-ship, processor and ops lines; fixed-point figures rounded half up")
    func metrics() {
        var report = MetricsReport(
            window: .minutes(30 * 24 * 60), at: Instant(milliseconds: 0),
            queues: [.init(queue: .new, depth: 3, oldest: .seconds(3_725), stuck: 1)],
            cycles: Percentiles([60_000, 120_000, 180_000]),
            holds: [.init(type: .credit, open: 2, resolutions: Percentiles([]))],
            cleanShipments: 2, releases: [.init(user: "ana", released: 4)])
        let withoutServer = Reply.answer(.metrics(report)).wireText
        #expect(withoutServer == """
            * queue name=new depth=3 oldest-seconds=3725 oldest=1h02m stuck=1
            * cycle window=30d shipped=3 p50-seconds=120 p90-seconds=180 p50=2m p90=3m
            * hold type=credit window=30d resolved=0 open=2
            * clean-ship window=30d shipped=3 without-hold=2 share=0.67
            * processor user=ana window=30d released=4
            OK window=30d at=1970-01-01T00:00:00Z

            """)
        report.operations = ServerOperations(connections: 5, sessions: 4, usersOnline: 3, commands: 1_000, commandsPerSecondTenths: 125,
                                             pushes: 7, slowDropped: 0, refused: 1, commits: 900, commitFailures: 0,
                                             commitP50Microseconds: 1_005, commitP99Microseconds: nil)
        let lines = Reply.answer(.metrics(report)).wireText.split(separator: "\n")
        #expect(lines[lines.count - 2] == """
            * ops connections=5 sessions=4 users-online=3 commands=1000 commands-per-second=12.5 pushes=7 slow-dropped=0 refused=1 \
            commits=900 commit-failures=0 commit-p50-ms=1.01 commit-p99-ms=0.00
            """)
    }

    @Test("an empty window shares 0.00 and leaves the percentiles out")
    func emptyWindow() {
        let report = MetricsReport(window: .minutes(240), at: Instant(milliseconds: 0), queues: [], cycles: Percentiles([]), holds: [],
                                   cleanShipments: 0, releases: [])
        #expect(Reply.answer(.metrics(report)).wireText.contains("* cycle window=4h shipped=0\n* clean-ship window=4h shipped=0 without-hold=0 share=0.00\n"))
    }

    @Test("HELP lists every row; HELP <command> shows one, its roles sorted")
    func help() {
        let all = Reply.answer(.commands).wireText
        #expect(all.hasSuffix("OK commands=\(CommandSpec.all.count)\n"))
        #expect(all.split(separator: "\n").count == CommandSpec.all.count + 1)
        #expect(Reply.answer(.commandHelp(name: "PING")).wireText.hasSuffix("* roles=anyone\n* example=PING\nOK PING\n"))
        #expect(Reply.answer(.commandHelp(name: "UNLOCK")).wireText.contains("* roles=admin\n"))
    }

    @Test("RESUME and UNLOCK")
    func resumeAndUnlock() {
        #expect(Reply.answer(.resumed(count: 3, isComplete: false)).wireText == "OK resumed=3 complete=no\n")
        #expect(Reply.answer(.unlocked(target: "ben", cleared: ["10.0.0.1", "ben"])).wireText
            == "* address=10.0.0.1\n* address=ben\nOK target=ben cleared=2\n")
    }

    @Test("the greeting states the limits")
    func greeting() {
        var writer = WireWriter()
        writer.greeting(Greeting(limits: Limits(), leaseSeconds: 900, graceSeconds: 60, maximumSessions: 100, maximumUnsentBytes: 4096,
                                 idleTimeoutSeconds: 600, loginTimeoutSeconds: 30, inputBudget: 65_536))
        #expect(writer.text == "HELLO orderdesk 1 max-line=8192 max-note=2000 max-order-lines=200 lease=900 grace=60 max-sessions=100 "
            + "max-unsent=4096 idle-timeout=600 login-timeout=30 max-input=65536\n")
    }
}
