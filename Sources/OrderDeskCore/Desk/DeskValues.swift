/// What goes into and comes out of a `Desk`: its settings and counters, what a store restores
/// it from, and what an operation leaves for the server to persist and send.

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

    /// Every setting the rules read, as one line: the nodes of a cluster replay each other's
    /// inputs with their own settings, so they must all run with the same.
    public var fingerprint: String {
        "lease=\(leaseDuration.value) warning=\(leaseWarning.value) grace=\(graceWindow.value) line=\(limits.maximumLineLength) "
            + "note=\(limits.maximumNoteLength) order-lines=\(limits.maximumOrderLines) field=\(limits.maximumFieldLength)"
    }
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
    public var mailboxes: [String: Mailbox] = [:]
    /// (user, "queue" or "room", name)
    public var memberships: [(String, String, String)] = []
    public var thresholds: [QueueName: EscalationThresholds] = [:]
    /// Open sessions per user, when the store knows them (a cluster over PostgreSQL): the desk
    /// is restored exactly as the running nodes have it. Nil after a restart of a single
    /// server: nobody is connected, so every claim starts its grace window.
    public var online: [String: Int]?
    /// Away messages, when the store keeps them (a cluster).
    public var away: [String: String] = [:]

    public init(orders: [Order] = [], users: [User] = [], counters: DeskCounters = DeskCounters()) {
        self.orders = orders
        self.users = users
        self.counters = counters
    }
}

/// One administrator action, kept for AUDIT: who did what, when, with what detail, the same
/// shape as an order's history entry.
public typealias AuditEntry = HistoryEntry

/// One durable change for the store to commit.
public enum StoreChange: Sendable, Equatable {
    /// The order's row, claim, watchers and holds, without its notes and history (empty here:
    /// they come as their own changes, one per appended note or entry), so a change never
    /// carries, nor keeps alive, the whole thread.
    case order(Order)
    /// An order's stage, claim, watchers, queue stays and release: every change after capture.
    case orderState(order: String, OrderState)
    /// A hold placed or released.
    case hold(order: String, Hold)
    /// A note or history entry appended to an order's thread; `sequence` is the order's capture
    /// sequence, the key a store files the thread under (it only grows, so the new rows of the
    /// orders being worked land together, whatever their numbers).
    case note(order: String, sequence: Int64, Note)
    case history(order: String, sequence: Int64, HistoryEntry)
    case user(User)
    case counters(DeskCounters)
    /// An event kept in (or updated in) a user's mailbox.
    case mailbox(user: String, MailboxEntry)
    /// A queue subscription ("queue") or room membership ("room") added or removed.
    case membership(user: String, kind: String, name: String, isMember: Bool)
    case thresholds(QueueName, EscalationThresholds)
    case audit(AuditEntry)
    /// A user's away message set (or cleared: nil). A single server keeps none across restarts;
    /// a cluster keeps them, so a node that joins knows who is away.
    case away(user: String, message: String?)
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
