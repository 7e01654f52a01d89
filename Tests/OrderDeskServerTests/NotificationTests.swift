import Testing
import TestSupport
import OrderDeskCore
import OrderDeskServer
import OrderDeskWire

@Suite("End to end: notifications, escalation, presence, metrics", .serialized)
struct NotificationTests {
    @Test("a rep who was offline while their order got stuck finds the ping in the inbox")
    func offlineRepInbox() throws {
        let clock = ManualClock()
        let desk = try TestDesk(clock: clock)
        defer { desk.stop() }
        let shop = try desk.client("shop")
        try desk.capture("SO-1", using: shop, rep: "sam")
        clock.advance(.minutes(121))  // past the new queue's stuck threshold (2h)
        #expect(desk.server.tickNow(), "the tick came durable within 30 s")
        let sam = try desk.client("sam")
        #expect(try sam.command("PING").last == "OK PONG")
        let login = try LineClient(port: desk.port)
        let reply = try login.command("LOGIN sam sam")
        #expect(field("unread", in: reply.last ?? "") == "1")
        let inbox = try login.command("INBOX")
        let ping = inbox.first { $0.contains(" stuck ") } ?? ""
        #expect(field("order", in: ping) == "SO-1")
        #expect(field("queue", in: ping) == "new")
        #expect(field("read", in: ping) == "no")
        let id = ping.dropFirst(2).split(separator: " ").first.map(String.init) ?? ""
        #expect(try login.ok("READ \(id)") == "OK marked=1 unread=0")
        #expect(try login.command("INBOX unread").last == "OK unread=0 shown=0")
    }

    // Issue 11: an admin started the day with 62 unread and had to mark them read by id.
    @Test("opening an order's card reads its events, READ <number> reads an order's, and the marks survive a restart")
    func readingAnOrder() throws {
        let path = temporaryDirectory() + "/desk.sqlite"
        do {
            let desk = try TestDesk(store: try SQLiteStore(path: path))
            defer { desk.stop() }
            let shop = try desk.client("shop")
            try desk.capture("SO-10089", using: shop)
            try desk.capture("SO-10090", using: shop)
            let ana = try desk.client("ana")
            try ana.ok("NOTE SO-10089 @sam price?")
            try ana.ok("NOTE SO-10089 @sam still waiting")
            try ana.ok("NOTE SO-10090 @sam and this one")
            let sam = try desk.client("sam")
            #expect(field("unread-orders", in: try sam.command("INBOX").last ?? "") == "SO-10089:2,SO-10090:1")
            let card = try sam.command("ORDER so-10089")
            #expect(card.last == "OK order=SO-10089 marked=2 unread=1")
            #expect(card.contains { $0.hasPrefix("* order SO-10089 ") })
            #expect(try sam.command("ORDER SO-10089").last == "OK order=SO-10089")
            #expect(try sam.command("READ SO-10090").last == "OK order=SO-10090 marked=1 unread=0")
        }
        let desk = try TestDesk(store: try SQLiteStore(path: path))
        defer { desk.stop() }
        let login = try LineClient(port: desk.port)
        #expect(field("unread", in: try login.command("LOGIN sam sam").last ?? "") == "0")
    }

    @Test("a client that reconnects with its last event id gets exactly the events it missed", arguments: StoreEngine.available)
    func resume(_ engine: StoreEngine) throws {
        let desk = try TestDesk(engine: engine)
        defer { desk.stop() }
        let shop = try desk.client("shop")
        var sam = try desk.client("sam")
        try desk.capture("SO-1", using: shop)
        let first = try sam.waitForEvent { $0.contains(" captured ") }
        let lastSeen = ServerLine.eventID(first) ?? 0
        try sam.ok("QUIT")
        // While sam is away: three events for him, and one for someone else.
        try desk.capture("SO-2", using: shop)
        try desk.capture("SO-3", using: shop, rep: "rita")
        let ana = try desk.client("ana")
        try ana.ok("NOTE SO-1 @sam call them")
        try ana.ok("CLAIM SO-2")
        sam = try desk.client("sam")
        try ana.ok("NOTE SO-2 live after login")
        let live = try sam.waitForEvent { $0.contains("live after login") }
        let reply = try sam.command("RESUME \(lastSeen)")
        #expect(reply.last == "OK resumed=3 complete=yes")
        let replayed = sam.events.compactMap(ServerLine.eventID)
        #expect(replayed == replayed.sorted())
        #expect(replayed.allSatisfy { $0 > lastSeen && $0 < (ServerLine.eventID(live) ?? 0) }, "no duplicate of the live event")
        #expect(sam.events.map { $0.split(separator: " ")[2] } == ["captured", "mention", "claimed"])
        #expect(try sam.command("RESUME \(lastSeen)").last == "OK resumed=0 complete=yes", "replayed events are not sent twice")
    }

    @Test("escalation steps fire once each and not again after a restart", arguments: StoreEngine.available)
    func escalationOnce(_ engine: StoreEngine) throws {
        let clock = ManualClock()
        let place = try engine.makePlace()
        var settings = DeskSettings()
        settings.leaseDuration = .minutes(300)  // the holder keeps the order through the first steps
        var desk = try TestDesk(place: place, settings: settings, clock: clock)
        let shop = try desk.client("shop")
        try desk.capture("SO-1", using: shop, rep: "sam")
        let ana = try desk.client("ana")
        try ana.ok("CLAIM SO-1")
        try ana.ok("HOLD SO-1 pricing below list")
        let sam = try desk.client("sam")
        let ada = try desk.client("ada")
        // pricing: warning 2h, stuck 4h, admins 8h.
        clock.advance(.minutes(121))
        #expect(desk.server.tickNow(), "the tick came durable within 30 s")
        #expect(field("queue", in: try ana.waitForEvent { $0.contains(" stuck-warning ") }) == "pricing")
        try ana.ok("TOUCH SO-1")
        clock.advance(.minutes(120))
        #expect(desk.server.tickNow(), "the tick came durable within 30 s")
        #expect(field("order", in: try sam.waitForEvent { $0.contains(" stuck ") }) == "SO-1")
        #expect(desk.server.tickNow(), "the tick came durable within 30 s")
        let stuck = try ada.command("STUCK")
        #expect(stuck.last == "OK stuck=1 shown=1")
        #expect(field("told", in: stuck.first ?? "") == "sam")
        desk.stop()

        desk = try TestDesk(place: place, settings: settings, clock: clock)
        defer { desk.stop() }
        let admin = try desk.client("ada")
        let rep = try desk.client("sam")
        #expect(desk.server.tickNow(), "the tick came durable within 30 s")
        clock.advance(.minutes(241))
        #expect(desk.server.tickNow(), "the tick came durable within 30 s")
        #expect(field("order", in: try admin.waitForEvent { $0.contains(" escalated ") }) == "SO-1")
        #expect(desk.server.tickNow(), "the tick came durable within 30 s")
        let history = try admin.command("HISTORY SO-1").filter { $0.contains("action=stuck ") || $0.contains("action=escalated ") }
        #expect(history.count == 2, "each step once: \(history)")
        #expect(try rep.command("INBOX").filter { $0.contains(" stuck ") }.count == 1)
    }

    @Test("a direct message to an offline user is delivered at login; away users answer automatically")
    func directMessages() throws {
        let desk = try TestDesk()
        defer { desk.stop() }
        let ana = try desk.client("ana")
        #expect(try ana.ok("MSG sam please call Acme about SO-1") == "OK to=sam delivered=at-login")
        let sam = try LineClient(port: desk.port)
        try sam.send("LOGIN sam sam")
        #expect(try sam.readReply().last?.contains("unread=1") == true)
        let message = try sam.waitForEvent { $0.contains(" message ") }
        #expect(field("from", in: message) == "ana")
        #expect(field("orders", in: message) == "SO-1")
        try sam.ok("AWAY at lunch until 1pm")
        try ana.ok("MSG sam are you there?")
        #expect(field("text", in: try ana.waitForEvent { $0.contains(" away ") }) == "at lunch until 1pm")
        let who = try ana.command("WHO")
        #expect(who.contains { $0.contains("user=sam") && $0.contains("status=away") })
        try sam.ok("JOIN pricing")
        try ana.ok("JOIN pricing")
        try ana.ok("SAY pricing who knows the Acme price for SO-1?")
        #expect(field("room", in: try sam.waitForEvent { $0.contains(" say ") }) == "pricing")
    }

    @Test("queue subscribers hear when an order enters or leaves")
    func subscriptions() throws {
        let desk = try TestDesk()
        defer { desk.stop() }
        let cleo = try desk.client("cleo")
        try cleo.ok("SUBSCRIBE credit")
        let shop = try desk.client("shop")
        try desk.capture("SO-1", using: shop)
        let ana = try desk.client("ana")
        try ana.ok("CLAIM SO-1")
        try ana.ok("HOLD SO-1 credit over limit")
        let entered = try cleo.waitForEvent { $0.contains(" queue ") }
        #expect(field("change", in: entered) == "entered")
        try ana.ok("UNHOLD SO-1 credit paid")
        #expect(field("change", in: try cleo.waitForEvent { $0.contains(" queue ") }) == "left")
    }

    @Test("METRICS on a known fixture gives the expected figures")
    func metrics() throws {
        let clock = ManualClock()
        // Leases long enough for the hour-long steps below: a lease that runs out is over at once.
        var settings = DeskSettings()
        settings.leaseDuration = .minutes(300)
        let desk = try TestDesk(settings: settings, clock: clock)
        defer { desk.stop() }
        let shop = try desk.client("shop")
        let ana = try desk.client("ana")
        // Four orders shipped after 1h, 2h, 3h and 4h; the 2h one had a pricing hold for 30 minutes.
        for (index, hours) in [1, 2, 3, 4].enumerated() {
            let number = "SO-\(index + 1)"
            try desk.capture(number, using: shop)
            try ana.ok("CLAIM \(number)")
            if hours == 2 {
                try ana.ok("HOLD \(number) pricing check")
                clock.advance(.minutes(30))
                try ana.ok("UNHOLD \(number) pricing ok")
                clock.advance(.minutes(30))
            } else {
                clock.advance(.minutes(60))
            }
            try ana.ok("MOVE \(number) released")
            clock.advance(.minutes(Int64(hours - 1) * 60))
            try shop.ok("MOVE \(number) shipped")
        }
        try desk.capture("SO-9", using: shop)
        let ada = try desk.client("ada")
        let lines = try ada.command("METRICS window=7d")
        let line = { (prefix: String) in lines.first { $0.hasPrefix("* " + prefix) } ?? "" }
        #expect(field("depth", in: line("queue name=new")) == "1")
        #expect(field("shipped", in: line("cycle")) == "4")
        #expect(field("p50-seconds", in: line("cycle")) == "7200")
        #expect(field("p90-seconds", in: line("cycle")) == "14400")
        #expect(field("resolved", in: line("hold type=pricing")) == "1")
        #expect(field("p50-seconds", in: line("hold type=pricing")) == "1800")
        #expect(field("share", in: line("clean-ship")) == "0.75")
        #expect(field("released", in: line("processor user=ana")) == "4")
        #expect(field("commits", in: line("ops")).flatMap(Int.init) ?? 0 > 0)
        #expect(lines.last?.hasPrefix("OK window=7d") == true)
    }
}
