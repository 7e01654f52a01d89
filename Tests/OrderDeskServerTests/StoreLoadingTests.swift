import Foundation
import Testing
import TestSupport
import OrderDeskCore
@testable import OrderDeskServer

/// The restart's reading of the orders table (`OrderRowReader`, issue 10).
@Suite("Store loading")
struct StoreLoadingTests {
    @Test("the reader's stage and priority tables spell every case as its rawValue")
    func wireNames() {
        for stage in Stage.allCases {
            #expect(Array(stage.rawValue.utf8).withUnsafeBufferPointer { OrderRowReader.match($0, in: OrderRowReader.stages) } == stage)
        }
        for priority in Priority.allCases {
            #expect(Array(priority.rawValue.utf8).withUnsafeBufferPointer { OrderRowReader.match($0, in: OrderRowReader.priorities) } == priority)
        }
        #expect(Array("ship".utf8).withUnsafeBufferPointer { OrderRowReader.match($0, in: OrderRowReader.stages) } == nil)
    }

    /// Three orders: SO-1 shipped with a note, SO-2 captured with a note, SO-3 captured, watched
    /// by its rep and ana.
    private func threeOrders(at path: String) throws -> SQLiteStore {
        let store = try SQLiteStore(path: path)
        let now = Instant(milliseconds: 1_800_000_000_000)
        var desk = Desk(settings: DeskSettings(), snapshot: DeskSnapshot(), now: now)
        var changes: [StoreChange] = []
        for (name, role) in [("shop", Role.integration), ("p1", .processor), ("ana", .service), ("a-sales-rep-with-a-long-name", .sales)] {
            changes += desk.put(User(name: name, role: role, credential: try Passwords.credential(for: name, iterations: 1))).changes
        }
        changes += desk.sessionOpened(user: "p1", now: now).outcome.changes
        for index in 1...3 {
            let draft = OrderDraft(number: "SO-\(index)", customer: "A customer whose name is long \(index % 2)",
                                   rep: "a-sales-rep-with-a-long-name", purchaseOrder: "PO-\(index)", currency: "USD",
                                   lines: [OrderLine(sku: "WID-\(index)", quantity: index, unitPrice: Money(cents: 100))],
                                   priority: index == 3 ? .urgent : .normal, requestedShipDate: nil)
            changes += desk.importOrder(draft, by: "shop", capturedAt: now + Milliseconds(Int64(index))).changes
        }
        let steps: [(Command, String)] = [
            (.note(order: "SO-1", text: "first"), "p1"), (.claim(order: "SO-1"), "p1"),
            (.move(order: "SO-1", to: .released, reason: nil), "p1"), (.move(order: "SO-1", to: .shipped, reason: nil), "shop"),
            (.note(order: "SO-2", text: "second"), "p1"), (.watch(order: "SO-3"), "ana"),
        ]
        for (command, user) in steps {
            let outcome = desk.execute(command, as: user, now: now + .minutes(1))
            #expect(outcome.reply?.isSuccess == true)
            changes += outcome.changes
        }
        try store.commit(changes)
        return store
    }

    @Test("open orders come with their notes and history; finished ones are archived, their thread left on disk")
    func threads() throws {
        let store = try threeOrders(at: temporaryDirectory() + "/desk.sqlite")
        let orders = try store.load().orders
        #expect(orders.map(\.number) == ["SO-1", "SO-2", "SO-3"])
        #expect(orders[0].isArchived && orders[0].notes.isEmpty && orders[0].history.isEmpty)
        #expect(try store.thread(of: "SO-1").notes.map(\.text) == ["first"])
        #expect(!orders[1].isArchived && orders[1].notes.map(\.text) == ["second"] && !orders[1].history.isEmpty)
        #expect(orders[2].notes.isEmpty && orders[2].watchers == ["a-sales-rep-with-a-long-name", "ana"])
        #expect(orders[1].watchers == ["a-sales-rep-with-a-long-name"])
        #expect(orders.map(\.customer) == ["A customer whose name is long 1", "A customer whose name is long 0", "A customer whose name is long 1"])
        #expect(orders.map(\.priority) == [.normal, .normal, .urgent] && orders.map(\.stage) == [.shipped, .captured, .captured])
        #expect(orders[2].lines == [OrderLine(sku: "WID-3", quantity: 3, unitPrice: Money(cents: 100))])
        #expect(orders[0].release?.by == "p1")
    }

    @Test("rows stored out of capture order are restored in sequence order")
    func sequenceOrder() throws {
        let path = temporaryDirectory() + "/desk.sqlite"
        let store = try threeOrders(at: path)
        let database = try SQLiteDatabase(path: path)
        try database.execute("UPDATE orders SET sequence = 10 - sequence")
        database.close()
        #expect(try store.load().orders.map(\.number) == ["SO-3", "SO-2", "SO-1"])
    }

    /// Values a damaged or hand-edited file may hold; each is refused as unreadable data (the
    /// server then stops with the reason) or loaded as far as it is sane, never a trap.
    static let damage: [(String, String)] = [
        ("UPDATE orders SET lines = 'WID-1:99999999999999999999:100' WHERE number = 'SO-2'", "order lines"),
        ("UPDATE orders SET lines = 'WID-1:1:99999999999999999999' WHERE number = 'SO-2'", "order lines"),
        ("UPDATE orders SET claim_holder = 'p1', claim_token = -1, claim_since = 0, claim_expires = 0, claim_warned = 0 WHERE number = 'SO-3'",
         "claim token of SO-3"),
        ("UPDATE orders SET stage = 'lost' WHERE number = 'SO-3'", "priority or stage of SO-3"),
    ]

    @Test("a damaged file is refused with what is wrong, never a trap", arguments: damage)
    func damagedFiles(statement: String, complaint: String) throws {
        let path = temporaryDirectory() + "/desk.sqlite"
        let store = try threeOrders(at: path)
        let database = try SQLiteDatabase(path: path)
        try database.execute(statement)
        database.close()
        #expect {
            _ = try store.load()
        } throws: { error in
            guard case StoreError.corrupt(let detail) = error else { return false }
            return detail.contains(complaint)
        }
    }

    @Test("a huge rowid (a hand-edited file) reserves no memory from it: the orders load")
    func hugeRowID() throws {
        let path = temporaryDirectory() + "/desk.sqlite"
        let store = try threeOrders(at: path)
        let database = try SQLiteDatabase(path: path)
        try database.execute("UPDATE orders SET rowid = 9000000000000000000 WHERE number = 'SO-3'")
        database.close()
        #expect(try store.load().orders.map(\.number) == ["SO-1", "SO-2", "SO-3"])
    }
}
