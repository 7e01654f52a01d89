import Testing
import TestSupport
import OrderDeskCore

@Suite("End to end: claims as leases", .serialized)
struct LeaseTests {
    /// Leases shortened to seconds, driven by an injected clock and explicit ticks.
    func makeDesk() throws -> TestDesk {
        var settings = DeskSettings()
        settings.leaseDuration = .seconds(60)
        settings.leaseWarning = .seconds(10)
        settings.graceWindow = .seconds(20)
        return try TestDesk(settings: settings, clock: ManualClock())
    }

    @Test("warning, then expiry: the order goes back to its queue and the holder is told")
    func expiry() throws {
        let desk = try makeDesk()
        defer { desk.stop() }
        let shop = try desk.client("shop")
        try desk.capture("SO-1", using: shop)
        let ana = try desk.client("ana")
        let sam = try desk.client("sam")
        try ana.ok("NEXT")
        desk.clock?.advance(.seconds(51))
        #expect(desk.server.tickNow(), "the tick came durable within 30 s")
        let warning = try ana.waitForEvent { $0.contains(" lease-warning ") }
        #expect(field("order", in: warning) == "SO-1")
        desk.clock?.advance(.seconds(10))
        #expect(desk.server.tickNow(), "the tick came durable within 30 s")
        let expired = try ana.waitForEvent { $0.contains(" lease-expired ") }
        #expect(field("reason", in: expired) == "timeout")
        #expect(field("holder", in: expired) == "ana")
        // Issue 11: the rep, a watcher, is told whose claim ended; it is not a personal event for them.
        let told = try sam.waitForEvent { $0.contains(" lease-expired ") }
        #expect(field("holder", in: told) == "ana")
        #expect(try sam.command("INBOX unread").last?.hasPrefix("OK unread=0 ") == true)
        #expect(try ana.command("INBOX unread").last?.hasPrefix("OK unread=2 ") == true, "the warning and the expiry")
        #expect(try ana.command("HOLD SO-1 credit too late").last?.hasPrefix("ERR not-holder") == true)
        let ben = try desk.client("ben")
        #expect(try ben.ok("NEXT").hasPrefix("OK order=SO-1 "))
    }

    @Test("a disconnect keeps claims for the grace window; reconnecting in time keeps them")
    func grace() throws {
        let desk = try makeDesk()
        defer { desk.stop() }
        let shop = try desk.client("shop")
        try desk.capture("SO-1", using: shop)
        try desk.capture("SO-2", using: shop)
        do {
            let ana = try desk.client("ana")
            try ana.ok("CLAIM SO-1")
            try ana.ok("QUIT")
            #expect(ana.waitForClose())
        }
        let ben = try desk.client("ben")
        try waitUntil("grace window to start") {
            field("grace-until", in: try ben.command("ORDER SO-1").first { $0.hasPrefix("* claim") } ?? "") != nil
        }
        desk.clock?.advance(.seconds(10))
        #expect(desk.server.tickNow(), "the tick came durable within 30 s")
        let ana = try desk.client("ana")
        #expect(try ana.command("QUEUE mine").last == "OK queue=mine count=1 shown=1")
        try ana.ok("CLAIM SO-2")
        try ana.ok("QUIT")
        let ada = try desk.client("ada")
        try waitUntil("ana's session to close") {
            try ada.command("USERS").contains { $0.contains("user=ana") && $0.contains("online=no") }
        }
        desk.clock?.advance(.seconds(21))
        #expect(desk.server.tickNow(), "the tick came durable within 30 s")
        try waitUntil("claims to return") {
            try ben.command("QUEUE new").last == "OK queue=new count=2 shown=2"
                && ben.command("ORDER SO-1").contains("* claim holder=nobody")
        }
        let history = try ben.command("HISTORY SO-1")
        #expect(history.contains { $0.contains("action=lease-expired") && $0.contains("disconnected") })
    }

    @Test("REASSIGN tells the old holder, the new holder and the watchers at once")
    func reassign() throws {
        let desk = try makeDesk()
        defer { desk.stop() }
        let shop = try desk.client("shop")
        try desk.capture("SO-1", using: shop)
        let ana = try desk.client("ana")
        let ben = try desk.client("ben")
        let sam = try desk.client("sam")
        let ada = try desk.client("ada")
        try ana.ok("CLAIM SO-1")
        try ada.ok("REASSIGN SO-1 ben ana is at lunch")
        for client in [ana, ben, sam] {
            let event = try client.waitForEvent { $0.contains(" reassigned ") }
            #expect(field("from", in: event) == "ana")
            #expect(field("to", in: event) == "ben")
        }
        #expect(try ana.command("TOUCH SO-1").last?.hasPrefix("ERR claimed") == true)
        #expect(try ben.ok("TOUCH SO-1").hasPrefix("OK order=SO-1 token="))
    }
}
