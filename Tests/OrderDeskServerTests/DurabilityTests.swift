import Foundation
import Testing
import TestSupport
import OrderDeskCore
@testable import OrderDeskServer

@Suite("End to end: durability", .serialized)
struct DurabilityTests {
    @Test("a restart restores orders, holds, claims with their deadlines, threads, watchers and users", arguments: StoreEngine.available)
    func restartKeepsEverything(engine: StoreEngine) throws {
        let place = try engine.makePlace()
        var before: [String] = []
        do {
            let desk = try TestDesk(place: place)
            let shop = try desk.client("shop")
            try desk.capture("SO-1", using: shop)
            try desk.capture("SO-2", using: shop, priority: "urgent")
            let ana = try desk.client("ana")
            try ana.ok("CLAIM SO-1")
            try ana.ok("HOLD SO-1 credit over limit")
            try ana.ok("NOTE SO-1 called @sam")
            let cora = try desk.client("cora")
            try cora.ok("WATCH SO-1")
            before = try cora.command("ORDER SO-1")
            desk.stop()
        }
        let desk = try TestDesk(place: place)
        defer { desk.stop() }
        let cora = try desk.client("cora")
        let after = try cora.command("ORDER SO-1")
        let stable = { (lines: [String]) in lines.filter { !$0.hasPrefix("* order ") && !$0.hasPrefix("* claim ") } }
        #expect(stable(after) == stable(before))
        let claim = after.first { $0.hasPrefix("* claim ") } ?? ""
        #expect(field("holder", in: claim) == "ana")
        #expect(field("until", in: claim) == field("until", in: before.first { $0.hasPrefix("* claim ") } ?? ""))
        #expect(field("grace-until", in: claim) != nil, "after a restart the holder gets a grace window to reconnect")
        #expect(try cora.command("HISTORY SO-1").count == 5)
        // Tokens keep growing across the restart.
        let ben = try desk.client("ben")
        let token = field("token", in: try ben.ok("CLAIM SO-2"))
        #expect(Int(token ?? "") ?? 0 > Int(field("token", in: claim) ?? "") ?? 0)
    }

    @Test("a finished order's thread stays on disk at restart and is read back when someone looks", arguments: StoreEngine.available)
    func archivedOrders(engine: StoreEngine) throws {
        let place = try engine.makePlace()
        do {
            let desk = try TestDesk(place: place)
            let shop = try desk.client("shop")
            try desk.capture("SO-1", using: shop)
            let ana = try desk.client("ana")
            try ana.ok("CLAIM SO-1")
            try ana.ok("NOTE SO-1 packed with care")
            try ana.ok("MOVE SO-1 released")
            try shop.ok("MOVE SO-1 shipped")
            desk.stop()
        }
        let desk = try TestDesk(place: place)
        defer { desk.stop() }
        let cora = try desk.client("cora")
        #expect(try cora.command("HISTORY SO-1").last == "OK order=SO-1 entries=5")
        // A note on the shipped order, then a look-up on the same line stream: the reply order
        // holds and the new note is there.
        try cora.send("NOTE SO-1 customer called, all arrived\nORDER SO-1\nPING")
        #expect(try cora.readReply().last?.hasPrefix("OK order=SO-1 notes=") == true)
        let card = try cora.readReply()
        #expect(card.filter { $0.hasPrefix("* note ") }.map { field("text", in: $0) } == ["packed with care", "customer called, all arrived"])
        #expect(try cora.readReply().last == "OK PONG")
        let ada = try desk.client("ada")
        let processor = try ada.command("METRICS").first { $0.hasPrefix("* processor user=ana") } ?? ""
        #expect(field("released", in: processor) == "1", "throughput survives the restart without the history in memory")
    }

    @Test("a failed commit answers ERR storage and changes nothing")
    func failedCommit() throws {
        let store = MemoryStore()
        let desk = try TestDesk(store: store)
        defer { desk.stop() }
        let shop = try desk.client("shop")
        try desk.capture("SO-1", using: shop)
        let ana = try desk.client("ana")
        store.failNextCommits(1)
        #expect(try ana.command("CLAIM SO-1").last?.hasPrefix("ERR storage ") == true)
        #expect(try ana.command("ORDER SO-1").contains("* claim holder=nobody"))
        #expect(try ana.command("CLAIM SO-1").last?.hasPrefix("OK order=SO-1") == true, "the desk works again after the fault")
        #expect(try store.load().orders.first?.lease?.holder == "ana")
    }

    @Test("SIGKILL loses nothing that was acknowledged")
    func killNine() throws {
        let directory = temporaryDirectory()
        let data = directory + "/desk.sqlite"
        try seedStandardUsers(data)
        var server = try ServerProcess(data: data)
        let shop = try LineClient(port: server.port)
        try shop.ok("LOGIN shop shop")
        var acknowledged: [String] = []
        // Pipeline captures so commits are in flight when the kill lands.
        for index in 1...200 {
            try shop.send("CAPTURE SO-\(index) customer=Acme rep=sam po=P\(index) lines=A:1:1")
        }
        for _ in 1...120 {
            let reply = try shop.readReply()
            if let last = reply.last, last.hasPrefix("OK"), let number = field("order", in: last) { acknowledged.append(number) }
        }
        server.kill()
        server = try ServerProcess(data: data)
        defer { server.terminate() }
        let check = try LineClient(port: server.port)
        try check.ok("LOGIN shop shop")
        for number in acknowledged {
            #expect(try check.command("ORDER \(number)").last == "OK order=\(number)")
        }
        #expect(acknowledged.count == 120)
        #expect(try SQLiteStore(path: data).integrityCheck() == "ok")
    }
}

@Suite("Store encoding")
struct StoreEncodingTests {
    @Test("order lines round-trip through the store's encoding", arguments: [
        [OrderLine(sku: "WID-1", quantity: 2, unitPrice: Money(cents: 1050))],
        [OrderLine(sku: "A", quantity: 1, unitPrice: Money(cents: 0)), OrderLine(sku: "GAD_9.x", quantity: 1_000_000, unitPrice: Money(cents: 99_999_999))],
        [],
    ])
    func lines(lines: [OrderLine]) throws {
        #expect(try StoreEncoding.decodeLines(StoreEncoding.encode(lines)) == lines)
    }

    @Test("damaged order lines are refused, not guessed", arguments: ["WID", "WID:1", "WID:1:", "WID:x:1", ":1:1", "A:1:1,", "A:1:1,B"])
    func damaged(text: String) {
        #expect(throws: StoreError.self) { try StoreEncoding.decodeLines(text) }
    }
}
