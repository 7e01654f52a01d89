import Foundation
import Testing
import TestSupport
import OrderDeskCore
@testable import OrderDeskServer

/// Upgrades keep every data file: the schema-version-1 file made by main before migrations
/// existed (Fixtures/README.md) must open, intact, after every later schema change.
@Suite("Data files: the v1 fixture and schema migrations", .serialized)
struct FixtureTests {
    @Test("the v1 fixture migrates to the newest version with every order, note, hold, claim, event and threshold intact")
    func fixtureOpensIntact() throws {
        let expected = try Fixture.facts()
        #expect(expected.user_version == 1)
        let store = try SQLiteStore(path: try Fixture.copy())
        let found = try Facts.read(from: store)
        #expect(found.user_version == SchemaMigration.newest)
        #expect(found.users == expected.users)
        #expect(found.meta == expected.meta)
        #expect(found.stages == expected.stages)
        #expect(found.notes == expected.notes)
        #expect(found.history == expected.history)
        #expect(found.mailboxes == expected.mailboxes)
        #expect(found.memberships == expected.memberships)
        #expect(found.thresholds == expected.thresholds)
        #expect(found.audit == expected.audit)
        #expect(found.orders.count == expected.orders.count)
        for (order, wanted) in zip(found.orders, expected.orders) where order != wanted {
            Issue.record("order \(wanted.number) differs: \(order) != \(wanted)")
        }
    }

    @Test("concrete facts recorded when the fixture was made")
    func fixtureFacts() throws {
        let store = try SQLiteStore(path: try Fixture.copy())
        let snapshot = try store.load()
        #expect(snapshot.orders.count == 301)
        #expect(snapshot.users.count == 9)
        #expect(snapshot.counters == DeskCounters(nextToken: 196, nextEventID: 762, nextSequence: 302))
        let orders = Dictionary(uniqueKeysWithValues: snapshot.orders.map { ($0.number, $0) })
        let fixture = try #require(orders["SO-20001"])
        #expect(fixture.customer == "Fixture Co" && fixture.rep == "sam" && fixture.purchaseOrder == "PO-FIX-1")
        #expect(fixture.stage == .shipped && fixture.priority == .high && fixture.requestedShipDate == "2026-12-15")
        #expect(fixture.total == Money(cents: 12_000) && fixture.watchers == ["cora", "sam"])
        #expect(fixture.holds.count == 1 && fixture.holds.first?.type == .pricing && fixture.holds.first?.isOpen == false)
        #expect(try store.thread(of: "SO-20001").notes.map(\.text) == ["customer agreed the new price"])
        let claims = snapshot.orders.compactMap { order in order.lease.map { (order.number, $0.holder, $0.token) } }
        #expect(claims.map(\.0) == ["SO-10045", "SO-10266"])
        #expect(claims.map(\.1) == ["ana", "ana"] && claims.map(\.2) == [194, 190])
        #expect(orders["SO-10266"]?.openHold(ofType: .credit) != nil)
        #expect(orders["SO-10293"]?.lease == nil)
        #expect(snapshot.thresholds[.hold(.pricing)] == EscalationThresholds(warning: .minutes(60), stuck: .minutes(180), admins: .minutes(360)))
        #expect(snapshot.mailboxes["cleo"]?.entries.last?.line.contains("welcome back on Monday") == true)
    }

    @Test("a server starts on the migrated fixture, serves it, and a change survives a restart")
    func fixtureRoundTrips() throws {
        let path = try Fixture.copy()
        do {
            // The desk's clock stands where the fixture was made, inside its claims' grace windows.
            let clock = ManualClock(Instant(milliseconds: 1_796_198_400_000))
            let desk = try TestDesk(store: try SQLiteStore(path: path), clock: clock, users: [])
            defer { desk.stop() }
            let ana = try LineClient(port: desk.port)
            let login = try ana.command("LOGIN ana demo")
            #expect(login.last?.hasPrefix("OK user=ana role=processor claims=2") == true)
            #expect(try ana.command("QUEUE mine").dropLast().compactMap { $0.split(separator: " ").dropFirst().first } == ["SO-10266", "SO-10045"])
            #expect(try ana.command("HISTORY SO-20001").last == "OK order=SO-20001 entries=7")
            try ana.ok("NOTE SO-10266 after the upgrade")
        }
        let store = try SQLiteStore(path: path)
        let order = try #require(try store.load().orders.first { $0.number == "SO-10266" })
        #expect(order.notes.last?.text == "after the upgrade")
        #expect(order.notes.count == 2)
    }

    @Test("from version 4 on, notes and history are filed under their order's sequence, and read by index")
    func threadsFiledBySequence() throws {
        let path = try Fixture.copy()
        do {
            let desk = try TestDesk(store: try SQLiteStore(path: path), clock: ManualClock(Instant(milliseconds: 1_796_198_400_000)), users: [])
            defer { desk.stop() }
            let ana = try LineClient(port: desk.port)
            try ana.ok("LOGIN ana demo")
            try ana.ok("NOTE SO-10266 after the upgrade")
        }
        let database = try SQLiteDatabase(path: path)
        func count(_ sql: String) throws -> Int64 {
            let statement = try database.prepare(sql)
            return try statement.step() ? statement.int(0) : -1
        }
        for table in ["notes", "history"] {
            // Every row, the migrated ones and the one just written, carries its order's sequence.
            #expect(try count("SELECT COUNT(*) FROM \(table)") > 0)
            #expect(try count("SELECT COUNT(*) FROM \(table) t LEFT JOIN orders o ON o.number = t.order_number WHERE t.order_sequence IS NOT o.sequence") == 0)
        }
        #expect(try count("SELECT COUNT(*) FROM notes WHERE order_number='SO-10266' AND text='after the upgrade' AND order_sequence > 0") == 1)
        let indexes = try database.prepare("SELECT name FROM sqlite_master WHERE type='index' AND tbl_name IN ('notes','history') ORDER BY name")
        var names: [String] = []
        while try indexes.step() { names.append(indexes.text(0)) }
        #expect(names == ["history_by_sequence", "notes_by_sequence"])
        // The migration's WAL was given back when the store opened (the NOTE's frames came after).
        let migrated = try Fixture.copy()
        let open = try SQLiteStore(path: migrated)
        let wal = try FileManager.default.attributesOfItem(atPath: migrated + "-wal")[.size] as? Int
        #expect(wal == 0, "a migrated file starts with an empty WAL")
        withExtendedLifetime(open) {}
        // A restart's reads and a finished order's thread use the index, never a scan of the table.
        let key = OrderRowReader.ThreadKey.sequence
        for sql in [OrderRowReader.selectNotes(where: key.condition), OrderRowReader.selectHistory(where: key.condition),
                    "SELECT at FROM history WHERE \(key.conditionByNumber) ORDER BY rowid"] {
            let plan = try database.prepare("EXPLAIN QUERY PLAN " + sql)
            var steps: [String] = []
            while try plan.step() { steps.append(plan.text(3)) }
            #expect(steps.contains { $0.contains("_by_sequence") } && !steps.contains { $0.hasPrefix("SCAN") }, "\(sql): \(steps)")
        }
    }

    @Test("two orders that a damaged file gives one sequence keep their own threads")
    func sharedSequenceKeepsThreadsApart() throws {
        let path = try Fixture.copy()
        let before = try SQLiteStore(path: path)
        let open = try #require(try before.load().orders.first { $0.number == "SO-10266" })
        let finished = try before.thread(of: "SO-20001")
        #expect(!open.notes.isEmpty && !open.history.isEmpty && !finished.notes.isEmpty)
        do {
            // The open order takes the finished one's sequence, its thread rows with it.
            let database = try SQLiteDatabase(path: path)
            try database.execute("""
                UPDATE orders SET sequence = (SELECT sequence FROM orders WHERE number='SO-20001') WHERE number='SO-10266';
                UPDATE notes SET order_sequence = (SELECT sequence FROM orders WHERE number='SO-20001') WHERE order_number='SO-10266';
                UPDATE history SET order_sequence = (SELECT sequence FROM orders WHERE number='SO-20001') WHERE order_number='SO-10266';
                """)
        }
        let store = try SQLiteStore(path: path)
        let reloaded = try #require(try store.load().orders.first { $0.number == "SO-10266" })
        #expect(reloaded.notes == open.notes && reloaded.history == open.history)
        let thread = try store.thread(of: "SO-20001")
        #expect(thread.notes == finished.notes && thread.history == finished.history)
    }

    @Test("an older file opened only for reading (check, export) still reads every thread, by number, and is left as it was")
    func olderFileReadsThreads() throws {
        let path = try Fixture.copy()
        let before = try Fixture.bytes(of: path)
        let expected = try Fixture.facts()
        let found = try Facts.read(from: try SQLiteStore(readingOnly: path))
        #expect(found.user_version == 1)
        #expect(found.notes == expected.notes && found.history == expected.history)
        for (order, wanted) in zip(found.orders, expected.orders) where order != wanted {
            Issue.record("order \(wanted.number) differs: \(order) != \(wanted)")
        }
        #expect(try Fixture.bytes(of: path) == before)
    }

    @Test("a file made by a newer orderdesk is refused, naming both versions, and left untouched")
    func newerFileRefused() throws {
        let path = try Fixture.copy()
        do {
            let database = try SQLiteDatabase(path: path)
            try database.execute("PRAGMA user_version = \(SchemaMigration.newest + 7)")
        }
        let before = try Fixture.bytes(of: path)
        #expect {
            _ = try SQLiteStore(path: path)
        } throws: { error in
            guard case .newerSchema(_, let fileVersion, let supported) = error as? StoreError else { return false }
            let message = "\(error)"
            return fileVersion == SchemaMigration.newest + 7 && supported == SchemaMigration.newest
                && message.contains("schema version \(fileVersion)") && message.contains("up to \(supported)")
        }
        #expect(try Fixture.bytes(of: path) == before)
    }

    @Test("a migration that fails leaves the file byte for byte as it was")
    func failedMigrationChangesNothing() throws {
        let path = try Fixture.copy()
        let before = try Fixture.bytes(of: path)
        let failing = SchemaMigration(version: SchemaMigration.newest + 1, sql: """
            CREATE TABLE scratch(value INTEGER);
            INSERT INTO scratch VALUES(1);
            DELETE FROM orders;
            INSERT INTO no_such_table VALUES(1);
            """)
        #expect {
            _ = try SQLiteStore(path: path, migrations: SchemaMigration.all + [failing])
        } throws: { error in
            guard case .migrationFailed(_, let version, _) = error as? StoreError else { return false }
            return version == failing.version
        }
        #expect(try Fixture.bytes(of: path) == before)
        let leftover = FileManager.default.fileExists(atPath: path + "-wal") ? try Fixture.bytes(of: path + "-wal") : Data()
        #expect(leftover.isEmpty, "nothing of the failed migration is left in a WAL")
        // Still version 1 with all its orders: the real migrations then run as usual.
        let store = try SQLiteStore(path: path)
        #expect(try store.load().orders.count == 301)
        #expect(try store.schemaVersion() == SchemaMigration.newest)
    }

    @Test("a new data file is created with mode 0600 at the newest version")
    func freshFile() throws {
        let path = temporaryDirectory() + "/fresh.sqlite"
        let store = try SQLiteStore(path: path)
        #expect(try store.schemaVersion() == SchemaMigration.newest)
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }
}
