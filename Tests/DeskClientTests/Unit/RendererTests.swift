import Foundation
import Testing
@testable import DeskClientKit

@Suite("Renderer")
struct RendererTests {
    /// 2026-11-22 14:30 UTC.
    static let now = Date(timeIntervalSince1970: 1_795_357_800)

    private func renderer(colour: Bool, user: String? = "ana") -> Renderer {
        Renderer(style: Style(isEnabled: colour), user: user, timeZone: TimeZone(identifier: "UTC")!, now: { Self.now })
    }

    static let queue = ServerReply(command: "QUEUE new", data: [
        "SO-1 stage=captured priority=urgent customer=\"Acme Corp\" rep=sam po=PO-1 total=12.50 currency=USD age=1h",
        "SO-22 stage=captured priority=high customer=中文贸易公司 rep=rita po=PO-22 total=1234.00 currency=EUR age=2d03h holds=credit,pricing holder=ana until=2026-11-22T14:45:00Z",
    ], outcome: .ok(summary: "queue=new count=9 shown=2"))

    static let card = ServerReply(command: "ORDER SO-22", data: [
        "order SO-22 stage=captured priority=high customer=\"Acme Corp\" rep=rita po=PO-22 total=1234.00 currency=EUR captured=2026-11-20T09:00:00Z age=2d05h ship=2026-12-01",
        "line sku=WID-1 qty=2 price=10.50 amount=21.00",
        "hold id=1 type=credit status=open by=ben at=2026-11-22T13:00:00Z reason=\"over the credit limit\"",
        "hold id=2 type=pricing status=released by=ben at=2026-11-21T13:00:00Z reason=\"list price\" released-by=ana released-at=2026-11-21T15:00:00Z release-reason=\"agreed\"",
        "claim holder=ana token=7 since=2026-11-22T14:30:00Z until=2026-11-22T14:45:00Z",
        "watchers rita sam",
        "notes shown=1 total=4",
        "note at=2026-11-22T14:00:00Z by=rita text=\"customer agreed the new price\"",
    ], outcome: .ok(summary: "SO-22"))

    @Test("QUEUE as a table whose columns line up, whatever the width of the text")
    func queueTable() throws {
        let lines = renderer(colour: false).lines(for: Self.queue)
        #expect(lines[0].hasPrefix("ORDER  STAGE     PRIORITY  CUSTOMER"))
        #expect(lines[1].hasPrefix("SO-1   captured  urgent    Acme Corp     sam "))
        #expect(lines[2].hasPrefix("SO-22  captured  high      中文贸易公司  rita"))
        // Each column starts at the same display column on every row.
        for header in ["REP", "PO", "AGE", "HOLDS"] {
            let column = try #require(lines[0].range(of: "  " + header + " ")).lowerBound
            let expected = DisplayWidth.of(lines[0][..<column]) + 2
            let value = header == "REP" ? "rita" : header == "PO" ? "PO-22" : header == "AGE" ? "2d03h" : "credit,pricing"
            let cell = try #require(lines[2].range(of: value)).lowerBound
            #expect(DisplayWidth.of(lines[2][..<cell]) == expected, "\(header) column")
        }
        #expect(lines[2].contains("1234.00 EUR"))
        #expect(lines[2].hasSuffix("ana until 14:45"))
        #expect(lines.last == "(queue new · count 9 · shown 2)")
    }

    // Regression: at 80 columns the order number was cut ("SO-10…") while the PO stayed.
    @Test("on a narrow terminal rows do not wrap; the PO, rep, age, priority go first; number, total and holder are never cut",
          arguments: [80, 70, 60])
    func narrowTable(columns: Int) throws {
        var renderer = renderer(colour: false)
        renderer.maximumWidth = columns
        let reply = ServerReply(command: "QUEUE pricing", data: [
            "SO-10130 stage=captured priority=urgent customer=\"Umbrella Supply Intl\" rep=rita po=PO-9424 total=336.00 currency=USD age=1d04h holds=pricing",
            "SO-10066 stage=captured priority=urgent customer=Initech rep=rita po=PO-7873 total=14767.50 currency=USD age=8h44m holds=pricing holder=ana until=2026-11-22T14:45:00Z",
        ], outcome: .ok(summary: "queue=pricing count=14 shown=2"))
        let lines = renderer.lines(for: reply)
        #expect(lines.dropLast().allSatisfy { DisplayWidth.of($0) <= columns }, "\(lines)")
        #expect(lines[1].hasPrefix("SO-10130  ") && lines[2].hasPrefix("SO-10066  "))
        #expect(lines[2].contains("14767.50 USD") && lines[2].hasSuffix("ana until 14:45"))
        #expect(!lines[0].contains("PO"), "the PO is the first column to go")
        #expect(columns < 80 || lines[1].contains("Umbrella Supply"), "at 80 columns a long name keeps 16 characters")
        let wide = self.renderer(colour: false).lines(for: reply)
        #expect(wide[0].contains("REP") && wide[0].contains("PO") && wide[1].contains("Umbrella Supply Intl"), "nothing left out without a limit")
    }

    // Regression: the column order changed between searches, following whichever row came first.
    @Test("order tables keep protocol.md's column order whichever optional fields the first rows have")
    func stableColumnOrder() {
        let held = "SO-1 stage=captured priority=high customer=A rep=sam po=P total=1.00 currency=USD age=1h holds=credit"
        let claimed = "SO-2 stage=captured priority=high customer=B rep=sam po=Q total=2.00 currency=USD age=2h holder=ben until=2026-11-22T14:45:00Z"
        let plain = "SO-3 stage=released priority=low customer=C rep=rita po=R total=3.00 currency=USD age=3h"
        let headers = [[held, claimed], [claimed, held], [plain, claimed, held], [claimed, plain, held]].map { data in
            renderer(colour: false).lines(for: ServerReply(command: "FIND x", data: data, outcome: .ok(summary: "found=3 shown=3")))[0]
                .split(separator: " ").joined(separator: " ")
        }
        #expect(Set(headers).count == 1, "\(headers)")
        #expect(headers[0] == "ORDER STAGE PRIORITY CUSTOMER REP PO TOTAL AGE HOLDS HOLDER")
        let stuck = Renderer.columnKeys(["SO-1 queue=new since=2026-11-22T14:00:00Z age=30m level=rep told=sam priority=high customer=A"].map(Record.init), hiding: [])
        #expect(stuck == ["queue", "since", "age", "level", "told", "priority", "customer"], "other tables keep the wire order")
    }

    @Test("ORDER as a status card: stage, holds with reasons, holder and until, rep, notes")
    func card() {
        let lines = renderer(colour: false).lines(for: Self.card)
        #expect(lines[0] == "SO-22  captured  high  Acme Corp")
        #expect(lines.contains("  order     rep rita · PO PO-22 · total 1234.00 EUR"))
        #expect(lines.contains("  captured  20 Nov 09:00 (2d05h ago) · ship by 2026-12-01"))
        #expect(lines.contains("  claim     ana (you) until 14:45 (token 7)"))
        #expect(lines.contains("  holds     credit    open  ben 13:00  over the credit limit"))
        #expect(lines.contains("            pricing   released  ben 21 Nov 13:00  list price → released by ana 21 Nov 15:00: agreed"))
        #expect(lines.contains("  watchers  rita sam"))
        #expect(lines.contains("  notes     last 1 of 4"))
        #expect(lines.contains("            14:00 rita: customer agreed the new price"))
        #expect(lines.contains("            WID-1    2  10.50   21.00"))
    }

    @Test("no escape codes at all when colour is off; some when it is on")
    func colourSwitch() {
        let replies = [Self.queue, Self.card, ServerReply(command: "ORDER SO-9", data: [], outcome: .failure(code: "not-found", message: "order=SO-9 no such order")),
                       ServerReply(command: "WHO", data: ["user=ana role=processor status=online"], outcome: .ok(summary: "online=1"))]
        let event = ServerEvent(id: 3, kind: "mention", fields: ["order": "SO-1", "by": "ben", "text": "@ana hi", "at": "2026-11-22T14:05:00Z"])
        let plain = replies.flatMap(renderer(colour: false).lines) + [renderer(colour: false).line(for: event)]
            + renderer(colour: false).helpList([CommandHelp(name: "PING", usage: "PING", summary: "check")])
        #expect(!plain.joined().contains("\u{1B}"))
        let coloured = replies.flatMap(renderer(colour: true).lines) + [renderer(colour: true).line(for: event)]
        #expect(coloured.joined().contains("\u{1B}["))
    }

    // Regression: errors showed raw wire times, and "holder=ana ... held by ana" said the name twice.
    @Test("errors name their code, then the message in words with the fields it does not name, times local", arguments: [
        ("not-found", "order=SO-9 no such order", "no such order (order SO-9)"),
        ("claimed", "order=SO-1 holder=ana until=2026-11-22T14:45:00Z held by ana", "held by ana (order SO-1, until 14:45)"),
        ("open-holds", "order=SO-1 holds=pricing release the holds first", "release the holds first (order SO-1, holds pricing)"),
        ("queue-empty", "queue=new nothing to claim", "nothing to claim (queue new)"),
        ("unknown-command", "unknown command FROB; HELP lists commands", "unknown command FROB; HELP lists commands"),
        ("bad-line", "unknown escape \\q in \"a", "unknown escape \\q in \"a"),
        ("exists", "user=dana", "(user dana)"),
    ])
    func error(code: String, message: String, shown: String) {
        let reply = ServerReply(command: "X", data: [], outcome: .failure(code: code, message: message))
        #expect(renderer(colour: false).lines(for: reply) == ["error \(code): \(shown)"])
    }

    @Test("pushes: a time, then what happened in words; pings to you stand out")
    func events() {
        let plain = renderer(colour: false)
        let note = ServerEvent(id: 1, kind: "note", fields: ["order": "SO-1", "by": "ben", "text": "hi", "at": "2026-11-22T14:05:00Z"])
        #expect(plain.line(for: note) == "14:05 SO-1 ben: hi")
        #expect(plain.line(for: note, isReplayed: true) == "14:05 (missed) SO-1 ben: hi")
        let warning = ServerEvent(id: 2, kind: "lease-warning", fields: ["order": "SO-1", "until": "2026-11-22T14:20:00Z", "at": "2026-11-22T14:18:00Z"])
        #expect(plain.line(for: warning) == "14:18 » your claim on SO-1 runs out at 14:20; TOUCH SO-1 to keep it")
        let toMe = ServerEvent(id: 3, kind: "reassigned", fields: ["order": "SO-1", "from": "ben", "to": "ana", "by": "ada", "reason": "ben is out"])
        #expect(toMe.isPing(for: "ana"))
        #expect(!toMe.isPing(for: "cleo"))
        #expect(plain.describe(toMe) == "SO-1 reassigned to you by ada (was ben): ben is out")
        let coloured = renderer(colour: true).line(for: warning)
        #expect(coloured.contains("\u{1B}[1;35m» your claim"))
    }

    @Test("METRICS-style data: rows grouped by their first word")
    func groupedData() {
        let reply = ServerReply(command: "METRICS", data: [
            "queue name=new depth=3 oldest=1h", "queue name=credit depth=1 oldest=2h", "cycle window=30d shipped=5 p50=16m",
        ], outcome: .ok(summary: "window=30d"))
        let lines = renderer(colour: false).lines(for: reply)
        #expect(lines == ["queue", "  NAME    DEPTH  OLDEST", "  new     3      1h", "  credit  1      2h",
                          "cycle  window 30d · shipped 5 · p50 16m", "(window 30d)"])
    }

    @Test("help NAME shows usage, summary, roles and example")
    func helpTopic() {
        let reply = ServerReply(command: "HELP NEXT", data: ["usage=\"NEXT [queue]\"", "summary=\"claim the next order\"", "roles=admin,processor", "example=\"NEXT pricing\""],
                                outcome: .ok(summary: "NEXT"))
        #expect(renderer(colour: false).lines(for: reply) == ["NEXT [queue]", "  claim the next order", "  roles    admin, processor", "  example  NEXT pricing"])
    }

    // Issue 11: the rep saw "» your claim on SO-10060 ran out (disconnected)" with the bell.
    @Test("a claim that ran out is 'your claim' and a ping only for its holder; watchers read whose it was")
    func leaseExpiredNamesHolder() {
        let event = ServerEvent(id: 9, kind: "lease-expired", fields: ["order": "SO-10060", "holder": "ben", "token": "3",
                                                                      "reason": "disconnected", "at": "2026-11-22T14:30:00Z"])
        let rep = renderer(colour: false, user: "sam")
        #expect(rep.describe(event) == "SO-10060 ben's claim ran out (disconnected); it went back to its queue")
        #expect(!event.isPing(for: "sam"))
        #expect(!event.isPersonal(for: "sam"))
        #expect(!rep.line(for: event).contains("»"))
        let holder = renderer(colour: false, user: "ben")
        #expect(holder.describe(event) == "your claim on SO-10060 ran out (disconnected); it went back to its queue")
        #expect(event.isPing(for: "ben"))
        #expect(holder.line(for: event).contains("» your claim"))
    }

    @Test("CARD as labelled sentences, wrapped to the terminal")
    func plainCard() {
        var renderer = renderer(colour: false)
        renderer.maximumWidth = 60
        let reply = ServerReply(command: "CARD 10089", data: [
            "card order=SO-10089 customer=\"Massive Dynamic\" po=PO-4242 stage=captured",
            "stage text=\"Received on 1 December 2026; it cannot go to the warehouse until the question below is settled.\"",
            "blocked text=\"Waiting for a price to be confirmed since 1 December 2026 (5 hours).\"",
            "people text=\"ana is working on it now. The customer's sales rep is rita.\"",
            "ship text=\"The customer asked for it to ship by 7 December 2026.\"",
        ], outcome: .ok(summary: "order=SO-10089"))
        let lines = renderer.lines(for: reply)
        #expect(lines.first == "SO-10089 · Massive Dynamic · PO PO-4242")
        #expect(lines[1].hasPrefix("  Where it is   Received on 1 December 2026;"))
        #expect(lines.allSatisfy { DisplayWidth.of($0) <= 60 }, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("  Holding it up Waiting for a price") })
        #expect(lines.suffix(2) == ["  Shipping      The customer asked for it to ship by 7", "                December 2026."])
    }

    /// The demo desk's admin: 20 orders with unread events, as LOGIN and INBOX list them.
    static let inbox = ServerReply(command: "INBOX unread 2", data: [
        "743 escalated order=SO-10236 queue=credit since=2026-11-21T07:22:10Z at=2026-11-22T07:48:14Z read=no",
        "739 stuck order=SO-10066 queue=pricing since=2026-11-21T23:14:10Z at=2026-11-22T07:48:14Z read=yes",
    ], outcome: .ok(summary: "unread=62 shown=2 more-before=739 unread-orders="
                    + (1...20).map { "SO-\(10000 + $0 * 4):\($0 == 3 ? 12 : 1)" }.joined(separator: ",")))

    // Regression: at 160 columns the `unread by order` line (20 orders and the hint) ran past the
    // edge and the terminal broke it in the middle of an order number.
    @Test("INBOX's unread by order fits any width: broken between orders, at most three lines, the rest counted", arguments: [160, 120, 80, 60, 40, 24, 12])
    func inboxUnreadByOrder(width: Int) throws {
        var renderer = renderer(colour: false)
        renderer.maximumWidth = width
        let lines = renderer.lines(for: Self.inbox)
        let start = try #require(lines.firstIndex { $0.hasPrefix("unread by") })
        let block = Array(lines[start..<(lines.count - 1)])
        #expect(block.allSatisfy { DisplayWidth.of($0) <= width }, "\(block)")
        #expect(lines.last == "(unread 62 · shown 2 · more-before 739)")
        #expect(block.count <= 5, "the label, three lines of orders and the hint at most: \(block)")
        let text = block.joined(separator: " ")
        #expect(text.contains("(ORDER or READ <number> reads them)") || width < 36)
        // Every order shown is whole, and those not shown are counted.
        let shown = (1...20).map { "SO-\(10000 + $0 * 4) \($0 == 3 ? 12 : 1)" }.filter { text.contains($0) }
        let hidden = text.range(of: #"… (\d+) more"#, options: .regularExpression).map { text[$0].split(separator: " ")[1] }.flatMap { Int($0) } ?? 0
        if width >= 24 { #expect(shown.count + hidden == 20, "\(block)") }
        #expect(shown.first == "SO-10004 1" || width < 24)
        if width >= 60 {
            // Continuation lines start under the first order.
            for line in block.dropFirst() where !line.contains("reads them") || line.hasPrefix(" ") {
                #expect(line.hasPrefix(String(repeating: " ", count: 17)) && !line.hasPrefix(String(repeating: " ", count: 18)), "\(line)")
            }
        }
    }

    @Test("INBOX's unread by order without a width (a pipe) stays one line")
    func inboxUnreadByOrderPiped() {
        let lines = renderer(colour: false).lines(for: Self.inbox)
        let line = lines.first { $0.hasPrefix("unread by order: ") }
        #expect(line?.hasPrefix("unread by order: SO-10004 1 · SO-10008 1 · SO-10012 12 · ") == true)
        #expect(line?.hasSuffix("SO-10080 1  (ORDER or READ <number> reads them)") == true)
    }
}
