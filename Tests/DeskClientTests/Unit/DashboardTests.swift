import Foundation
import Testing
@testable import DeskClientKit

/// Issue 11: the administrators' dashboard, laid out for any terminal.
@Suite("Dashboard")
struct DashboardTests {
    /// The demo desk's METRICS, as the server sends it.
    static let reply = ServerReply(command: "METRICS", data: [
        "queue name=new depth=111 oldest-seconds=107720 oldest=1d05h stuck=30",
        "queue name=credit depth=16 oldest-seconds=233120 oldest=2d16h stuck=16",
        "queue name=pricing depth=14 oldest-seconds=252260 oldest=2d22h stuck=13",
        "queue name=inventory depth=13 oldest-seconds=259040 oldest=2d23h stuck=3",
        "queue name=address depth=10 oldest-seconds=257720 oldest=2d23h stuck=9",
        "queue name=other depth=0 oldest-seconds=0 oldest=0s stuck=0",
        "queue name=released depth=44 oldest-seconds=177560 oldest=2d01h stuck=3",
        "cycle window=30d shipped=55 p50-seconds=960 p90-seconds=1740 p50=16m p90=29m",
        "hold type=credit window=30d resolved=0 open=16",
        "hold type=pricing window=30d resolved=20 open=14 p50-seconds=480 p90-seconds=660 p50=8m p90=11m",
        "hold type=inventory window=30d resolved=4 open=13 p50-seconds=120 p90-seconds=300 p50=2m p90=5m",
        "hold type=address window=30d resolved=0 open=10",
        "hold type=other window=30d resolved=0 open=0",
        "clean-ship window=30d shipped=55 without-hold=35 share=0.64",
        "processor user=ana window=30d released=45",
        "processor user=ben window=30d released=25",
        "processor user=cleo window=30d released=29",
        "ops connections=3 sessions=2 users-online=2 commands=90 commands-per-second=0.4 pushes=12 slow-dropped=0 refused=0 commits=40 commit-failures=0 commit-p50-ms=1.20 commit-p99-ms=9.80",
    ], outcome: .ok(summary: "window=30d at=2026-12-03T07:48:30Z"))

    private func dashboard(_ reply: ServerReply = Self.reply, colour: Bool = false) throws -> Dashboard {
        let figures = try #require(MetricsFigures(reply))
        return Dashboard(figures: figures, source: "ada@127.0.0.1:7878", footer: "updated 07:48:30 · every 5s · any key returns to the chat",
                         style: Style(isEnabled: colour), timeZone: TimeZone(identifier: "UTC")!)
    }

    @Test("the METRICS reply read into figures; an error is none")
    func figures() throws {
        let figures = try #require(MetricsFigures(Self.reply))
        #expect(figures.window == "30d" && figures.queues.count == 7 && figures.holds.count == 5)
        #expect(figures.queues[0] == MetricsFigures.Queue(name: "new", depth: 111, oldestSeconds: 107_720, oldest: "1d05h", stuck: 30))
        #expect(figures.cycle?.p90 == "29m" && figures.shipped == 55 && figures.cleanShare == "0.64")
        #expect(figures.holds[0].resolution == nil && figures.holds[1].resolution?.p50Seconds == 480)
        #expect(figures.processors.map(\.user) == ["ana", "ben", "cleo"] && figures.operations["sessions"] == "2")
        #expect(MetricsFigures(ServerReply(command: "METRICS", data: [], outcome: .failure(code: "denied", message: "admins only"))) == nil)
        // A server without stuck= (older) or with lines this client does not know: no crash, no stuck figure.
        let older = ServerReply(command: "METRICS", data: ["queue name=new depth=2 oldest-seconds=60 oldest=1m", "future thing=1", "queue name=x depth=zz"],
                                outcome: .ok(summary: "window=30d"))
        let parsed = try #require(MetricsFigures(older))
        #expect(parsed.queues.map(\.stuck) == [nil, nil] && parsed.queues[1].depth == 0)
        #expect(try dashboard(older).lines(width: 80, height: 24).contains { $0.hasPrefix("new") && $0.hasSuffix("–") })
    }

    @Test("at any size: no more lines than rows, no line reaching the last column, the footer last", arguments: [
        (80, 24), (160, 45), (100, 30), (120, 20), (60, 16), (40, 12), (200, 60), (30, 5), (80, 1),
    ])
    func fits(width: Int, height: Int) throws {
        for colour in [false, true] {
            let lines = try dashboard(colour: colour).lines(width: width, height: height)
            #expect(lines.count == height, "\(width)x\(height)")
            let plain = lines.map(Self.stripped)
            #expect(plain.allSatisfy { DisplayWidth.of($0) <= max(20, width - 1) }, "\(width)x\(height): \(plain)")
            if height > 1 { #expect(plain.last?.hasPrefix("updated 07:48:30") == true) }
            if !colour { #expect(!lines.joined().contains("\u{1B}"), "no escapes with colour off") }
        }
    }

    @Test("80x24: every section; the queues as bars scaled to the biggest, stuck counts beside them")
    func standard() throws {
        let lines = try dashboard().lines(width: 80, height: 24)
        #expect(lines[0].hasPrefix("desk dashboard  METRICS over 30d · ada@127.0.0.1:7878") && lines[0].hasSuffix("at 07:48:30"))
        for heading in ["QUEUE", "CYCLE", "CLEAN", "HOLD", "RELEASED", "SERVER"] {
            #expect(lines.contains { $0.hasPrefix(heading) }, "\(heading) in \(lines)")
        }
        let row = { (name: String) in lines.first { $0.hasPrefix(name + " ") } ?? "" }
        func bars(_ line: String) -> [Int] {
            line.split(separator: " ").filter { $0.unicodeScalars.allSatisfy { (0x2588...0x258F).contains($0.value) } }.map { DisplayWidth.of($0) }
        }
        let new = bars(row("new")), credit = bars(row("credit")), inventory = bars(row("inventory"))
        #expect(new.count == 2 && credit.count == 2, "\(row("new")) / \(row("credit"))")
        #expect(new[0] > credit[0] && new[1] < inventory[1], "depth bar longest for new, age bar longest for the oldest stay")
        #expect(row("new").hasSuffix(" 30") && row("other").hasSuffix(" 0"))
        #expect(!row("other").contains("█"), "an empty queue has no bars")
        #expect(row("CLEAN").contains("64% shipped without a hold (35 of 55)"))
        #expect(row("CYCLE").contains("p50 16m") && row("CYCLE").contains("p90 29m"))
        let holds = try #require(lines.firstIndex { $0.hasPrefix("HOLD ") })
        let pricing = lines[holds...].first { $0.hasPrefix("pricing ") } ?? ""
        #expect(pricing.contains(" 8m ") && pricing.contains("█") && pricing.hasSuffix("▒"), "p50 solid, on to p90 shaded: \(pricing)")
        #expect(row("RELEASED").hasPrefix("RELEASED   ana 45 · cleo 29 · ben 25"), "most releases first")
        #expect(row("SERVER").contains("2 sessions") && row("SERVER").contains("commit p50/p99 1.20/9.80 ms"))
    }

    @Test("160x45: the bars grow (to 60 columns at most); the extra rows stay empty above the footer")
    func wide() throws {
        let narrow = try dashboard().lines(width: 80, height: 24)
        let wide = try dashboard().lines(width: 160, height: 45)
        // The depth bar: the first run of block characters on the `new` row.
        let barOf = { (lines: [String]) in
            lines.first { $0.hasPrefix("new ") }.map { $0.split(separator: " ").first { $0.first == "█" }.map { DisplayWidth.of($0) } ?? 0 } ?? 0
        }
        #expect(barOf(wide) == Dashboard.maximumBar && barOf(narrow) < barOf(wide))
        #expect(wide.count == 45 && wide[40] == "" && wide[44].hasPrefix("updated"))
    }

    @Test("short of rows: the server line, the releases, the holds and the cycle give way, in that order; the queues stay")
    func shortOfRows() throws {
        func sections(_ height: Int) throws -> [String] {
            try dashboard().lines(width: 80, height: height).compactMap { line in
                ["QUEUE", "CYCLE", "HOLD", "RELEASED", "SERVER"].first { line.hasPrefix($0 + " ") }
            }
        }
        #expect(try sections(24) == ["QUEUE", "CYCLE", "HOLD", "RELEASED", "SERVER"])
        #expect(try sections(18) == ["QUEUE", "CYCLE", "HOLD"])
        #expect(try sections(11) == ["QUEUE", "SERVER"], "a smaller section further down takes the rows left")
        #expect(try sections(10) == ["QUEUE"])
        let tiny = try dashboard().lines(width: 80, height: 5)
        #expect(tiny.count == 5 && tiny[1].hasPrefix("QUEUE") && tiny[4].hasPrefix("updated"))
    }

    @Test("bars: to an eighth of a column, a sliver for any value above zero, nothing for zero")
    func bars() {
        #expect(Dashboard.bar(10, of: 10, width: 8) == "████████")
        #expect(Dashboard.bar(5, of: 10, width: 3) == "█▌")
        #expect(Dashboard.bar(1, of: 1_000_000, width: 20) == "▏")
        #expect(Dashboard.bar(0, of: 10, width: 20) == "" && Dashboard.bar(5, of: 0, width: 20) == "")
        #expect(Dashboard.bar(.infinity, of: 10, width: 4) == "" && Dashboard.bar(20, of: 10, width: 4) == "████")
        #expect(Dashboard.barWidth(3) == 0 && Dashboard.barWidth(500) == Dashboard.maximumBar)
    }

    /// The text without escape sequences.
    static func stripped(_ text: String) -> String {
        text.replacingOccurrences(of: "\u{1B}\\[[0-9;]*m", with: "", options: .regularExpression)
    }
}
