/// The order desk's state and rules: orders, users, queues, claims as leases.
///
/// A pure value: it reads no clock, touches no socket or disk. The server owns one `Desk` on its
/// serial desk queue, feeds it commands with the current time, persists the `changes` of each
/// `Outcome`, and sends its reply and pushes only after those changes are committed.
public struct Desk: Sendable {
    public let settings: DeskSettings
    /// Every order, in the order it came to the desk (orders are never removed): positions are
    /// the stable sequence a scan walks a slice at a time.
    public private(set) var orders = OrderTable()
    /// Order numbers by their trailing digits, for bare numbers (`ORDER 10089`).
    var numbersByDigits = TrailingDigitsIndex()
    public internal(set) var users: [String: User] = [:]
    public private(set) var counters: DeskCounters
    var index = QueueIndex()
    /// Stuck counts and oldest stays per queue, for gauges read without a scan.
    var stays = QueueStays()
    /// Open sessions per user; a user with none has their claims in the grace window.
    var online: [String: Int] = [:]
    /// Each user's recent events, for INBOX and RESUME.
    public internal(set) var mailboxes: [String: Mailbox] = [:]
    /// Away messages of users who set one.
    var away: [String: String] = [:]
    /// Queue subscriptions: topic (a queue's wire name, or `stuck`) -> users.
    var subscribers: [String: Set<String>] = [:]
    /// Room members: room -> users.
    var roomMembers: [String: Set<String>] = [:]
    /// Escalation thresholds per queue (defaults unless an admin changed them).
    public internal(set) var thresholds: [QueueName: EscalationThresholds] = [:]
    /// Escalation steps due, soonest first (lazy: entries are checked when they come due).
    var escalations = MinHeap<EscalationDeadline>()
    /// Lease warnings, lease ends and grace ends, soonest first (lazy, like `escalations`).
    /// Two heaps, not one, because they are worked off differently: every lease due by a
    /// command's instant ends before the command runs, while escalation steps fire at most
    /// `escalationBatch` per tick (a backlog after downtime must not stall the desk queue). In
    /// one heap a command would wait behind the escalation backlog to reach the leases.
    var leaseDeadlines = MinHeap<LeaseDeadline>()
    /// Counters since start, for the Prometheus endpoint; each is bumped once its command can no
    /// longer fail (a failed command changes nothing, this included).
    public internal(set) var flow = FlowCounters()
    /// Effects of the operation in progress; taken by `finish`.
    var changes: [StoreChange] = []
    var pushes: [Push] = []

    /// Restores a desk from what the store kept. After a restart nobody is connected yet, so every
    /// claim starts its grace window at `now`; a cluster node's snapshot says who is online.
    ///
    /// A restart restores every order the desk ever had, so this takes the snapshot's array over
    /// without copying an order, and indexes only what needs it: finished, unclaimed orders are
    /// in no queue and have no deadlines, so they get only their number's entries.
    public init(settings: DeskSettings, snapshot: consuming DeskSnapshot, now: Instant) {
        self.settings = settings
        counters = snapshot.counters
        for user in snapshot.users { users[user.name] = user }
        mailboxes = snapshot.mailboxes
        for (user, kind, name) in snapshot.memberships {
            if kind == "queue" { subscribers[name, default: []].insert(user) } else { roomMembers[name, default: []].insert(user) }
        }
        thresholds = snapshot.thresholds
        away = snapshot.away
        var restored: [Order] = []
        swap(&restored, &snapshot.orders)
        if let sessions = snapshot.online {
            // A cluster node joining: the desk as the other nodes have it, sessions included.
            online = sessions
        } else {
            restoreGraceWindows(of: &restored, now: now)
        }
        orders = OrderTable(restoring: restored)
        restored = []
        let values = orders.values  // the table's own buffer, not a copy
        numbersByDigits.reserveCapacity(values.count)
        for position in values.indices {
            numbersByDigits.add(values[position].number, at: position, in: values)
            if values[position].stage.isTerminal, case .unclaimed = values[position].claim { continue }
            index.update(values[position])
            scheduleEscalations(of: values[position])
            stays.load(values[position].number, values[position].episodes)
        }
        for number in index.claimedOrders {
            guard let lease = orders[number]?.lease else { continue }
            leaseDeadlines.push(LeaseDeadline(due: nextDue(of: lease), order: number, token: lease.token))
        }
    }

    /// After a restart nobody is connected: every claim starts its grace window at `now`.
    private func restoreGraceWindows(of restored: inout [Order], now: Instant) {
        for position in restored.indices {
            guard case .claimed(var lease) = restored[position].claim, lease.graceEnds == nil else { continue }
            lease.graceEnds = now + settings.graceWindow
            restored[position].claim = .claimed(lease)
        }
    }

    /// Runs one command for the logged-in `userName`. On failure nothing changes.
    public mutating func execute(_ given: Command, as userName: String, now: Instant) -> Outcome {
        // Leases that ran out by this instant are over before any command sees them, even one
        // that is refused.
        if let due = leaseDeadlines.peek()?.due, due <= now { expireLeases(now: now) }
        guard let user = users[userName] else { return finish(reply: .failure(.notLoggedIn)) }
        let command: Command
        switch resolvingNumber(in: given) {
        case .success(let resolved): command = resolved
        case .failure(let error): return finish(reply: .failure(error))
        }
        // A session of a user just disabled, before its BYE: it may do nothing more.
        guard !user.isDisabled else { return finish(reply: .failure(.userDisabled(userName))) }
        guard command.spec.allows(user.role) else { return finish(reply: .failure(.denied(command: command.name, role: user.role))) }
        let changeCount = changes.count
        let pushCount = pushes.count
        let reply: Reply
        do throws(DeskError) {
            reply = try handle(command, by: user, now: now)
        } catch {
            // A failed command changes nothing; the expiries above stand.
            changes.removeSubrange(changeCount...)
            pushes.removeSubrange(pushCount...)
            return finish(reply: .failure(error))
        }
        return finish(reply: reply)
    }

    private mutating func handle(_ command: Command, by user: User, now: Instant) throws(DeskError) -> Reply {
        switch command {
        case .whoami: return whoami(user, now: now)
        case .users: return listUsers()
        case .capture(let draft): return try capture(draft, by: user, now: now)
        case .show(let number): return try show(number, for: user, now: now)
        case .card(let number): return try plainCard(number, now: now)
        case .queue(let queue, let limit): return try listQueue(queue, limit: limit, for: user, now: now)
        case .find, .stuck, .metrics: return try scanToEnd(command, as: user, now: now)
        case .history(let number): return try history(number)
        case .next(let queue): return try next(from: queue, by: user, now: now)
        case .claim(let number): return try claim(number, by: user, now: now)
        case .handBack(let number, let reason): return try handBack(number, reason: reason, by: user, now: now)
        case .touch(let number): return try touch(number, by: user, now: now)
        case .hold(let number, let type, let reason): return try hold(number, type: type, reason: reason, by: user, now: now)
        case .unhold(let number, let type, let reason): return try unhold(number, type: type, reason: reason, by: user, now: now)
        case .move(let number, let stage, let reason): return try move(number, to: stage, reason: reason, by: user, now: now)
        case .note(let number, let text): return try note(number, text: text, by: user, now: now)
        case .watch(let number): return try watch(number, user: user, isWatching: true, now: now)
        case .unwatch(let number): return try watch(number, user: user, isWatching: false, now: now)
        case .inbox(let onlyUnread, let limit, let before): return inbox(for: user, onlyUnread: onlyUnread, limit: limit, before: before)
        case .read(let ids): return markRead(ids, user: user)
        case .readOrder(let number): return try markOrderRead(number, user: user)
        case .setRole(let name, let role): return try setRole(of: name, to: role, by: user, now: now)
        case .disableUser(let name, let reason): return try disable(name, reason: reason, by: user, now: now)
        case .enableUser(let name): return try enable(name, by: user, now: now)
        case .thresholds: return thresholdListing()
        case .setThreshold(let queue, let value): return try setThresholds(queue, value, by: user, now: now)
        case .who: return who()
        case .away(let message): return setAway(message, user: user)
        case .back: return setAway(nil, user: user)
        case .message(let recipient, let text): return try message(text, to: recipient, by: user, now: now)
        case .join(let room): return try join(room, user: user, isJoining: true)
        case .leave(let room): return try join(room, user: user, isJoining: false)
        case .say(let room, let text): return try say(text, in: room, by: user, now: now)
        case .rooms: return roomListing(for: user)
        case .subscribe(let topic): return subscribe(topic, user: user, isSubscribing: true)
        case .unsubscribe(let topic): return subscribe(topic, user: user, isSubscribing: false)
        case .reassign(let number, let target, let reason): return try reassign(number, to: target, reason: reason, by: user, now: now)
        }
    }

    // MARK: Helpers shared by the handlers

    func existingOrder(_ number: String) throws(DeskError) -> Order {
        guard let order = orders[number] else { throw .orderNotFound(number) }
        return order
    }

    /// Stores a changed order: re-indexes it, starts and ends its queue episodes, tells queue
    /// subscribers what entered or left, and records the change for the store.
    mutating func save(_ order: Order, now: Instant) {
        var order = order
        let before = order.episodes.map(\.queue)
        let after = QueueName.queues(of: order)
        if before != after {
            let entered = after.filter { !before.contains($0) }
            if order.escalationLevel >= .stuck, !order.episodes.contains(where: { after.contains($0.queue) && $0.level >= .stuck }) {
                notifySubscribers(of: "stuck", order: order.number, change: "left", now: now)
            }
            order.episodes.removeAll { !after.contains($0.queue) }
            for queue in entered { order.episodes.append(EscalationEpisode(queue: queue, since: now)) }
            for queue in before where !after.contains(queue) { notifySubscribers(of: queue.wireName, order: order.number, change: "left", now: now) }
            for queue in entered { notifySubscribers(of: queue.wireName, order: order.number, change: "entered", now: now) }
        }
        let previous = orders.updateValue(order, forKey: order.number)
        if previous == nil {
            indexDigitsOfNewestOrder()
        }
        let previousLease = previous?.lease
        index.update(order, orders: orders)
        stays.update(order.number, from: previous?.episodes ?? [], to: order.episodes, orders: orders, members: index.members)
        if before != after { scheduleEscalations(of: order, queues: after.filter { !before.contains($0) }) }
        if let lease = order.lease, previousLease?.token != lease.token || previousLease.map(nextDue(of:)) != nextDue(of: lease) {
            scheduleLease(of: order)
        }
        // The store gets what changed: a new order whole, afterwards its state and its new or
        // released holds (notes and history entries come as their own changes).
        if let previous, previous.hasSameContent(as: order) {
            if previous.state != order.state { changes.append(.orderState(order: order.number, order.state)) }
            for position in order.holds.indices where position >= previous.holds.count || previous.holds[position] != order.holds[position] {
                changes.append(.hold(order: order.number, order.holds[position]))
            }
        } else {
            changes.append(.order(order.withoutThread))
        }
    }

    /// Takes order `number` out for a change in place (see `detachThread`). Only for handlers
    /// that cannot fail after this call: the caller must `save` the order.
    mutating func takeForChange(_ number: String) throws(DeskError) -> Order {
        guard let order = orders[number] else { throw .orderNotFound(number) }
        detachThread(of: number)
        return order
    }

    /// The desk's copy of order `number` gives up its notes and history, so the handler's copy
    /// appends to them without copying the whole thread (before, a NOTE on a 3,000-note order
    /// cost 3.7x the server CPU of one on a 20-note order). Call it after the handler's last check, when nothing can
    /// fail any more: the handler must then `save` its copy, which puts the thread back.
    mutating func detachThread(of number: String) {
        orders.modify(number) { order in
            order.notes = []
            order.history = []
        }
    }

    /// Appends a history entry to `order` (the caller saves the order).
    mutating func record(_ action: String, _ detail: String, by actor: String, on order: inout Order, now: Instant) {
        let entry = HistoryEntry(at: now, actor: actor, action: action, detail: detail)
        order.history.append(entry)
        changes.append(.history(order: order.number, sequence: order.sequence, entry))
    }

    mutating func appendNote(_ note: Note, to order: inout Order) {
        order.notes.append(note)
        changes.append(.note(order: order.number, sequence: order.sequence, note))
    }

    /// Queues an event for `recipients` (deduplicated; the actor and unknown users are left out)
    /// and keeps it in each recipient's mailbox, so it survives their being offline.
    mutating func notify(_ recipients: [String], except actor: String?, _ kind: Event.Kind, now: Instant) {
        var seen = Set<String>()
        let targets = recipients.filter { $0 != actor && users[$0] != nil && seen.insert($0).inserted }
        guard !targets.isEmpty else { return }
        let event = Event(id: counters.nextEventID, at: now, kind: kind)
        counters.nextEventID += 1
        let push = Push(recipients: targets, event: event)
        let line = push.text
        for user in targets {
            let entry = MailboxEntry(id: event.id, at: now, kind: event.kindName, line: line, isPersonal: event.isPersonal(for: user),
                                     isRead: false, isDelivered: !event.waitsForLogin || isOnline(user))
            mailboxes[user, default: Mailbox()].append(entry)
            changes.append(.mailbox(user: user, entry))
        }
        pushes.append(push)
        changes.append(.counters(counters))
    }

    /// Records an administrator's action in the audit trail (kept by the store, not in memory).
    mutating func recordAudit(_ action: String, _ detail: String, by actor: String, now: Instant) {
        changes.append(.audit(AuditEntry(at: now, actor: actor, action: action, detail: detail)))
    }

    mutating func issueToken() -> UInt64 {
        let token = counters.nextToken
        counters.nextToken += 1
        changes.append(.counters(counters))
        return token
    }

    mutating func nextSequence() -> Int64 {
        let sequence = counters.nextSequence
        counters.nextSequence += 1
        changes.append(.counters(counters))
        return sequence
    }

    /// A fresh lease for `holder` from `now`.
    mutating func newLease(for holder: String, now: Instant) -> Lease {
        Lease(holder: holder, token: issueToken(), since: now, expires: now + settings.leaseDuration,
              graceEnds: isOnline(holder) ? nil : now + settings.graceWindow)
    }

    /// Renews the lease when `user` holds `order`: any action of the holder on the order does.
    func renewed(_ order: Order, by user: String, now: Instant) -> Order {
        guard case .claimed(var lease) = order.claim, lease.holder == user else { return order }
        var order = order
        lease.expires = now + settings.leaseDuration
        lease.isWarned = false
        order.claim = .claimed(lease)
        return order
    }

    /// Throws unless `user` may change `order`'s stage or holds: its holder, or an admin.
    func requireHolder(_ order: Order, _ user: User) throws(DeskError) {
        if user.role == .admin { return }
        switch order.claim {
        case .claimed(let lease) where lease.holder == user.name: return
        case .claimed(let lease): throw .claimedByOther(order: order.number, holder: lease.holder, until: lease.expires)
        case .unclaimed: throw .notHolder(order: order.number)
        }
    }

    public func isOnline(_ user: String) -> Bool { (online[user] ?? 0) > 0 }

    /// Takes the effects gathered so far.
    mutating func finish(reply: Reply?) -> Outcome {
        defer {
            changes.removeAll()
            pushes.removeAll()
        }
        return Outcome(reply: reply, changes: changes, pushes: pushes)
    }

    /// Adds or replaces a user (from the CLI, or demo data).
    public mutating func put(_ user: User) -> Outcome {
        users[user.name] = user
        changes.append(.user(user))
        return finish(reply: nil)
    }

    /// Adds a user an admin created (the server hashed the password); audited.
    public mutating func addUser(_ newUser: User, by admin: String, now: Instant) -> Outcome {
        guard users[newUser.name] == nil else { return Outcome(reply: .failure(.userExists(newUser.name))) }
        users[newUser.name] = newUser
        changes.append(.user(newUser))
        recordAudit("user-add", "\(newUser.name) as \(newUser.role.rawValue)", by: admin, now: now)
        return finish(reply: .answer(.userAdded(name: newUser.name, role: newUser.role)))
    }

    mutating func setRole(of name: String, to role: Role, by admin: User, now: Instant) throws(DeskError) -> Reply {
        guard var user = users[name] else { throw .userNotFound(name) }
        let old = user.role
        if old == .admin, role != .admin, !hasOtherEnabledAdmin(than: name) {
            throw .lastAdmin(name)
        }
        user.role = role
        users[name] = user
        changes.append(.user(user))
        recordAudit("user-role", "\(name) \(old.rawValue) -> \(role.rawValue)", by: admin.name, now: now)
        return .answer(.roleChanged(name: name, role: role, was: old))
    }

    /// Records an administrator action taken outside the desk's own commands (UNLOCK, user changes).
    public mutating func audit(_ action: String, _ detail: String, by actor: String, now: Instant) -> Outcome {
        recordAudit(action, detail, by: actor, now: now)
        return finish(reply: nil)
    }

    /// Escalation thresholds in force for `queue`.
    public func thresholds(for queue: QueueName) -> EscalationThresholds {
        thresholds[queue] ?? EscalationThresholds.defaults(for: queue)
    }
}

/// A moment the desk must look at one order's lease: its warning, end or grace end.
struct LeaseDeadline: HeapOrdered, Sendable, Equatable {
    var due: Instant
    var order: String
    var token: UInt64

    /// Deadlines at the same instant come out in token order, whatever order they were pushed
    /// in: every node of a cluster, and a desk restored from the store, works them off (and
    /// numbers their events) alike.
    func precedes(_ other: LeaseDeadline) -> Bool { due != other.due ? due < other.due : token < other.token }
}
