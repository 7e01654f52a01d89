import Foundation
import Testing
import TestSupport
import OrderDeskCore
@testable import OrderDeskServer

@Suite("End to end: the audit trail", .serialized)
struct AuditTrailTests {
    @Test("every admin action is kept (past the old 1000 cap), across a restart, and pages back with before=", arguments: StoreEngine.available)
    func wholeTrailPages(engine: StoreEngine) throws {
        let place = try engine.makePlace()
        let unlocks = 1_205
        do {
            let desk = try TestDesk(place: place)
            defer { desk.stop() }
            let ada = try desk.client("ada")
            // Pipelined: all lines first, then every reply.
            try ada.sendRaw(Array((0..<unlocks).map { "UNLOCK user\($0)\n" }.joined().utf8))
            for _ in 0..<unlocks { #expect(try ada.readReply().last?.hasPrefix("OK target=") == true) }
            try ada.ok("THRESHOLD credit warning=1h stuck=2h admins=3h")
        }
        let desk = try TestDesk(place: place)
        defer { desk.stop() }
        let ada = try desk.client("ada")
        var ids: [UInt64] = []
        var before = ""
        var pages = 0
        while true {
            let reply = try ada.command("AUDIT 500" + before)
            let last = try #require(reply.last)
            #expect(field("entries", in: last) == String(unlocks + 1))
            ids += reply.dropLast().compactMap { field("id", in: $0).flatMap(UInt64.init) }
            pages += 1
            guard let more = field("more-before", in: last) else { break }
            before = " before=\(more)"
        }
        #expect(pages == 3)
        #expect(ids.count == unlocks + 1)
        #expect(ids == ids.sorted(by: >), "newest first, no entry twice")
        #expect(Set(ids).count == ids.count)
        let newest = try ada.command("AUDIT 1")
        #expect(newest.first.map { field("action", in: $0) } == "threshold")
        #expect(newest.last == "OK entries=\(unlocks + 1) shown=1 more-before=\(ids[0])")
    }

    @Test("AUDIT filters by administrator and by action")
    func filters() throws {
        let desk = try TestDesk(users: TestDesk.standardUsers + [("root", .admin)])
        defer { desk.stop() }
        let shop = try desk.client("shop")
        try desk.capture("SO-1", using: shop)
        let ada = try desk.client("ada")
        let root = try desk.client("root")
        try ada.ok("REASSIGN SO-1 ana covering for ben")
        try root.ok("REASSIGN SO-1 nobody force release")
        try root.ok("UNLOCK ben")
        try ada.ok("USER ROLE cleo admin")
        let reassigns = try ada.command("AUDIT action=REASSIGN")
        #expect(reassigns.last == "OK entries=2 shown=2")
        #expect(reassigns.dropLast().map { field("by", in: $0) } == ["root", "ada"])
        let byRoot = try ada.command("AUDIT 10 user=root")
        #expect(byRoot.dropLast().compactMap { field("action", in: $0) } == ["unlock", "reassign"])
        let both = try ada.command("AUDIT user=root action=unlock")
        #expect(both.last == "OK entries=1 shown=1")
        #expect(try ada.command("AUDIT user=nobody").last == "OK entries=0 shown=0")
        #expect(try ada.command("AUDIT before=x").last?.hasPrefix("ERR bad-arguments") == true)
        #expect(try ada.command("AUDIT colour=red").last?.hasPrefix("ERR bad-arguments") == true)
        let ana = try desk.client("ana")
        #expect(try ana.command("AUDIT").last?.hasPrefix("ERR denied") == true)
    }

    @Test("retention is a setting: old audit entries and mailbox events go only when it says so")
    func retention() throws {
        let directory = temporaryDirectory()
        let day = Milliseconds(86_400_000)
        let now = Instant(milliseconds: 1_800_000_000_000)
        func fill(_ store: SQLiteStore) throws {
            var changes: [StoreChange] = [.user(User(name: "ana", role: .processor, credential: try Passwords.credential(for: "ana", iterations: 1000)))]
            for age in [400, 40, 1] {
                let at = now - Milliseconds(Int64(age) * day.value)
                changes.append(.audit(AuditEntry(at: at, actor: "ada", action: "unlock", detail: "\(age) days ago")))
                changes.append(.mailbox(user: "ana", MailboxEntry(id: UInt64(age), at: at, kind: "message", line: "EVENT \(age) message",
                                                                    isPersonal: true, isRead: false, isDelivered: true)))
            }
            try store.commit(changes)
            while try store.maintain(now: now) {}
        }
        let keeping = try SQLiteStore(path: directory + "/default.sqlite")
        try fill(keeping)
        #expect(try keeping.auditEntries().map(\.detail) == ["400 days ago", "40 days ago", "1 days ago"], "audit kept by default")
        #expect(try keeping.load().mailboxes["ana"]?.entries.map(\.id) == [1], "mailboxes keep 14 days by default")
        let short = try SQLiteStore(path: directory + "/short.sqlite", retention: SQLiteStore.Retention(mailboxes: Milliseconds(60 * day.value), audit: Milliseconds(365 * day.value)))
        try fill(short)
        #expect(try short.auditEntries().map(\.detail) == ["40 days ago", "1 days ago"])
        #expect(try short.load().mailboxes["ana"]?.entries.map(\.id) == [1, 40])
    }
}
