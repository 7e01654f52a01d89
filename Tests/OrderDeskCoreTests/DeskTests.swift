import Testing
@testable import OrderDeskCore

/// A desk with users and a clock the test moves.
struct DeskFixture {
    var desk: Desk
    var now = Instant(milliseconds: 1_795_000_000_000)

    init(settings: DeskSettings = DeskSettings()) {
        desk = Desk(settings: settings, snapshot: DeskSnapshot(), now: now)
        for (name, role) in [("ana", Role.processor), ("ben", .processor), ("sam", .sales), ("cora", .service), ("ada", .admin), ("shop", .integration)] {
            _ = desk.put(User(name: name, role: role, credential: Credential(salt: [], hash: [], iterations: 1)))
        }
    }

    @discardableResult
    mutating func run(_ line: String, as user: String) -> Outcome {
        guard case .success(.desk(let command)) = CommandParser().parse(line) else {
            Issue.record("cannot parse \(line) as a desk command")
            return Outcome(reply: nil)
        }
        return desk.execute(command, as: user, now: now)
    }

    mutating func capture(_ number: String, priority: String = "normal") {
        let outcome = run("CAPTURE \(number) customer=Acme rep=sam po=PO-\(number) lines=A:1:1 priority=\(priority)", as: "shop")
        #expect(outcome.reply?.isOK == true)
    }

    mutating func advance(_ span: Milliseconds) { now = now + span }
}

extension Reply {
    var isOK: Bool { isSuccess }
    var errorCode: String? { if case .failure(let error) = self { error.code } else { nil } }
    /// The `OK` line's fields, as the encoder writes them ("" for a failure).
    var summary: String { wireLines.last.flatMap { $0.hasPrefix("OK") ? String($0.dropFirst(3)) : nil } ?? "" }
    /// The data lines, without their `* `.
    var data: [String] { wireLines.dropLast().map { String($0.dropFirst(2)) } }
    private var wireLines: [Substring] { wireText.split(separator: "\n") }
}

@Suite("Desk rules")
struct DeskTests {
    @Test("NEXT takes the most urgent, then the oldest, and never a claimed order")
    func nextOrdering() {
        var fixture = DeskFixture()
        fixture.capture("SO-1", priority: "normal")
        fixture.advance(.seconds(1))
        fixture.capture("SO-2", priority: "high")
        fixture.advance(.seconds(1))
        fixture.capture("SO-3", priority: "high")
        #expect(fixture.run("NEXT", as: "ana").reply?.summary.hasPrefix("order=SO-2") == true)
        #expect(fixture.run("NEXT", as: "ben").reply?.summary.hasPrefix("order=SO-3") == true)
        #expect(fixture.run("NEXT", as: "ana").reply?.summary.hasPrefix("order=SO-1") == true)
        #expect(fixture.run("NEXT", as: "ben").reply?.errorCode == "queue-empty")
    }

    @Test("a refused claim names the holder and the lease end")
    func refusedClaim() {
        var fixture = DeskFixture()
        fixture.capture("SO-1")
        fixture.run("CLAIM SO-1", as: "ana")
        let reply = fixture.run("CLAIM SO-1", as: "ben").reply
        guard case .failure(.claimedByOther(_, let holder, let until)) = reply else {
            Issue.record("expected claimed, got \(String(describing: reply))")
            return
        }
        #expect(holder == "ana")
        #expect(until == fixture.now + .minutes(15))
    }

    @Test("tokens only grow, and re-claiming your own order keeps the token")
    func tokens() {
        var fixture = DeskFixture()
        fixture.capture("SO-1")
        fixture.capture("SO-2")
        let first = fixture.run("CLAIM SO-1", as: "ana").reply?.summary ?? ""
        let again = fixture.run("CLAIM SO-1", as: "ana").reply?.summary ?? ""
        let second = fixture.run("CLAIM SO-2", as: "ben").reply?.summary ?? ""
        let token = { (summary: String) in Int(summary.split(separator: " ").first { $0.hasPrefix("token=") }?.dropFirst(6) ?? "") ?? -1 }
        #expect(token(first) == token(again))
        #expect(token(second) > token(first))
    }

    @Test("only the holder or an admin changes holds and stage")
    func holderOnly() {
        var fixture = DeskFixture()
        fixture.capture("SO-1")
        #expect(fixture.run("HOLD SO-1 credit over limit", as: "ana").reply?.errorCode == "not-holder")
        fixture.run("CLAIM SO-1", as: "ana")
        #expect(fixture.run("HOLD SO-1 credit over limit", as: "ben").reply?.errorCode == "claimed")
        #expect(fixture.run("HOLD SO-1 credit over limit", as: "sam").reply?.errorCode == "denied")
        #expect(fixture.run("HOLD SO-1 credit over limit", as: "ana").reply?.isOK == true)
        #expect(fixture.run("HOLD SO-1 pricing check", as: "ada").reply?.isOK == true)
    }

    @Test("an order moves on only when all holds are released")
    func holdsBlockMoves() {
        var fixture = DeskFixture()
        fixture.capture("SO-1")
        fixture.run("CLAIM SO-1", as: "ana")
        fixture.run("HOLD SO-1 credit over limit", as: "ana")
        fixture.run("HOLD SO-1 address no dock", as: "ana")
        #expect(fixture.run("HOLD SO-1 credit again", as: "ana").reply?.errorCode == "hold-exists")
        #expect(fixture.run("MOVE SO-1 released", as: "ana").reply?.errorCode == "open-holds")
        #expect(fixture.run("UNHOLD SO-1 credit paid", as: "ana").reply?.isOK == true)
        #expect(fixture.run("MOVE SO-1 released", as: "ana").reply?.errorCode == "open-holds")
        #expect(fixture.run("UNHOLD SO-1 inventory nothing", as: "ana").reply?.errorCode == "no-hold")
        #expect(fixture.run("UNHOLD SO-1 address fixed", as: "ana").reply?.isOK == true)
        #expect(fixture.run("MOVE SO-1 released", as: "ana").reply?.isOK == true)
        let order = fixture.desk.orders["SO-1"]
        #expect(order?.stage == .released)
        #expect(order?.lease == nil)
        #expect(order?.holds.count == 2)
        #expect(order?.holds.allSatisfy { !$0.isOpen } == true)
    }

    @Test("the transition table decides who moves what")
    func moves() {
        var fixture = DeskFixture()
        fixture.capture("SO-1")
        fixture.run("CLAIM SO-1", as: "ana")
        #expect(fixture.run("MOVE SO-1 shipped", as: "ana").reply?.errorCode == "illegal-move")
        #expect(fixture.run("MOVE SO-1 cancelled", as: "ana").reply?.errorCode == "bad-arguments")
        #expect(fixture.run("MOVE SO-1 released", as: "shop").reply?.errorCode == "denied")
        #expect(fixture.run("MOVE SO-1 released", as: "ana").reply?.isOK == true)
        #expect(fixture.run("MOVE SO-1 shipped", as: "ana").reply?.errorCode == "denied")
        #expect(fixture.run("MOVE SO-1 shipped", as: "shop").reply?.isOK == true)
        #expect(fixture.run("MOVE SO-1 cancelled oops", as: "ada").reply?.errorCode == "illegal-move")
        #expect(fixture.run("CLAIM SO-1", as: "ana").reply?.errorCode == "illegal-move")
    }

    @Test("orders that ship leave no entry behind in the released queue's heap, though nobody takes NEXT from it")
    func releasedHeapStaysBounded() {
        var fixture = DeskFixture()
        for index in 1...300 {
            fixture.capture("SO-\(index)")
            #expect(fixture.run("CLAIM SO-\(index)", as: "ana").reply?.isOK == true)
            #expect(fixture.run("MOVE SO-\(index) released", as: "ana").reply?.isOK == true)
            #expect(fixture.run("MOVE SO-\(index) shipped", as: "shop").reply?.isOK == true)
        }
        // Live members: none; the heap may hold at most twice that and a margin of 64 stale entries.
        #expect(fixture.desk.index.candidateCount(in: .released) <= 65, "\(fixture.desk.index.candidateCount(in: .released)) entries")
        fixture.capture("SO-LAST")
        #expect(fixture.run("CLAIM SO-LAST", as: "ana").reply?.isOK == true)
        #expect(fixture.run("MOVE SO-LAST released", as: "ana").reply?.isOK == true)
        #expect(fixture.desk.index.isMember("SO-LAST", of: .released))
        #expect(fixture.desk.index.candidateCount(in: .released) >= 1, "the live one keeps its entry")
    }

    @Test("a failed command changes nothing")
    func failureChangesNothing() {
        var fixture = DeskFixture()
        fixture.capture("SO-1")
        let before = fixture.desk.orders
        let outcome = fixture.run("MOVE SO-1 released", as: "ana")
        #expect(outcome.reply?.errorCode == "not-holder")
        #expect(outcome.changes.isEmpty)
        #expect(outcome.pushes.isEmpty)
        #expect(fixture.desk.orders == before)
    }

    @Test("a duplicate capture is refused, never merged")
    func duplicateCapture() {
        var fixture = DeskFixture()
        fixture.capture("SO-1")
        let reply = fixture.run("CAPTURE SO-1 customer=Other rep=sam po=X lines=B:9:9", as: "shop").reply
        #expect(reply?.errorCode == "exists")
        #expect(fixture.desk.orders["SO-1"]?.customer == "Acme")
    }

    @Test("the holder is warned before the lease runs out, then the order returns to its queue")
    func leaseExpiry() {
        var settings = DeskSettings()
        settings.leaseDuration = .minutes(10)
        settings.leaseWarning = .minutes(2)
        var fixture = DeskFixture(settings: settings)
        _ = fixture.desk.sessionOpened(user: "ana", now: fixture.now)
        fixture.capture("SO-1")
        fixture.run("CLAIM SO-1", as: "ana")
        fixture.advance(.minutes(7))
        #expect(fixture.desk.tick(now: fixture.now).pushes.isEmpty)
        fixture.advance(Milliseconds(60_001))
        let warned = fixture.desk.tick(now: fixture.now).pushes
        #expect(warned.map(\.recipients) == [["ana"]])
        guard case .leaseWarning = warned.first?.event.kind else {
            Issue.record("no warning: \(warned)")
            return
        }
        #expect(fixture.desk.tick(now: fixture.now).pushes.isEmpty, "warned only once")
        fixture.advance(.minutes(2))
        let expired = fixture.desk.tick(now: fixture.now)
        guard case .leaseExpired(_, _, _, let reason) = expired.pushes.first?.event.kind else {
            Issue.record("no expiry: \(expired.pushes)")
            return
        }
        #expect(reason == "timeout")
        #expect(Set(expired.pushes.first?.recipients ?? []) == ["ana", "sam"])
        #expect(fixture.desk.orders["SO-1"]?.lease == nil)
        #expect(fixture.run("HOLD SO-1 credit late", as: "ana").reply?.errorCode == "not-holder", "an expired holder cannot change the order")
        #expect(fixture.run("NEXT", as: "ben").reply?.summary.hasPrefix("order=SO-1") == true)
    }

    // Issue 11: the rep of an order saw "your claim ran out", with the bell, as an unread event.
    @Test("a claim that ends names its holder and is personal to the holder alone")
    func leaseExpiryNamesHolder() {
        var fixture = DeskFixture()
        _ = fixture.desk.sessionOpened(user: "ana", now: fixture.now)
        fixture.capture("SO-1")
        fixture.run("CLAIM SO-1", as: "ana")
        _ = fixture.desk.sessionClosed(user: "ana", now: fixture.now)
        fixture.advance(.minutes(2))
        let expired = fixture.desk.tick(now: fixture.now).pushes
        guard let event = expired.first?.event, case .leaseExpired(_, let holder, _, let reason) = event.kind else {
            Issue.record("no expiry: \(expired)")
            return
        }
        #expect(holder == "ana" && reason == "disconnected")
        #expect(event.wireLine.contains(" holder=ana "))
        #expect(event.isPersonal(for: "ana"))
        #expect(!event.isPersonal(for: "sam"))
        #expect(fixture.desk.unreadCount(of: "sam") == 0, "the rep is told, not pinged")
        #expect(fixture.desk.unreadCount(of: "ana") == 1)
    }

    @Test("a reassignment is personal to the old and the new holder, not to the watchers")
    func reassignmentIsPersonalToHolders() {
        var fixture = DeskFixture()
        fixture.capture("SO-1")
        fixture.run("CLAIM SO-1", as: "ana")
        #expect(fixture.run("REASSIGN SO-1 ben ana is out", as: "ada").reply?.errorCode == nil)
        #expect(fixture.desk.unreadCount(of: "ana") == 1)
        #expect(fixture.desk.unreadCount(of: "ben") == 1)
        #expect(fixture.desk.unreadCount(of: "sam") == 0)
    }

    @Test("opening an order's card marks that order's events read for that user, and READ <number> does too")
    func readingAnOrderReadsItsEvents() {
        var fixture = DeskFixture()
        fixture.capture("SO-1")
        fixture.capture("SO-2")
        fixture.run("NOTE SO-1 @sam first", as: "ana")
        fixture.run("NOTE SO-1 @sam second", as: "ana")
        fixture.run("NOTE SO-2 @sam other", as: "ana")
        #expect(fixture.desk.unreadCount(of: "sam") == 3)
        #expect(fixture.run("INBOX", as: "sam").reply?.summary.hasSuffix(" unread-orders=SO-1:2,SO-2:1") == true)
        let card = fixture.run("ORDER so-1", as: "sam")
        #expect(card.reply?.summary == "order=SO-1 marked=2 unread=1")
        #expect(card.changes.count == 2, "the read marks are kept")
        #expect(fixture.run("ORDER SO-1", as: "sam").reply?.summary == "order=SO-1", "nothing left to mark")
        #expect(fixture.run("ORDER SO-2", as: "cora").reply?.summary == "order=SO-2", "another user's card reads only their events")
        #expect(fixture.desk.unreadCount(of: "sam") == 1)
        #expect(fixture.run("READ SO-2", as: "sam").reply?.summary == "order=SO-2 marked=1 unread=0")
        #expect(fixture.run("READ SO-404", as: "sam").reply?.errorCode == "not-found")
        #expect(fixture.run("INBOX", as: "sam").reply?.summary == "unread=0 shown=3")
    }

    @Test("a disabled admin does not count: the desk keeps one enabled admin, whatever USER ROLE or USER DISABLE is asked")
    func lastEnabledAdmin() {
        var fixture = DeskFixture()
        _ = fixture.desk.put(User(name: "root", role: .admin, credential: Credential(salt: [], hash: [], iterations: 1)))
        #expect(fixture.run("USER DISABLE root gone", as: "ada").reply?.summary == "user=root disabled=yes handed-back=0")
        #expect(fixture.run("USER ROLE ada processor", as: "ada").reply?.errorCode == "last-admin")
        #expect(fixture.run("USER DISABLE ada me", as: "ada").reply?.errorCode == "last-admin")
        #expect(fixture.run("USER ENABLE root", as: "ada").reply?.summary == "user=root disabled=no")
        #expect(fixture.run("USER DISABLE ada me", as: "ada").reply?.errorCode == "bad-arguments", "never yourself")
        let refused = fixture.run("USER DISABLE ana x", as: "ben")
        #expect(refused.reply?.errorCode == "denied" && refused.changes.isEmpty)
        #expect(fixture.desk.users["ana"]?.isDisabled == false)
    }

    @Test("a disabled admin's session commands are refused as its desk commands are, until its sessions end")
    func disabledAdminSessionCommands() {
        var fixture = DeskFixture()
        _ = fixture.desk.put(User(name: "root", role: .admin, credential: Credential(salt: [], hash: [], iterations: 1)))
        #expect(fixture.desk.refusal(of: .unlock(user: "ben"), by: "root") == nil)
        #expect(fixture.run("USER DISABLE root gone", as: "ada").reply?.isOK == true)
        for command in [SessionCommand.unlock(user: "ben"), .audit(AuditQuery()), .addUser(name: "eve", role: .admin, password: "x"),
                        .resetPassword(user: "ada", password: "x"), .resume(after: 0)] {
            #expect(fixture.desk.refusal(of: command, by: "root") == .userDisabled("root"), "\(command)")
        }
        #expect(fixture.run("STUCK", as: "root").reply?.errorCode == fixture.desk.refusal(of: .resume(after: 0), by: "root")?.code)
    }

    @Test("CARD reads the order in plain words: stage, what holds it up, who is on it, shipping; no internal reason")
    func plainCard() throws {
        var fixture = DeskFixture()
        fixture.capture("SO-10089")
        fixture.run("CLAIM SO-10089", as: "ana")
        fixture.run("HOLD SO-10089 pricing list price changed, @sam please confirm", as: "ana")
        fixture.advance(.minutes(300))
        fixture.run("CLAIM SO-10089", as: "ana")  // the first lease ran out meanwhile
        let reply = fixture.run("CARD SO-10089", as: "cora").reply
        guard let reply, reply.isOK else {
            Issue.record("no card: \(String(describing: reply))")
            return
        }
        let summary = reply.summary, data = reply.data
        #expect(summary == "order=SO-10089")
        #expect(data.first?.hasPrefix("card order=SO-10089 customer=Acme po=PO-SO-10089 stage=captured") == true)
        #expect(data.contains { $0.hasPrefix("stage text=\"Received on ") && $0.contains("cannot go to the warehouse") })
        #expect(data.contains { $0.hasPrefix("blocked text=\"Waiting for a price to be confirmed since ") && $0.hasSuffix("(5 hours).\"") })
        #expect(data.contains("people text=\"ana is working on it now. The customer's sales rep is sam.\""))
        #expect(data.contains("ship text=\"The customer did not ask for a ship date.\""))
        #expect(!data.contains { $0.contains("@sam") || $0.contains("list price") }, "hold reasons are internal")
    }

    @Test("a bare number finds the one order ending in it; several are ambiguous; a whole number is kept")
    func bareNumbers() {
        var fixture = DeskFixture()
        fixture.capture("SO-10089")
        fixture.capture("SO-10090")
        fixture.capture("PO-10090")
        fixture.capture("XX-10090")
        fixture.capture("777")
        #expect(fixture.run("ORDER 10089", as: "cora").reply?.summary == "order=SO-10089")
        #expect(fixture.run("CARD 10089", as: "cora").reply?.summary == "order=SO-10089")
        #expect(fixture.run("HISTORY 10089", as: "cora").reply?.summary.hasPrefix("order=SO-10089 ") == true)
        let ambiguous = fixture.run("ORDER 10090", as: "cora").reply
        #expect(ambiguous?.errorCode == "ambiguous")
        // All three candidates are named, in order (the third came after the index said "several").
        #expect(ambiguous?.wireText.contains("PO-10090,SO-10090,XX-10090") == true, "\(String(describing: ambiguous?.wireText))")
        #expect(fixture.run("ORDER 777", as: "cora").reply?.summary == "order=777")
        #expect(fixture.run("ORDER 0089", as: "cora").reply?.errorCode == "not-found")
        #expect(fixture.run("CLAIM 10089", as: "ana").reply?.errorCode == "not-found", "changes need the whole number")
    }

    @Test("a restored desk finds bare numbers as the live one did, past 17 digits too (issue 10's packed index)")
    func bareNumbersAfterRestart() {
        var fixture = DeskFixture()
        for number in ["SO-10089", "SO-10090", "PO-10090", "SO-123456789012345678", "PO-123456789012345678", "SO-98765432109876543210", "XX-0089"] {
            fixture.capture(number)
        }
        let live = fixture.desk
        fixture.desk = Desk(settings: live.settings, snapshot: DeskSnapshot(orders: live.orders.values, users: Array(live.users.values),
                                                                          counters: live.counters), now: fixture.now)
        for desk in [live, fixture.desk] {
            fixture.desk = desk
            #expect(fixture.run("ORDER 10089", as: "cora").reply?.summary == "order=SO-10089")
            #expect(fixture.run("ORDER 0089", as: "cora").reply?.summary == "order=XX-0089")
            #expect(fixture.run("ORDER 89", as: "cora").reply?.errorCode == "not-found")
            #expect(fixture.run("ORDER 10090", as: "cora").reply?.errorCode == "ambiguous")
            #expect(fixture.run("ORDER 98765432109876543210", as: "cora").reply?.summary == "order=SO-98765432109876543210")
            let long = fixture.run("ORDER 123456789012345678", as: "cora").reply
            #expect(long?.errorCode == "ambiguous" && long?.wireText.contains("PO-123456789012345678,SO-123456789012345678") == true)
        }
    }

    @Test("any action of the holder renews the lease")
    func renewal() {
        var settings = DeskSettings()
        settings.leaseDuration = .minutes(10)
        var fixture = DeskFixture(settings: settings)
        _ = fixture.desk.sessionOpened(user: "ana", now: fixture.now)
        fixture.capture("SO-1")
        fixture.run("CLAIM SO-1", as: "ana")
        fixture.advance(.minutes(9))
        fixture.run("NOTE SO-1 still on it", as: "ana")
        fixture.advance(.minutes(9))
        fixture.run("TOUCH SO-1", as: "ana")
        fixture.advance(.minutes(9))
        _ = fixture.desk.tick(now: fixture.now)
        #expect(fixture.desk.orders["SO-1"]?.lease?.holder == "ana")
        #expect(fixture.desk.orders["SO-1"]?.lease?.expires == fixture.now + .minutes(1))
    }

    @Test("claims survive a disconnect for the grace window, then return to the queue")
    func grace() {
        var settings = DeskSettings()
        settings.graceWindow = .seconds(60)
        var fixture = DeskFixture(settings: settings)
        _ = fixture.desk.sessionOpened(user: "ana", now: fixture.now)
        fixture.capture("SO-1")
        fixture.capture("SO-2")
        fixture.run("CLAIM SO-1", as: "ana")
        fixture.run("CLAIM SO-2", as: "ana")
        _ = fixture.desk.sessionClosed(user: "ana", now: fixture.now)
        fixture.advance(.seconds(30))
        _ = fixture.desk.sessionOpened(user: "ana", now: fixture.now)
        fixture.advance(.seconds(45))
        _ = fixture.desk.tick(now: fixture.now)
        #expect(fixture.desk.orders["SO-1"]?.lease?.holder == "ana", "reconnecting within the window keeps claims")
        _ = fixture.desk.sessionClosed(user: "ana", now: fixture.now)
        fixture.advance(.seconds(61))
        let outcome = fixture.desk.tick(now: fixture.now)
        #expect(fixture.desk.orders["SO-1"]?.lease == nil)
        #expect(fixture.desk.orders["SO-2"]?.lease == nil)
        #expect(outcome.pushes.count == 2)
    }

    @Test("reassigning tells the old holder, the new one and the watchers in one step")
    func reassign() {
        var fixture = DeskFixture()
        fixture.capture("SO-1")
        fixture.run("CLAIM SO-1", as: "ana")
        fixture.run("WATCH SO-1", as: "cora")
        let outcome = fixture.run("REASSIGN SO-1 ben ana is out", as: "ada")
        #expect(outcome.reply?.isOK == true)
        #expect(outcome.pushes.count == 1)
        #expect(Set(outcome.pushes.first?.recipients ?? []) == ["ana", "ben", "sam", "cora"])
        #expect(fixture.desk.orders["SO-1"]?.lease?.holder == "ben")
        #expect(fixture.run("REASSIGN SO-1 cora no", as: "ada").reply?.errorCode == "bad-user")
        #expect(fixture.run("REASSIGN SO-1 nobody stuck", as: "ada").reply?.isOK == true)
        #expect(fixture.desk.orders["SO-1"]?.lease == nil)
    }

    @Test("a note pings mentioned users and goes to watchers, never to its author")
    func notes() {
        var fixture = DeskFixture()
        fixture.capture("SO-1")
        fixture.run("WATCH SO-1", as: "cora")
        let outcome = fixture.run("NOTE SO-1 @ana can you look? @nobody", as: "sam")
        let kinds = outcome.pushes.map { ($0.recipients, $0.event.kind) }
        #expect(kinds.count == 2)
        #expect(kinds.contains { $0.0 == ["cora"] && { if case .note = $0 { true } else { false } }($0.1) })
        #expect(kinds.contains { $0.0 == ["ana"] && { if case .mention = $0 { true } else { false } }($0.1) })
        #expect(outcome.pushes.map(\.event.id) == outcome.pushes.map(\.event.id).sorted())
    }

    @Test("roles limit commands")
    func roles() {
        var fixture = DeskFixture()
        fixture.capture("SO-1")
        #expect(fixture.run("NEXT", as: "cora").reply?.errorCode == "denied")
        #expect(fixture.run("CAPTURE SO-2 customer=A rep=sam po=P lines=A:1:1", as: "ana").reply?.errorCode == "denied")
        #expect(fixture.run("REASSIGN SO-1 ana x", as: "ana").reply?.errorCode == "denied")
        #expect(fixture.run("ORDER SO-1", as: "cora").reply?.isOK == true)
    }

    @Test("a restored desk gives every claim a grace window")
    func restoreGrace() {
        var fixture = DeskFixture()
        fixture.capture("SO-1")
        fixture.run("CLAIM SO-1", as: "ana")
        let snapshot = DeskSnapshot(orders: Array(fixture.desk.orders.values), users: Array(fixture.desk.users.values), counters: fixture.desk.counters)
        var restored = Desk(settings: DeskSettings(), snapshot: snapshot, now: fixture.now)
        #expect(restored.orders["SO-1"]?.lease?.graceEnds == fixture.now + .seconds(60))
        _ = restored.sessionOpened(user: "ana", now: fixture.now)
        #expect(restored.orders["SO-1"]?.lease?.graceEnds == nil)
    }
}

@Suite("Desk rules found in review")
struct ReviewRegressionTests {
    /// Regression: a move by someone else cleared the claim before the holder was told.
    @Test("the holder hears when an admin moves the order they hold")
    func holderToldOfMove() {
        var fixture = DeskFixture()
        fixture.capture("SO-1")
        fixture.run("CLAIM SO-1", as: "ana")
        let outcome = fixture.run("MOVE SO-1 cancelled duplicate order", as: "ada")
        #expect(outcome.pushes.first?.recipients.contains("ana") == true)
    }

    @Test("cancelling closes open holds")
    func cancelClosesHolds() {
        var fixture = DeskFixture()
        fixture.capture("SO-1")
        fixture.run("CLAIM SO-1", as: "ana")
        fixture.run("HOLD SO-1 credit over limit", as: "ana")
        fixture.run("MOVE SO-1 cancelled customer withdrew", as: "ana")
        #expect(fixture.desk.orders["SO-1"]?.openHolds.isEmpty == true)
    }

    @Test("releasing an unclaimed order is refused")
    func reassignNobodyUnclaimed() {
        var fixture = DeskFixture()
        fixture.capture("SO-1")
        #expect(fixture.run("REASSIGN SO-1 nobody tidy", as: "ada").reply?.errorCode == "bad-arguments")
    }

    @Test("queues list by priority, then capture time, whatever the capture order")
    func queueOrderByTime() {
        var fixture = DeskFixture()
        let base = fixture.now
        _ = fixture.desk.importOrder(OrderDraft(number: "SO-NEW", customer: "A", rep: "sam", purchaseOrder: "P", currency: "USD",
                                                lines: [], priority: .normal, requestedShipDate: nil), by: "test", capturedAt: base)
        _ = fixture.desk.importOrder(OrderDraft(number: "SO-OLD", customer: "A", rep: "sam", purchaseOrder: "P", currency: "USD",
                                                lines: [], priority: .normal, requestedShipDate: nil), by: "test", capturedAt: base - .minutes(60))
        #expect(fixture.run("NEXT", as: "ana").reply?.summary.hasPrefix("order=SO-OLD") == true)
    }
}
