import Foundation
import Testing
import TestSupport
import OrderDeskCore
import OrderDeskOps
@testable import OrderDeskServer

@Suite("Online backup and check", .serialized)
struct BackupTests {
    @Test("a backup taken during a load of writes opens, passes check, and holds every change acknowledged before it began")
    func backupUnderLoad() throws {
        let directory = temporaryDirectory()
        let path = directory + "/desk.sqlite"
        let copy = directory + "/backup.sqlite"
        do {
            let store = try SQLiteStore(path: path)
            try DemoData.seed(into: store, now: SystemClock.now(), orderCount: 3_000, iterations: 1_000)
        }
        let server = try ServerProcess(data: path)
        defer { server.terminate() }
        // Writers capture orders as fast as the desk acknowledges them, before, during and after the backup.
        let acknowledged = Locked<[Int: [String]]>([:])
        let isStopping = Locked(false)
        let port = server.port
        let writers = 3
        let group = DispatchGroup()
        for writer in 0..<writers {
            group.enter()
            Thread {
                defer { group.leave() }
                guard let shop = try? LineClient(port: port), (try? shop.ok("LOGIN shop demo")) != nil else { return }
                var count = 0
                while !isStopping.current {
                    let number = "BK-\(writer)-\(count)"
                    guard (try? shop.ok("CAPTURE \(number) customer=Load rep=sam po=PO-\(count) lines=WID-1:1:1.00")) != nil else { return }
                    acknowledged.withLock { $0[writer, default: []].append(number) }
                    count += 1
                }
            }.start()
        }
        try waitUntil(timeout: 20, "writes under way") { acknowledged.current.values.reduce(0) { $0 + $1.count } >= 300 }
        let before = Set(acknowledged.current.values.joined())
        // Few pages per step, with pauses, so writes go on while the copy is made.
        let summary = try Backup.run(from: path, to: copy, pagesPerStep: 4, pause: 2_000)
        let after = acknowledged.current.values.reduce(0) { $0 + $1.count }
        isStopping.withLock { $0 = true }
        group.wait()
        #expect(after > before.count, "the desk kept acknowledging writes during the backup")
        #expect(summary.pages > 100)

        let report = try DataFileCheck.run(path: copy)
        #expect(report.problems == [])
        #expect(report.schemaVersion == SchemaMigration.newest)
        let numbers = Set(try SQLiteStore(readingOnly: copy).load().orders.map(\.number))
        #expect(before.subtracting(numbers).isEmpty, "every change acknowledged before the backup began is in it")
        #expect(numbers.count >= 3_000 + before.count)
        let mode = try FileManager.default.attributesOfItem(atPath: copy)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        // Restoring is starting a server on the copy.
        let restored = try ServerProcess(data: copy)
        defer { restored.terminate() }
        let cora = try LineClient(port: restored.port)
        try cora.ok("LOGIN cora demo")
        let sample = try #require(before.sorted().first)
        #expect(try cora.command("ORDER \(sample)").last == "OK order=\(sample)")
    }

    @Test("a backup never overwrites a file")
    func refusesToOverwrite() throws {
        let directory = temporaryDirectory()
        let path = try Fixture.copy()
        let target = directory + "/exists.sqlite"
        #expect(FileManager.default.createFile(atPath: target, contents: Data("keep me".utf8)))
        #expect(throws: Backup.Failure.self) { _ = try Backup.run(from: path, to: target) }
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "keep me")
    }

    @Test("check passes the fixture and names each broken invariant")
    func checkFindsProblems() throws {
        #expect(try DataFileCheck.run(path: try Fixture.copy()).problems == [])
        let path = try Fixture.copy()
        do {
            let database = try SQLiteDatabase(path: path)
            try database.execute("""
                UPDATE orders SET claim_token = 900 WHERE number = 'SO-10266';
                UPDATE orders SET claim_token = 194 WHERE number = 'SO-10045';
                UPDATE orders SET claim_holder = 'ana', claim_token = 194, claim_since = 0, claim_expires = 1, claim_warned = 0
                    WHERE number = 'SO-10293';
                UPDATE orders SET episodes = '' WHERE number = 'SO-10001';
                INSERT INTO holds VALUES('SO-20001', 2, 'credit', 'x', 'ana', 0, NULL, NULL, NULL);
                INSERT INTO notes(order_number, at, author, text) VALUES('SO-99999', 0, 'ana', 'orphan');
                """)
        }
        let problems = try DataFileCheck.run(path: path).problems
        #expect(problems.contains { $0.contains("SO-10266 claim token 900 is not below the token counter 196") })
        #expect(problems.contains { $0.contains("share") || $0.contains("same token 194") })
        #expect(problems.contains { $0.contains("SO-10001 queue stays [] do not match") })
        #expect(problems.contains { $0.contains("SO-20001 is shipped with open holds") })
        #expect(problems.contains { $0 == "1 notes rows belong to no order" })
        #expect(problems.count == 5)
    }

    @Test("check names notes and history filed under another sequence than their order's (schema version 4)")
    func checkFindsMisfiledThreads() throws {
        let path = try Fixture.copy()
        _ = try SQLiteStore(path: path)  // migrates it
        #expect(try DataFileCheck.run(path: path).problems == [])
        try SQLiteDatabase(path: path).execute("UPDATE notes SET order_sequence = order_sequence + 1000 WHERE order_number = 'SO-10266'")
        #expect(try DataFileCheck.run(path: path).problems == ["1 notes rows are filed under another sequence than their order's"])
    }

    @Test("orderdesk check exits 0 on a sound file and 1 on problems")
    func checkCommand() throws {
        func run(_ path: String) throws -> (Int32, String) {
            let process = Process()
            process.executableURL = ServerProcess.executable
            process.arguments = ["check", "--data", path]
            let output = Pipe()
            process.standardOutput = output
            try process.run()
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            return (process.terminationStatus, text)
        }
        let sound = try run(try Fixture.copy())
        #expect(sound.0 == 0 && sound.1.contains("301 orders, 9 users: ok"))
        let broken = try Fixture.copy()
        do { try SQLiteDatabase(path: broken).execute("UPDATE meta SET value = 1 WHERE key = 'next_token'") }
        let found = try run(broken)
        #expect(found.0 == 1)
        #expect(found.1.contains("problem: SO-10266 claim token 190 is not below the token counter 1"))
    }
}
