import Testing
import TestSupport
import OrderDeskCore

@Suite("End to end: people working the desk together", .serialized)
struct ScenarioTests {
    /// The three-session story: processor, sales rep, customer service.
    @Test("a pricing hold travels from processor to rep to customer service and back", arguments: StoreEngine.available)
    func threeSessions(_ engine: StoreEngine) throws {
        let desk = try TestDesk(engine: engine)
        defer { desk.stop() }
        let shop = try desk.client("shop")
        try desk.capture("SO-10042", using: shop, rep: "sam", priority: "high", customer: "Acme Corp")
        let ana = try desk.client("ana")
        let sam = try desk.client("sam")
        let cora = try desk.client("cora")

        let next = try ana.command("NEXT")
        #expect(next.last?.hasPrefix("OK order=SO-10042 token=") == true)
        try ana.ok("HOLD SO-10042 pricing list price changed, @sam please confirm with the customer")

        // The rep is pinged by name and answers in the thread; the holder hears the answer.
        let mention = try sam.waitForEvent { $0.contains(" mention ") }
        #expect(field("order", in: mention) == "SO-10042")
        #expect(field("by", in: mention) == "ana")
        try sam.ok("NOTE SO-10042 customer agreed the new price")
        let answer = try ana.waitForEvent { $0.contains(" note ") }
        #expect(field("text", in: answer) == "customer agreed the new price")

        // Customer service looks it up without locking anything and sees hold, reason and holder.
        let card = try cora.command("ORDER SO-10042")
        let hold = card.first { $0.hasPrefix("* hold ") } ?? ""
        #expect(field("type", in: hold) == "pricing")
        #expect(field("status", in: hold) == "open")
        #expect(field("reason", in: hold) == "list price changed, @sam please confirm with the customer")
        #expect(field("holder", in: card.first { $0.hasPrefix("* claim ") } ?? "") == "ana")
        try cora.ok("WATCH SO-10042")

        try ana.ok("UNHOLD SO-10042 pricing customer agreed the new price")
        try ana.ok("MOVE SO-10042 released")
        for watcher in [sam, cora] {
            let unhold = try watcher.waitForEvent { $0.contains(" unhold ") }
            #expect(field("type", in: unhold) == "pricing")
            let stage = try watcher.waitForEvent { $0.contains(" stage ") }
            #expect(field("to", in: stage) == "released")
            #expect(field("by", in: stage) == "ana")
        }
        #expect(ana.events.allSatisfy { !$0.contains(" stage ") }, "the actor gets no push about their own move")
        let final = try cora.command("ORDER SO-10042")
        #expect(final.first?.contains("stage=released") == true)
        #expect(final.contains("* claim holder=nobody"))
    }

    @Test("event ids only grow on a connection", arguments: StoreEngine.available)
    func eventIDsGrow(_ engine: StoreEngine) throws {
        let desk = try TestDesk(engine: engine)
        defer { desk.stop() }
        let shop = try desk.client("shop")
        let sam = try desk.client("sam")
        for index in 1...5 { try desk.capture("SO-\(index)", using: shop) }
        var ids: [UInt64] = []
        for _ in 1...5 {
            let event = try sam.waitForEvent { $0.contains(" captured ") }
            ids.append(UInt64(event.split(separator: " ")[1]) ?? 0)
        }
        #expect(ids == ids.sorted())
        #expect(Set(ids).count == 5)
    }

    @Test("a watcher on another connection of the same user gets the push on every session", arguments: StoreEngine.available)
    func everySession(_ engine: StoreEngine) throws {
        let desk = try TestDesk(engine: engine)
        defer { desk.stop() }
        let shop = try desk.client("shop")
        try desk.capture("SO-1", using: shop)
        let first = try desk.client("cora")
        let second = try desk.client("cora")
        try first.ok("WATCH SO-1")
        let ana = try desk.client("ana")
        try ana.ok("NOTE SO-1 hello")
        for session in [first, second] {
            #expect(field("text", in: try session.waitForEvent { $0.contains(" note ") }) == "hello")
        }
    }
}
