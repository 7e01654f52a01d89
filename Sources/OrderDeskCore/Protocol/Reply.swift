import OrderDeskWire

/// The answer to one command: data lines, then one `OK` or `ERR` line.
///
/// Handlers return values; `WireWriter.reply` (WireEncoder.swift) is the one place they become
/// bytes.
public enum Reply: Sendable, Equatable {
    case answer(Answer)
    case failure(DeskError)

    /// True unless the command failed.
    public var isSuccess: Bool {
        if case .failure = self { return false }
        return true
    }

    /// The reply as wire text, every line ending in LF (tests and tools; the server writes bytes).
    public var wireText: String {
        var writer = WireWriter()
        writer.reply(self)
        return writer.text
    }
}

/// A successful command's typed answer, one case per kind of reply (protocol.md, "Commands").
public enum Answer: Sendable, Equatable {
    case pong
    case bye
    /// CAPTURE: the new order and its total.
    case captured(order: String, total: Money, currency: String)
    /// NEXT and CLAIM: the claim, with the order's card (its newest notes only).
    case claimed(OrderView)
    /// ORDER: the card; `marks` when opening it marked the asker's events on it read.
    case card(OrderView, marks: ReadMarks?)
    /// TOUCH: the renewed lease.
    case renewed(order: String, lease: Lease)
    /// HANDBACK: the queue the order went back to (nil: none).
    case handedBack(order: String, queue: QueueName?)
    /// HOLD: the new hold's id; the holder's renewed lease.
    case held(order: String, hold: Int, type: HoldType, lease: Lease?)
    /// UNHOLD: the holds still open.
    case unheld(order: String, type: HoldType, openHolds: [HoldType], lease: Lease?)
    /// MOVE.
    case moved(order: String, stage: Stage)
    /// NOTE: the thread's length and who was mentioned.
    case noted(order: String, notes: Int, mentioned: [String])
    /// WATCH and UNWATCH.
    case watching(order: String, isWatching: Bool)
    /// REASSIGN: the old and new holder (nil: nobody), the new holder's lease.
    case reassigned(order: String, from: String?, to: String?, lease: Lease?)

    // Look-ups
    /// WHOAMI; LOGIN's answer is the same with the user's unread events summed up.
    case whoami(user: String, role: Role, claims: [Order], now: Instant, unread: UnreadSummary?)
    case users([UserListing])
    /// QUEUE and FIND.
    case orders(OrderPage)
    case history(order: String, entries: [HistoryEntry])
    /// CARD.
    case plainCard(order: Order, status: PlainStatus)
    /// STUCK: every matching row's count, and the rows shown.
    case stuck(total: Int, rows: [StuckRow])
    /// AUDIT.
    case audit(AuditPage)

    // Inbox
    case inbox(InboxPage)
    /// READ: events marked read (of one order, when `order` is set) and the unread left.
    case marked(order: String?, marked: Int, unread: Int)

    // Presence and chat
    /// WHO.
    case presence([Presence])
    /// AWAY and BACK.
    case status(isAway: Bool)
    /// MSG: delivered now, or at the recipient's next login.
    case messageSent(to: String, isDelivered: Bool)
    /// JOIN, LEAVE and SAY.
    case room(String, members: Int)
    case rooms([RoomListing])
    /// SUBSCRIBE and UNSUBSCRIBE: the asker's subscriptions after.
    case subscriptions([String])

    // Escalation
    case thresholds([ThresholdListing])
    case thresholdSet(QueueName, EscalationThresholds)

    // Users
    case userAdded(name: String, role: Role)
    case roleChanged(name: String, role: Role, was: Role)
    /// USER DISABLE: how many claims were handed back.
    case disabled(name: String, handedBack: Int)
    case enabled(name: String)
    /// USER PASSWORD (a reset) or PASSWORD (the user's own change).
    case passwordSet(name: String, isOwnChange: Bool)

    // Answered by the server
    /// METRICS: the desk's figures, and the server's counters once it added them.
    case metrics(MetricsReport)
    /// HELP: every row of the command table.
    case commands
    /// HELP <command>: the row of the command called `name`.
    case commandHelp(name: String)
    /// RESUME: events replayed, and whether the mailbox still held every one asked for.
    case resumed(count: Int, isComplete: Bool)
    /// UNLOCK: the failed-login records cleared for `target`.
    case unlocked(target: String, cleared: [String])
}

/// METRICS: the order-cycle figures over `window`, as of `at`.
public struct MetricsReport: Sendable, Equatable {
    /// One shared queue: its depth, its longest current stay and its stuck orders.
    public struct QueueFigures: Sendable, Equatable {
        public var queue: QueueName
        public var depth: Int
        public var oldest: Milliseconds
        public var stuck: Int
    }

    /// One hold type: holds open now, and placed -> released for those released in the window.
    public struct HoldFigures: Sendable, Equatable {
        public var type: HoldType
        public var open: Int
        public var resolutions: Percentiles
    }

    /// Releases (captured -> released) one user made in the window.
    public struct Releases: Sendable, Equatable {
        public var user: String
        public var released: Int
    }

    public var window: Milliseconds
    public var at: Instant
    /// Every queue but `mine`, in HELP's order.
    public var queues: [QueueFigures]
    /// Capture -> shipped, for orders shipped in the window.
    public var cycles: Percentiles
    public var holds: [HoldFigures]
    /// Orders shipped in the window that never had a hold.
    public var cleanShipments: Int
    public var releases: [Releases]
    /// The server's own counters; nil until the server adds them.
    public var operations: ServerOperations?
}

/// How many durations were measured, and their nearest-rank p50 and p90 (nil when none were).
public struct Percentiles: Sendable, Equatable {
    public var count: Int
    public var p50: Milliseconds?
    public var p90: Milliseconds?

    /// Nearest rank over `values`, in milliseconds.
    public init(_ values: [Int64]) {
        count = values.count
        guard !values.isEmpty else { return }
        let sorted = values.sorted()
        func rank(_ fraction: Double) -> Milliseconds {
            let position = Int((fraction * Double(sorted.count)).rounded(.up)) - 1
            return Milliseconds(sorted[max(0, min(sorted.count - 1, position))])
        }
        p50 = rank(0.5)
        p90 = rank(0.9)
    }
}

/// The server's counters on METRICS' `ops` line.
public struct ServerOperations: Sendable, Equatable {
    public var connections: Int
    public var sessions: Int
    public var usersOnline: Int
    public var commands: Int
    /// Commands per second over the last few seconds, in tenths.
    public var commandsPerSecondTenths: Int
    public var pushes: Int
    public var slowDropped: Int
    public var refused: Int
    public var commits: Int
    public var commitFailures: Int
    /// Commit latency percentiles in microseconds (nil before the first commit).
    public var commitP50Microseconds: Int64?
    public var commitP99Microseconds: Int64?

    public init(connections: Int, sessions: Int, usersOnline: Int, commands: Int, commandsPerSecondTenths: Int, pushes: Int,
                slowDropped: Int, refused: Int, commits: Int, commitFailures: Int,
                commitP50Microseconds: Int64?, commitP99Microseconds: Int64?) {
        self.connections = connections
        self.sessions = sessions
        self.usersOnline = usersOnline
        self.commands = commands
        self.commandsPerSecondTenths = commandsPerSecondTenths
        self.pushes = pushes
        self.slowDropped = slowDropped
        self.refused = refused
        self.commits = commits
        self.commitFailures = commitFailures
        self.commitP50Microseconds = commitP50Microseconds
        self.commitP99Microseconds = commitP99Microseconds
    }
}

/// A user's unread events: how many, and per order (most first, at most `Desk.unreadOrdersShown`).
public struct UnreadSummary: Sendable, Equatable {
    public var unread: Int
    public var byOrder: [OrderCount]

    public init(unread: Int, byOrder: [OrderCount]) {
        self.unread = unread
        self.byOrder = byOrder
    }
}

/// One user in USERS.
public struct UserListing: Sendable, Equatable {
    public var user: User
    public var isOnline: Bool
    public var claims: Int
}

/// A page of orders: a queue's (with its size) or a search's (with its match count).
public struct OrderPage: Sendable, Equatable {
    public enum Source: Sendable, Equatable {
        case queue(QueueName)
        case search
    }

    public var source: Source
    /// Orders in the queue, or orders that matched.
    public var count: Int
    public var orders: [Order]
    public var now: Instant
}

/// One stuck stay of an order in a queue, for STUCK.
public struct StuckRow: Sendable, Equatable {
    public var order: String
    public var queue: QueueName
    public var since: Instant
    public var age: Milliseconds
    public var level: EscalationLevel
    /// Who was told: the rep, and the admins once it reached them.
    public var told: [String]
    public var priority: Priority
    public var customer: String
    public var holder: String?
}

/// A page of INBOX: personal events, newest first.
public struct InboxPage: Sendable, Equatable {
    public var entries: [MailboxEntry]
    public var unread: Int
    /// Set when older matching events remain: the id to page back from.
    public var moreBefore: UInt64?
    /// Unread events per order, most first (at most `Desk.unreadOrdersShown`).
    public var unreadByOrder: [OrderCount]
}

/// How many of something are about one order.
public struct OrderCount: Sendable, Equatable {
    public var order: String
    public var count: Int
}

/// One online user in WHO.
public struct Presence: Sendable, Equatable {
    public var user: String
    public var role: Role
    /// The away message, when away.
    public var away: String?
    public var sessions: Int
    public var claims: Int
}

/// One room in ROOMS.
public struct RoomListing: Sendable, Equatable {
    public var room: String
    public var members: Int
    public var isJoined: Bool
}

/// One queue's escalation thresholds, and whether they are the defaults.
public struct ThresholdListing: Sendable, Equatable {
    public var queue: QueueName
    public var value: EscalationThresholds
    public var isDefault: Bool
}

/// An order as a card shows it, as of `now`, with at most `noteLimit` of its newest notes.
public struct OrderView: Sendable, Equatable {
    /// Held only until the reply is encoded, right after the command (a view kept longer would
    /// share the thread's storage and make the next append copy it).
    public var order: Order
    public var now: Instant
    public var noteLimit: Int

    public init(_ order: Order, now: Instant, noteLimit: Int = 10) {
        self.order = order
        self.now = now
        self.noteLimit = noteLimit
    }

}

/// Events marked read by opening an order, and the asker's unread count after.
public struct ReadMarks: Sendable, Equatable {
    public var marked: Int
    public var unread: Int

    public init(marked: Int, unread: Int) {
        self.marked = marked
        self.unread = unread
    }
}

/// The first line of every connection: the protocol version and the limits the server enforces.
public struct Greeting: Sendable, Equatable {
    public var limits: Limits
    public var leaseSeconds: Int64
    public var graceSeconds: Int64
    public var maximumSessions: Int
    public var maximumUnsentBytes: Int
    public var idleTimeoutSeconds: Int64
    public var loginTimeoutSeconds: Int64
    public var inputBudget: Int

    public init(limits: Limits, leaseSeconds: Int64, graceSeconds: Int64, maximumSessions: Int, maximumUnsentBytes: Int,
                idleTimeoutSeconds: Int64, loginTimeoutSeconds: Int64, inputBudget: Int) {
        self.limits = limits
        self.leaseSeconds = leaseSeconds
        self.graceSeconds = graceSeconds
        self.maximumSessions = maximumSessions
        self.maximumUnsentBytes = maximumUnsentBytes
        self.idleTimeoutSeconds = idleTimeoutSeconds
        self.loginTimeoutSeconds = loginTimeoutSeconds
        self.inputBudget = inputBudget
    }
}
