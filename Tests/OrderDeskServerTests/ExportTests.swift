import Foundation
import Testing
import TestSupport
import OrderDeskCore
@testable import OrderDeskOps
@testable import OrderDeskServer

@Suite("Export for the rest of the business", .serialized)
struct ExportTests {
    /// What an import can reproduce of an order: everything it was captured with.
    struct Captured: Equatable {
        var number, customer, rep, po, currency, priority: String
        var ship: String?
        var lines: [String]

        init(_ order: Order) {
            number = order.number
            customer = order.customer
            rep = order.rep
            po = order.purchaseOrder
            currency = order.currency
            priority = order.priority.rawValue
            ship = order.requestedShipDate
            lines = order.lines.map { "\($0.sku):\($0.quantity):\($0.unitPrice.cents)" }
        }
    }

    static func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = ServerProcess.executable
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }

    @Test("export then import into an empty desk reproduces the orders", arguments: ["csv", "jsonl"])
    func roundTrip(format: String) throws {
        let source = try Fixture.copy()
        let directory = temporaryDirectory()
        let file = directory + "/orders." + format
        let exported = try Self.run(["export", "--data", source, "--format", format, "--out", file])
        #expect(exported.status == 0)
        // A desk with no orders, but with the users (an order's rep must be one, issue 9).
        let empty = directory + "/empty.sqlite"
        try seedStandardUsers(empty)
        let imported = try Self.run(["import", file, "--data", empty])
        #expect(imported.status == 0)
        #expect(imported.output.contains("imported 301 orders, refused 0"))
        let original = try SQLiteStore(readingOnly: source).load().orders.map(Captured.init)
        let copy = try SQLiteStore(readingOnly: empty).load().orders.map(Captured.init)
        #expect(copy.count == 301)
        #expect(copy == original, "same orders, same order of capture")
        let mode = try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }

    @Test("a date range picks orders by capture day; history comes along on request")
    func rangeAndHistory() throws {
        let store = try SQLiteStore(path: try Fixture.copy())
        let orders = try store.load().orders
        let day = try #require(Instant(day: "2026-11-30"))
        let range = Exporter.Range(from: day, to: day + Milliseconds(86_400_000))
        let expected = orders.filter { range.contains($0.capturedAt) }
        #expect(!expected.isEmpty && expected.count < orders.count)
        var rows: [String] = []
        var history: [String] = []
        let count = try Exporter.run(store: store, format: .csv, range: range, includeHistory: true,
                                     write: { rows.append($0) }, writeHistory: { history.append($0) })
        #expect(count == expected.count)
        #expect(rows.count == 1 + expected.reduce(0) { $0 + $1.lines.count })
        let threads = try expected.map { try store.thread(of: $0.number).history.count }
        #expect(history.count == 1 + threads.reduce(0, +))
        #expect(history.first == "number,at,by,action,detail\r\n")
        var lines: [String] = []
        let lastDay: Instant = try #require(Instant(day: "2026-12-02"))
        try Exporter.run(store: store, format: .jsonLines, range: Exporter.Range(from: lastDay), includeHistory: true, write: { lines.append($0) })
        let fixture = try #require(lines.first { $0.contains("\"number\":\"SO-20001\"") })
        let object = try #require(try JSONSerialization.jsonObject(with: Data(fixture.utf8)) as? [String: Any])
        #expect((object["history"] as? [[String: Any]])?.count == 7)
        #expect((object["notes"] as? [[String: Any]])?.first?["text"] as? String == "customer agreed the new price")
        #expect(object["stage"] as? String == "shipped" && object["finished"] != nil && object["released"] != nil)
    }

    @Test("export refuses bad options without writing anything")
    func badOptions() throws {
        let source = try Fixture.copy()
        #expect(try Self.run(["export", "--data", source, "--format", "xml"]).status == 2)
        #expect(try Self.run(["export", "--data", source, "--from", "2026-02-30"]).status == 2)
        #expect(try Self.run(["export", "--data", source, "--history"]).status == 2, "csv history needs --history-out")
    }
}
