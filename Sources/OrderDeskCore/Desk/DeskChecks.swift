/// One step a desk takes: a command from a user, a tick of the clock, or a session opening or
/// closing. `DeskChecks` judges each step by the desk before and after it.
public enum DeskStep: Sendable {
    case command(Command, by: String)
    case tick
    case sessionOpened(String)
    case sessionClosed(String)
}

/// Rules that hold after every step of a desk, whatever the commands and however far the clock
/// jumps. The desk-level fuzzer (orderdesk-fuzz) traps on a violation; the property tests
/// record it with their seed.
///
/// The checker remembers the highest lease token and event id it has seen, so it can tell that
/// they only grow. `violations` returns what broke, one sentence each; empty means all held.
public struct DeskChecks: Sendable {
    private var highestToken: UInt64
    private var highestEventID: UInt64
    public init(startingFrom desk: Desk) {
        highestToken = desk.orders.values.compactMap { $0.lease?.token }.max() ?? 0
        highestEventID = desk.counters.nextEventID > 0 ? desk.counters.nextEventID - 1 : 0
    }

    /// What `step` broke, taking `before` to `after` at `now` with `outcome`.
    public mutating func violations(of step: DeskStep, before: Desk, outcome: Outcome, after: Desk, now: Instant) -> [String] {
        var found: [String] = []
        if case .failure(let error)? = outcome.reply {
            // A command first ends the leases that ran out by its instant (those expiries stand
            // even when it fails); past them, a failure must change nothing.
            var settled = before
            let expiries = settled.expireDueLeases(now: now)
            var rest = outcome
            rest.changes.removeFirst(min(expiries.changes.count, rest.changes.count))
            rest.pushes.removeFirst(min(expiries.pushes.count, rest.pushes.count))
            found += Self.unchanged(settled, rest, after, error)
        }
        found += Self.replyLines(outcome)
        found += Self.structure(of: after)
        found += tokens(before, after, now: now)
        found += events(step, outcome, after, now: now)
        found += Self.persisted(before, outcome, after)
        if case .command(.next(let queue), _) = step { found += Self.nextTakesTheFirst(queue, before, outcome, after, now: now) }
        if case .tick = step { found += Self.tickDoesWhatIsDue(before, outcome, after, now: now) }
        // A lease that has run out is over at that instant: not renewed, nor revived by a login.
        found += Self.expiredLeasesStayOver(before, after, now: now)
        highestToken = max(highestToken, after.orders.values.compactMap { $0.lease?.token }.max() ?? 0)
        highestEventID = max(highestEventID, outcome.pushes.map(\.event.id).max() ?? 0)
        return found
    }

    // MARK: A failed command changes nothing

    static func unchanged(_ before: Desk, _ outcome: Outcome, _ after: Desk, _ error: DeskError) -> [String] {
        var found: [String] = []
        let failure = "failed command (\(error.code))"
        if !outcome.changes.isEmpty { found.append("\(failure) produced \(outcome.changes.count) changes") }
        if !outcome.pushes.isEmpty { found.append("\(failure) produced \(outcome.pushes.count) pushes") }
        let changedOrders = Set(before.orders.keys).union(after.orders.keys).filter { before.orders[$0] != after.orders[$0] }
        if !changedOrders.isEmpty { found.append("\(failure) changed orders \(changedOrders.sorted())") }
        if before.users != after.users { found.append("\(failure) changed users") }
        if before.counters != after.counters { found.append("\(failure) changed counters \(before.counters) -> \(after.counters)") }
        if before.mailboxes != after.mailboxes { found.append("\(failure) changed mailboxes") }
        if before.thresholds != after.thresholds { found.append("\(failure) changed thresholds") }
        if before.subscribers != after.subscribers || before.roomMembers != after.roomMembers {
            found.append("\(failure) changed subscriptions or rooms")
        }
        if before.away != after.away || before.online != after.online { found.append("\(failure) changed presence") }
        return found
    }

    /// Every reply and event line is one line: no control character may reach the wire, or a
    /// client would read a forged line.
    static func replyLines(_ outcome: Outcome) -> [String] {
        var found: [String] = []
        func check(_ line: String, _ what: String) {
            if line.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) { found.append("\(what) holds a control character: \(line.debugDescription)") }
        }
        if let reply = outcome.reply {
            var lines = reply.wireText.split(separator: "\n", omittingEmptySubsequences: false)
            if lines.last == "" { lines.removeLast() } else { found.append("the reply does not end in a line end") }
            for line in lines { check(String(line), line.hasPrefix("ERR ") ? "ERR line" : line.hasPrefix("OK") ? "OK summary" : "data line") }
        }
        for push in outcome.pushes { check(push.event.wireLine, "event line") }
        return found
    }

    // MARK: The state agrees with itself

    static func structure(of desk: Desk) -> [String] {
        var found: [String] = []
        var expectedMembers: [QueueName: Set<String>] = [:]
        var expectedClaims: [String: Set<String>] = [:]
        var tokens: [UInt64: String] = [:]
        for (number, order) in desk.orders {
            if number != order.number { found.append("order \(order.number) is kept under \(number)") }
            let queues = QueueName.queues(of: order)
            for queue in queues { expectedMembers[queue, default: []].insert(number) }
            let stays = order.episodes.map(\.queue)
            if stays.count != queues.count || Set(stays) != Set(queues) {
                found.append("order \(number) has stays in \(stays.map(\.wireName)) but is in \(queues.map(\.wireName))")
            }
            for (position, hold) in order.holds.enumerated() where hold.id != position + 1 {
                found.append("order \(number): hold at position \(position + 1) has id \(hold.id)")
            }
            let openTypes = order.openHolds.map(\.type)
            if Set(openTypes).count != openTypes.count { found.append("order \(number) has two open holds of one type: \(openTypes)") }
            if order.stage.isTerminal {
                if let lease = order.lease { found.append("\(order.stage.rawValue) order \(number) is claimed by \(lease.holder)") }
                if !openTypes.isEmpty { found.append("\(order.stage.rawValue) order \(number) has open holds \(openTypes)") }
            }
            if let lease = order.lease {
                expectedClaims[lease.holder, default: []].insert(number)
                if let other = tokens.updateValue(number, forKey: lease.token) {
                    found.append("token \(lease.token) is on two orders, \(other) and \(number)")
                }
                if lease.token >= desk.counters.nextToken {
                    found.append("order \(number) has token \(lease.token), not below nextToken \(desk.counters.nextToken)")
                }
                if desk.users[lease.holder] == nil { found.append("order \(number) is held by \(lease.holder), who is not a user") }
                if lease.expires < lease.since { found.append("order \(number)'s lease ends before it starts") }
            }
        }
        let members = desk.index.members.filter { !$0.value.isEmpty }
        for queue in Set(members.keys).union(expectedMembers.keys) where members[queue] != expectedMembers[queue] {
            let listed = members[queue] ?? [], expected = expectedMembers[queue] ?? []
            found.append("queue \(queue.wireName) lists \(listed.subtracting(expected).sorted()) that do not belong and misses \(expected.subtracting(listed).sorted())")
        }
        found += stayGauges(of: desk)
        let claims = desk.index.claimsByHolder.filter { !$0.value.isEmpty }
        if claims != expectedClaims { found.append("claims index \(claims) disagrees with the orders' leases \(expectedClaims)") }
        if Set(desk.index.claimedOrders) != Set(tokens.values) {
            found.append("claimed-order index \(desk.index.claimedOrders.sorted()) disagrees with the leases \(tokens.values.sorted())")
        }
        for (user, mailbox) in desk.mailboxes {
            let ids = mailbox.entries.map(\.id)
            if zip(ids, ids.dropFirst()).contains(where: { $0 >= $1 }) { found.append("mailbox of \(user) is not in increasing id order") }
            if let last = ids.last, last >= desk.counters.nextEventID { found.append("mailbox of \(user) has event \(last), not below nextEventID") }
        }
        return found
    }

    /// The gauges kept for scrapes (`QueueStays`) agree with a count over every order's stays.
    static func stayGauges(of desk: Desk) -> [String] {
        var found: [String] = []
        var stuck: [QueueName: Int] = [:]
        var oldest: [QueueName: Instant] = [:]
        for order in desk.orders.values {
            for episode in order.episodes {
                if episode.level >= .stuck { stuck[episode.queue, default: 0] += 1 }
                oldest[episode.queue] = min(oldest[episode.queue] ?? episode.since, episode.since)
            }
        }
        for queue in QueueName.all where queue != .mine {
            if desk.stays.stuck(in: queue) != stuck[queue] ?? 0 {
                found.append("queue \(queue.wireName) gauges \(desk.stays.stuck(in: queue)) stuck orders, but \(stuck[queue] ?? 0) are")
            }
            if desk.stays.oldest(in: queue) != oldest[queue] {
                found.append("queue \(queue.wireName) gauges its oldest stay from \(desk.stays.oldest(in: queue)?.iso8601 ?? "none"), but it is \(oldest[queue]?.iso8601 ?? "none")")
            }
        }
        return found
    }

    // MARK: Tokens and event ids only grow

    func tokens(_ before: Desk, _ after: Desk, now: Instant) -> [String] {
        var found: [String] = []
        if after.counters.nextToken < before.counters.nextToken { found.append("nextToken went back") }
        if after.counters.nextEventID < before.counters.nextEventID { found.append("nextEventID went back") }
        if after.counters.nextSequence < before.counters.nextSequence { found.append("nextSequence went back") }
        for (number, order) in after.orders {
            guard let lease = order.lease else { continue }
            if let old = before.orders[number]?.lease, old.token == lease.token {
                // The same claim, perhaps renewed: same holder, same start.
                if old.holder != lease.holder { found.append("order \(number): token \(lease.token) passed from \(old.holder) to \(lease.holder)") }
                if old.since != lease.since { found.append("order \(number): the claim with token \(lease.token) changed its start") }
            } else {
                if lease.token <= highestToken || lease.token < before.counters.nextToken {
                    found.append("order \(number): new lease token \(lease.token) is not above every earlier token (highest \(highestToken), next \(before.counters.nextToken))")
                }
                if lease.since != now { found.append("order \(number): a new lease starts at \(lease.since.iso8601), not now") }
            }
        }
        return found
    }

    mutating func events(_ step: DeskStep, _ outcome: Outcome, _ after: Desk, now: Instant) -> [String] {
        var found: [String] = []
        var previous = highestEventID
        for push in outcome.pushes {
            let event = push.event
            if event.id <= previous { found.append("event \(event.id) (\(event.kindName)) comes after event \(previous)") }
            previous = max(previous, event.id)
            if event.id >= after.counters.nextEventID { found.append("event \(event.id) is not below nextEventID \(after.counters.nextEventID)") }
            if event.at != now { found.append("event \(event.id) is dated \(event.at.iso8601), not now") }
            if push.recipients.isEmpty { found.append("event \(event.id) has no recipient") }
            if Set(push.recipients).count != push.recipients.count { found.append("event \(event.id) names a recipient twice: \(push.recipients)") }
            for recipient in push.recipients {
                guard after.users[recipient] != nil else {
                    found.append("event \(event.id) goes to \(recipient), who is not a user")
                    continue
                }
                let mailbox = after.mailboxes[recipient]
                if (mailbox?.droppedThrough ?? 0) < event.id, mailbox?.entries.reversed().contains(where: { $0.id == event.id }) != true {
                    found.append("event \(event.id) to \(recipient) is not kept in their mailbox")
                }
            }
            if case .command(_, let actor) = step, push.recipients.contains(actor) {
                switch event.kind {
                case .queue, .message, .away, .leaseWarning, .leaseExpired: break  // the last two: the desk ends leases due at a command's instant
                default: found.append("\(actor) was sent their own \(event.kindName) event")
                }
            }
        }
        return found
    }

    // MARK: Every change reaches the store

    /// Whatever changed in the desk is in the outcome's changes, in its final state, so a
    /// restart from the store gives the same desk.
    static func persisted(_ before: Desk, _ outcome: Outcome, _ after: Desk) -> [String] {
        var found: [String] = []
        var savedOrders: [String: Order] = [:]
        var savedUsers: [String: User] = [:]
        var savedCounters: DeskCounters?
        var historyEntries: [String: Int] = [:]
        var notes: [String: Int] = [:]
        var mailboxUsers: Set<String> = []
        var savedThresholds: [QueueName: EscalationThresholds] = [:]
        var auditEntries = 0
        var membershipUsers: Set<String> = []
        var savedAway: [String: String??] = [:]
        /// A delta changes what the store holds of the order: its row as saved in this outcome, or before.
        func applySaved(_ number: String, _ what: String, _ change: (inout Order) -> Void) {
            guard var order = savedOrders[number] ?? before.orders[number]?.withoutThread else {
                return found.append("order \(number): \(what) for an order the store never got")
            }
            change(&order)
            savedOrders[number] = order
        }
        for change in outcome.changes {
            switch change {
            case .order(let order): savedOrders[order.number] = order
            case .orderState(let number, let state): applySaved(number, "a state change") { $0.apply(state) }
            case .hold(let number, let hold): applySaved(number, "a hold") { $0.put(hold) }
            case .note(let number, let sequence, _):
                notes[number, default: 0] += 1
                if after.orders[number]?.sequence != sequence { found.append("a note of \(number) filed under sequence \(sequence)") }
            case .history(let number, let sequence, _):
                historyEntries[number, default: 0] += 1
                if after.orders[number]?.sequence != sequence { found.append("a history entry of \(number) filed under sequence \(sequence)") }
            case .user(let user): savedUsers[user.name] = user
            case .counters(let counters): savedCounters = counters
            case .mailbox(let user, _): mailboxUsers.insert(user)
            case .membership(let user, _, _, _): membershipUsers.insert(user)
            case .thresholds(let queue, let value): savedThresholds[queue] = value
            case .audit: auditEntries += 1
            case .away(let user, let message): savedAway[user] = .some(message)
            }
        }
        for number in before.orders.keys where after.orders[number] == nil { found.append("order \(number) vanished") }
        for (number, order) in after.orders {
            let old = before.orders[number]
            guard old != order else { continue }
            // A change to the thread alone (a NOTE by someone who does not hold the order) needs no row.
            if old?.withoutThread != order.withoutThread {
                if let saved = savedOrders[number] {
                    if saved != order.withoutThread { found.append("order \(number) was saved in a state that is not its last") }
                } else {
                    found.append("order \(number) changed but was not saved")
                }
            }
            let newHistory = order.history.count - (old?.history.count ?? 0)
            if historyEntries[number, default: 0] != newHistory {
                found.append("order \(number) has \(newHistory) new history entries but \(historyEntries[number, default: 0]) were saved")
            }
            let newNotes = order.notes.count - (old?.notes.count ?? 0)
            if notes[number, default: 0] != newNotes { found.append("order \(number) has \(newNotes) new notes but \(notes[number, default: 0]) were saved") }
        }
        for number in savedOrders.keys where after.orders[number] == nil { found.append("order \(number) was saved but is not on the desk") }
        for (name, user) in after.users where before.users[name] != user && savedUsers[name] != user {
            found.append("user \(name) changed but was not saved as it is")
        }
        if before.counters != after.counters, savedCounters != after.counters {
            found.append("counters changed to \(after.counters) but \(String(describing: savedCounters)) was saved")
        }
        for queue in Set(before.thresholds.keys).union(after.thresholds.keys) where before.thresholds[queue] != after.thresholds[queue] {
            if savedThresholds[queue] != after.thresholds[queue] { found.append("thresholds of \(queue.wireName) changed but were not saved") }
        }
        for user in Set(before.mailboxes.keys).union(after.mailboxes.keys) where before.mailboxes[user] != after.mailboxes[user] {
            if !mailboxUsers.contains(user) { found.append("mailbox of \(user) changed but was not saved") }
        }
        for user in Set(before.away.keys).union(after.away.keys) where before.away[user] != after.away[user] {
            if savedAway[user] != .some(after.away[user]) { found.append("away message of \(user) changed but was not saved") }
        }
        let memberships = { (desk: Desk) in
            Set(desk.subscribers.flatMap { topic, users in users.map { "queue \(topic) \($0)" } })
                .union(desk.roomMembers.flatMap { room, users in users.map { "room \(room) \($0)" } })
        }
        for entry in memberships(before).symmetricDifference(memberships(after)) {
            let user = String(entry.split(separator: " ").last ?? "")
            if !membershipUsers.contains(user) { found.append("membership \(entry) changed but was not saved") }
        }
        return found
    }

    // MARK: Rules of single commands

    /// NEXT claims an unclaimed member of the queue, and none comes before it in queue order;
    /// `queue-empty` means no member is unclaimed.
    static func nextTakesTheFirst(_ queue: QueueName, _ before: Desk, _ outcome: Outcome, _ after: Desk, now: Instant) -> [String] {
        let members = (before.index.members[queue] ?? []).compactMap { before.orders[$0] }
        let free = members.filter { $0.lease == nil }
        switch outcome.reply {
        case .failure(.queueEmpty)?:
            return free.isEmpty ? [] : ["NEXT \(queue.wireName) found the queue empty, but \(free.map(\.number).sorted()) are unclaimed"]
        case .answer?:
            let taken = after.orders.values.filter { ($0.lease?.token ?? 0) >= before.counters.nextToken }
            guard taken.count == 1, let order = before.orders[taken[0].number] else {
                return ["NEXT \(queue.wireName) succeeded but made \(taken.count) new claims"]
            }
            var found: [String] = []
            if !members.contains(where: { $0.number == order.number }) { found.append("NEXT \(queue.wireName) took \(order.number), not a member") }
            if let lease = order.lease, lease.deadline > now { found.append("NEXT \(queue.wireName) took \(order.number), held by \(lease.holder)") }
            if let first = free.first(where: { QueueIndex.queueOrder($0, order) }) {
                found.append("NEXT \(queue.wireName) took \(order.number) though \(first.number) comes first")
            }
            return found
        default:
            return []
        }
    }

    /// `tick` does nothing before `nextDeadline` (the server only ticks then), and leaves no
    /// lease due: every expiry and warning due by `now` is done.
    static func tickDoesWhatIsDue(_ before: Desk, _ outcome: Outcome, _ after: Desk, now: Instant) -> [String] {
        var found: [String] = []
        if before.nextDeadline().map({ $0 > now }) ?? true, !outcome.changes.isEmpty || !outcome.pushes.isEmpty {
            found.append("tick changed the desk before its next deadline \(before.nextDeadline()?.iso8601 ?? "none")")
        }
        for order in after.orders.values {
            guard let lease = order.lease else { continue }
            if lease.deadline <= now { found.append("after tick, order \(order.number) is still held by \(lease.holder) past \(lease.deadline.iso8601)") }
            if !lease.isWarned, lease.expires - after.settings.warningLead <= now {
                found.append("after tick, the holder of \(order.number) is not yet warned")
            }
        }
        return found
    }

    /// A lease whose end (or grace end) has come is over: nothing renews or revives it.
    static func expiredLeasesStayOver(_ before: Desk, _ after: Desk, now: Instant) -> [String] {
        var found: [String] = []
        for (number, order) in before.orders {
            guard let old = order.lease, old.deadline <= now, let lease = after.orders[number]?.lease, lease.token == old.token else { continue }
            if lease.expires != old.expires || lease.graceEnds != old.graceEnds {
                found.append("order \(number): lease \(old.token) ran out at \(old.deadline.iso8601) but was renewed at \(now.iso8601)")
            }
        }
        return found
    }
}
