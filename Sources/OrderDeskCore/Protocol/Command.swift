/// A command the desk runs, parsed from one line (protocol.md, "Commands"). The server hands
/// it to `Desk.execute` (or a scan, or an archived thread's answer); the commands the server
/// answers itself are `SessionCommand`s, which the desk never sees.
public enum Command: Sendable, Equatable {
    case whoami
    case users
    case capture(OrderDraft)
    case show(order: String)
    /// The order in plain words, for customer service to read to a caller.
    case card(order: String)
    case queue(QueueName, limit: Int)
    case find(OrderQuery)
    case history(order: String)
    case next(QueueName)
    case claim(order: String)
    case handBack(order: String, reason: String)
    case touch(order: String)
    case hold(order: String, type: HoldType, reason: String)
    case unhold(order: String, type: HoldType, reason: String)
    case move(order: String, to: Stage, reason: String?)
    case note(order: String, text: String)
    case watch(order: String)
    case unwatch(order: String)
    case reassign(order: String, to: String, reason: String)
    case inbox(onlyUnread: Bool, limit: Int, before: UInt64?)
    /// Marks events read: the given ids, or all when nil.
    case read([UInt64]?)
    /// Marks every event about one order read.
    case readOrder(String)
    case stuck(StuckFilter)
    case thresholds
    case setThreshold(QueueName, EscalationThresholds)
    case who
    case away(String)
    case back
    case message(to: String, text: String)
    case join(room: String)
    case leave(room: String)
    case say(room: String, text: String)
    case rooms
    /// Subscribes to a queue's wire name, or `stuck`.
    case subscribe(String)
    case unsubscribe(String)
    case metrics(window: Milliseconds)
    case setRole(user: String, role: Role)
    /// USER DISABLE: the user cannot log in; their sessions end and their claims are handed back.
    case disableUser(name: String, reason: String)
    /// USER ENABLE: a disabled user may log in again.
    case enableUser(name: String)

    /// The row of `CommandSpec.all` this command belongs to: its name, usage and roles.
    public var spec: CommandSpec {
        switch self {
        case .whoami: .whoami
        case .users: .users
        case .capture: .capture
        case .show: .order
        case .card: .card
        case .queue: .queue
        case .find: .find
        case .history: .history
        case .next: .next
        case .claim: .claim
        case .handBack: .handBack
        case .touch: .touch
        case .hold: .hold
        case .unhold: .unhold
        case .move: .move
        case .note: .note
        case .watch: .watch
        case .unwatch: .unwatch
        case .reassign: .reassign
        case .inbox: .inbox
        case .read, .readOrder: .read
        case .stuck: .stuck
        case .thresholds: .thresholds
        case .setThreshold: .threshold
        case .who: .who
        case .away: .away
        case .back: .back
        case .message: .message
        case .join: .join
        case .leave: .leave
        case .say: .say
        case .rooms: .rooms
        case .subscribe: .subscribe
        case .unsubscribe: .unsubscribe
        case .metrics: .metrics
        case .setRole, .disableUser, .enableUser: .user
        }
    }

    /// The command's wire name, as in protocol.md (from its row).
    public var name: String { spec.name }

    /// True when running the command changes nothing on the desk, provided no lease is due at
    /// the instant it runs (`execute` ends due leases first). A desk node over PostgreSQL runs
    /// these on its own copy of the desk without a write turn (docs/CLUSTER.md); everything
    /// else is an input every node replays. ORDER is not one: it marks the order's events read.
    public var isPureRead: Bool {
        switch self {
        case .whoami, .users, .card, .queue, .find, .history, .inbox, .stuck, .thresholds, .who, .rooms, .metrics: true
        case .capture, .show, .next, .claim, .handBack, .touch, .hold, .unhold, .move, .note, .watch, .unwatch, .reassign,
             .read, .readOrder, .setThreshold, .away, .back, .message, .join, .leave, .say, .subscribe, .unsubscribe,
             .setRole, .disableUser, .enableUser: false
        }
    }

    /// The order the command acts on, if any.
    public var orderNumber: String? {
        switch self {
        case .show(let order), .card(let order), .history(let order), .claim(let order), .handBack(let order, _), .touch(let order),
             .hold(let order, _, _), .unhold(let order, _, _), .move(let order, _, _), .note(let order, _),
             .watch(let order), .unwatch(let order), .reassign(let order, _, _), .readOrder(let order):
            order
        case .capture(let draft): draft.number
        default: nil
        }
    }
}

/// A command the server answers itself: the session (login, quit, ping, help, resume), the
/// login records (unlock), password hashing off the desk queue, and the audit trail in the
/// store. The desk never sees one; the server checks its row's roles before answering.
public enum SessionCommand: Sendable, Equatable {
    case login(user: String, password: String)
    case logout
    case ping
    case help(topic: String?)
    case resume(after: UInt64)
    /// Clears a user's failed-login lockout.
    case unlock(user: String)
    /// Adds a user (the server hashes the password off the desk queue).
    case addUser(name: String, role: Role, password: String)
    /// USER PASSWORD: an admin sets a user's password (hashed by the server, off the desk queue).
    case resetPassword(user: String, password: String)
    /// PASSWORD: a user changes their own password, proving the old one.
    case changePassword(old: String, new: String)
    case audit(AuditQuery)

    /// The row of `CommandSpec.all` this command belongs to: its name, usage and roles.
    public var spec: CommandSpec {
        switch self {
        case .login: .login
        case .logout: .quit
        case .ping: .ping
        case .help: .help
        case .resume: .resume
        case .unlock: .unlock
        case .addUser, .resetPassword: .user
        case .changePassword: .password
        case .audit: .audit
        }
    }

    /// The command's wire name, as in protocol.md (from its row).
    public var name: String { spec.name }
}

/// What one line asks for: a command for the server itself, or one for the desk.
public enum ParsedCommand: Sendable, Equatable {
    case session(SessionCommand)
    case desk(Command)

    /// The row of `CommandSpec.all` the command belongs to.
    public var spec: CommandSpec {
        switch self {
        case .session(let command): command.spec
        case .desk(let command): command.spec
        }
    }
}

/// Filters for FIND; every given filter must match.
public struct OrderQuery: Sendable, Equatable {
    /// Matches number, customer or PO, case-insensitively, anywhere in the text.
    public var text: String?
    public var customer: String?
    public var purchaseOrder: String?
    public var rep: String?
    public var stage: Stage?
    public var hold: HoldType?
    /// Orders this user holds (an admin's "what does ben hold").
    public var holder: String?
    public var limit: Int

    public init(text: String? = nil, customer: String? = nil, purchaseOrder: String? = nil, rep: String? = nil,
                stage: Stage? = nil, hold: HoldType? = nil, holder: String? = nil, limit: Int = 50) {
        self.text = text
        self.customer = customer
        self.purchaseOrder = purchaseOrder
        self.rep = rep
        self.stage = stage
        self.hold = hold
        self.holder = holder
        self.limit = limit
    }

    public var isEmpty: Bool {
        text == nil && customer == nil && purchaseOrder == nil && rep == nil && stage == nil && hold == nil && holder == nil
    }
}
