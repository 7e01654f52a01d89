import Foundation
import Testing
@testable import DeskClientKit

@Suite("StatusLine")
struct StatusLineTests {
    /// 2026-11-22 14:30 UTC.
    static let now = Date(timeIntervalSince1970: 1_795_357_800)
    private func at(_ minutes: Double) -> Date { Self.now.addingTimeInterval(minutes * 60) }
    private func ok(_ command: String, _ summary: String, data: [String] = []) -> ServerReply {
        ServerReply(command: command, data: data, outcome: .ok(summary: summary))
    }

    @Test("claims with their lease ends, soonest first, counting down; the unread count; the connection")
    func text() {
        var status = StatusLine(user: "ana")
        status.loggedIn(user: "ana", claimLines: [
            "SO-2 stage=captured priority=high customer=A rep=sam po=P total=1.00 currency=USD age=1h holder=ana until=2026-11-22T14:45:00Z",
        ], unread: 2)
        status.learn(ok("NEXT", "order=SO-1 token=7 until=2026-11-22T14:31:30Z"), now: Self.now)
        let plain = Style(isEnabled: false)
        #expect(status.text(now: Self.now, width: 79, style: plain) == "● online · 2 claims: SO-1 90s!, SO-2 15m · 2 unread")
        #expect(status.text(now: at(10), width: 79, style: plain) == "● online · 2 claims: SO-1 0s!, SO-2 5m · 2 unread")
        status.connection = .offline
        #expect(status.text(now: Self.now, width: 30, style: plain).hasPrefix("○ offline"))
        #expect(DisplayWidth.of(status.text(now: Self.now, width: 30, style: plain)) <= 30)
        #expect(!status.text(now: Self.now, width: 79, style: Style(isEnabled: true)).isEmpty)
    }

    @Test("claims follow the replies: renewals, hand-backs, moves, refusals; WHOAMI sets them right")
    func claimsFromReplies() {
        var status = StatusLine(user: "ana")
        status.loggedIn(user: "ana", claimLines: [], unread: 0)
        status.learn(ok("CLAIM SO-1", "order=SO-1 token=7 until=2026-11-22T14:45:00Z"), now: Self.now)
        status.learn(ok("CLAIM SO-2", "order=SO-2 token=8 until=2026-11-22T14:45:00Z"), now: Self.now)
        status.learn(ok("CLAIM SO-3", "order=SO-3 token=9 until=2026-11-22T14:45:00Z"), now: Self.now)
        status.learn(ok("HOLD SO-1 credit x", "order=SO-1 hold=1 type=credit token=7 until=2026-11-22T14:50:00Z"), now: Self.now)
        #expect(status.claims["SO-1"] == at(20))
        status.learn(ok("NOTE SO-2 hi", "order=SO-2 notes=1"), now: at(5))
        #expect(status.claims["SO-2"] == at(20), "a NOTE renews the lease by the greeting's lease")
        status.learn(ok("NOTE SO-9 hi", "order=SO-9 notes=1"), now: Self.now)
        #expect(status.claims["SO-9"] == nil, "a note on an order not held claims nothing")
        status.learn(ok("HANDBACK SO-1 later", "order=SO-1 queue=credit"), now: Self.now)
        status.learn(ok("MOVE SO-2 released", "order=SO-2 stage=released"), now: Self.now)
        status.learn(ServerReply(command: "TOUCH SO-3", data: [], outcome: .failure(code: "not-holder", message: "order=SO-3 you do not hold this order")), now: Self.now)
        #expect(status.claims.isEmpty)
        status.learn(ok("WHOAMI", "user=ana role=processor claims=1", data: [
            "SO-4 stage=captured priority=high customer=A rep=sam po=P total=1.00 currency=USD age=1h holder=ana until=2026-11-22T14:40:00Z",
        ]), now: Self.now)
        #expect(status.claims == ["SO-4": at(10)])
        status.learn(ok("INBOX", "unread=0 shown=0"), now: Self.now)
        #expect(status.unread == 0)
    }

    @Test("pushes: lease warnings move the end, expiry and reassignment end a claim, personal pushes count as unread once")
    func claimsFromPushes() {
        var status = StatusLine(user: "ana")
        status.loggedIn(user: "ana", claimLines: [], unread: 0)
        status.learn(ok("CLAIM SO-1", "order=SO-1 token=7 until=2026-11-22T14:45:00Z"), now: Self.now)
        status.learn(ServerEvent(id: 1, kind: "lease-warning", fields: ["order": "SO-1", "until": "2026-11-22T14:32:00Z", "at": "2026-11-22T14:30:00Z"]),
                     isReplayed: false, now: Self.now)
        #expect(status.claims["SO-1"] == at(2))
        status.learn(ServerEvent(id: 2, kind: "lease-expired", fields: ["order": "SO-1", "reason": "timeout"]), isReplayed: false, now: Self.now)
        #expect(status.claims.isEmpty)
        status.learn(ServerEvent(id: 3, kind: "reassigned", fields: ["order": "SO-5", "from": "ben", "to": "ana", "by": "ada",
                                                                       "at": "2026-11-22T14:30:00Z"]), isReplayed: false, now: Self.now)
        #expect(status.claims["SO-5"] == at(15))
        status.learn(ServerEvent(id: 4, kind: "note", fields: ["order": "SO-5", "by": "ben", "text": "x"]), isReplayed: false, now: Self.now)
        status.learn(ServerEvent(id: 5, kind: "mention", fields: ["order": "SO-5", "by": "ben", "text": "@ana"]), isReplayed: true, now: Self.now)
        #expect(status.unread == 3, "the lease warning, the expiry and the reassignment count; a note does not; a replay was counted at login")
    }

    // Issue 11: a watcher's unread count grew, and its claim on another order vanished, when someone else's claim ended.
    @Test("someone else's claim running out neither counts as unread nor ends a claim of ours")
    func othersLeaseExpiry() {
        var status = StatusLine(user: "sam")
        status.loggedIn(user: "sam", claimLines: [], unread: 0)
        status.learn(ServerEvent(id: 2, kind: "lease-expired", fields: ["order": "SO-1", "holder": "ben", "reason": "timeout"]),
                     isReplayed: false, now: Self.now)
        status.learn(ServerEvent(id: 3, kind: "reassigned", fields: ["order": "SO-5", "from": "ben", "to": "ana", "by": "ada"]),
                     isReplayed: false, now: Self.now)
        #expect(status.unread == 0)
    }

    @Test("unread per order: from LOGIN and INBOX, grown by personal pushes, cleared by reading the order; shown while it fits")
    func unreadByOrder() {
        var status = StatusLine(user: "ana")
        status.loggedIn(user: "ana", claimLines: [], unread: 3,
                        unreadOrders: StatusLine.unreadOrders(fromField: "SO-10089:2,bad,SO-7:x,:4,SO-10060:1"))
        #expect(status.unreadByOrder == ["SO-10089": 2, "SO-10060": 1], "malformed items are skipped")
        status.learn(ServerEvent(id: 4, kind: "mention", fields: ["order": "SO-10060", "by": "ben", "text": "@ana"]), isReplayed: false, now: Self.now)
        #expect(status.unreadByOrder["SO-10060"] == 2)
        #expect(status.text(now: Self.now, width: 80, style: Style(isEnabled: false)) == "● online · no claims · 4 unread: SO-10060 2, SO-10089 2")
        #expect(status.text(now: Self.now, width: 40, style: Style(isEnabled: false)) == "● online · no claims · 4 unread", "the orders give way first")
        status.learn(ok("ORDER SO-10089", "order=SO-10089 marked=2 unread=2"), now: Self.now)
        #expect(status.unreadByOrder == ["SO-10060": 2])
        status.learn(ok("READ SO-10060", "order=SO-10060 marked=2 unread=0"), now: Self.now)
        #expect(status.unreadByOrder.isEmpty && status.unread == 0)
        status.learn(ok("INBOX", "unread=1 shown=1 unread-orders=SO-3:1"), now: Self.now)
        #expect(status.unreadByOrder == ["SO-3": 1])
    }
}
