/// The order desk's state and rules: orders, users, queues, claims as leases.
///
/// A pure value: it reads no clock, touches no socket or disk. The server owns one `Desk` on its
/// serial desk queue, feeds it commands with the current time, persists the `changes` of each
/// `Outcome`, and sends its reply and pushes only after those changes are committed.
public struct Desk: Sendable {
    public let settings: DeskSettings
    public private(set) var orders: [String: Order] = [:]
    public private(set) var users: [String: User] = [:]
    public private(set) var counters: DeskCounters
    var index = QueueIndex()
    /// Open sessions per user; a user with none has their claims in the grace window.
    var online: [String: Int] = [:]
    /// Effects of the operation in progress; taken by `finish`.
    private var changes: [StoreChange] = []
    private var pushes: [Push] = []

    /// Restores a desk from what the store kept. Nobody is connected yet, so every claim starts
    /// its grace window at `now`.
    public init(settings: DeskSettings, snapshot: DeskSnapshot, now: Instant) {
        self.settings = settings
        counters = snapshot.counters
        for user in snapshot.users { users[user.name] = user }
        for var order in snapshot.orders {
            if case .claimed(var lease) = order.claim, lease.graceEnds == nil {
                lease.graceEnds = now + settings.graceWindow
                order.claim = .claimed(lease)
            }
            orders[order.number] = order
            index.update(order)
        }
    }

    /// Runs one command for the logged-in `userName`. On failure nothing changes.
    public mutating func execute(_ command: Command, as userName: String, now: Instant) -> Outcome {
        guard let user = users[userName] else { return Outcome(reply: .failure(.notLoggedIn)) }
        if let roles = CommandSpec.named(command.name)?.roles, !roles.contains(user.role) {
            return Outcome(reply: .failure(.denied(command: command.name, role: user.role)))
        }
        let reply: Reply
        do throws(DeskError) {
            reply = try handle(command, by: user, now: now)
        } catch {
            changes.removeAll()
            pushes.removeAll()
            return Outcome(reply: .failure(error))
        }
        return finish(reply: reply)
    }

    private mutating func handle(_ command: Command, by user: User, now: Instant) throws(DeskError) -> Reply {
        switch command {
        case .login, .logout, .ping, .help:
            // Session commands are answered by the server before they reach the desk.
            return .ok("")
        case .whoami: return whoami(user, now: now)
        case .users: return listUsers()
        case .capture(let draft): return try capture(draft, by: user, now: now)
        case .show(let number): return try show(number, now: now)
        case .queue(let queue, let limit): return listQueue(queue, limit: limit, for: user, now: now)
        case .find(let query): return find(query, now: now)
        case .history(let number): return try history(number)
        case .next(let queue): return try next(from: queue, by: user, now: now)
        case .claim(let number): return try claim(number, by: user, now: now)
        case .handBack(let number, let reason): return try handBack(number, reason: reason, by: user, now: now)
        case .touch(let number): return try touch(number, by: user, now: now)
        case .hold(let number, let type, let reason): return try hold(number, type: type, reason: reason, by: user, now: now)
        case .unhold(let number, let type, let reason): return try unhold(number, type: type, reason: reason, by: user, now: now)
        case .move(let number, let stage, let reason): return try move(number, to: stage, reason: reason, by: user, now: now)
        case .note(let number, let text): return try note(number, text: text, by: user, now: now)
        case .watch(let number): return try watch(number, user: user, isWatching: true)
        case .unwatch(let number): return try watch(number, user: user, isWatching: false)
        case .reassign(let number, let target, let reason): return try reassign(number, to: target, reason: reason, by: user, now: now)
        }
    }

    // MARK: Helpers shared by the handlers

    func existingOrder(_ number: String) throws(DeskError) -> Order {
        guard let order = orders[number] else { throw .orderNotFound(number) }
        return order
    }

    /// Stores a changed order: re-indexes it and records the change for the store.
    mutating func save(_ order: Order) {
        orders[order.number] = order
        index.update(order)
        changes.append(.order(order))
    }

    /// Appends a history entry to `order` (the caller saves the order).
    mutating func record(_ action: String, _ detail: String, by actor: String, on order: inout Order, now: Instant) {
        let entry = HistoryEntry(at: now, actor: actor, action: action, detail: detail)
        order.history.append(entry)
        changes.append(.history(order: order.number, entry))
    }

    mutating func appendNote(_ note: Note, to order: inout Order) {
        order.notes.append(note)
        changes.append(.note(order: order.number, note))
    }

    /// Queues an event for `recipients` (deduplicated; the actor is left out).
    mutating func notify(_ recipients: [String], except actor: String?, _ kind: Event.Kind, now: Instant) {
        var seen = Set<String>()
        let targets = recipients.filter { $0 != actor && seen.insert($0).inserted }
        guard !targets.isEmpty else { return }
        let event = Event(id: counters.nextEventID, at: now, kind: kind)
        counters.nextEventID += 1
        pushes.append(Push(recipients: targets, event: event))
        changes.append(.counters(counters))
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
}

/// Times and limits a desk runs with; flags set them so tests and demos can shorten leases.
public struct DeskSettings: Sendable {
    public var leaseDuration = Milliseconds.minutes(15)
    /// How long before a lease runs out its holder is warned (at most a quarter of the lease).
    public var leaseWarning = Milliseconds.minutes(2)
    /// How long claims survive their holder's last disconnect.
    public var graceWindow = Milliseconds.seconds(60)
    public var limits = Limits()

    public init() {}

    var warningLead: Milliseconds { Milliseconds(min(leaseWarning.value, leaseDuration.value / 4)) }
}

/// Counters that only grow and must survive restarts.
public struct DeskCounters: Sendable, Equatable {
    public var nextToken: UInt64 = 1
    public var nextEventID: UInt64 = 1
    public var nextSequence: Int64 = 1

    public init(nextToken: UInt64 = 1, nextEventID: UInt64 = 1, nextSequence: Int64 = 1) {
        self.nextToken = nextToken
        self.nextEventID = nextEventID
        self.nextSequence = nextSequence
    }
}

/// Everything a store keeps, as loaded at start.
public struct DeskSnapshot: Sendable {
    public var orders: [Order]
    public var users: [User]
    public var counters: DeskCounters

    public init(orders: [Order] = [], users: [User] = [], counters: DeskCounters = DeskCounters()) {
        self.orders = orders
        self.users = users
        self.counters = counters
    }
}

/// One durable change for the store to commit.
public enum StoreChange: Sendable, Equatable {
    /// The order's row, claim, watchers and holds (its notes and history come as their own changes).
    case order(Order)
    case note(order: String, Note)
    case history(order: String, HistoryEntry)
    case user(User)
    case counters(DeskCounters)
}

/// What an operation produced: the reply, what to persist, whom to tell.
public struct Outcome: Sendable {
    public var reply: Reply?
    public var changes: [StoreChange]
    public var pushes: [Push]

    public init(reply: Reply?, changes: [StoreChange] = [], pushes: [Push] = []) {
        self.reply = reply
        self.changes = changes
        self.pushes = pushes
    }
}
