/// A request from a client, parsed from one line (protocol.md, "Commands").
public enum Command: Sendable, Equatable {
    case login(user: String, password: String)
    case logout
    case ping
    case help(topic: String?)
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
    case resume(after: UInt64)
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
    case audit(AuditQuery)
    case metrics(window: Milliseconds)
    /// Clears a user's failed-login lockout.
    case unlock(user: String)
    /// Adds a user (the server hashes the password off the desk queue).
    case addUser(name: String, role: Role, password: String)
    case setRole(user: String, role: Role)
    /// USER DISABLE: the user cannot log in; their sessions end and their claims are handed back.
    case disableUser(name: String, reason: String)
    /// USER ENABLE: a disabled user may log in again.
    case enableUser(name: String)
    /// USER PASSWORD: an admin sets a user's password (hashed by the server, off the desk queue).
    case resetPassword(user: String, password: String)
    /// PASSWORD: a user changes their own password, proving the old one.
    case changePassword(old: String, new: String)

    /// The command's wire name, as in protocol.md.
    public var name: String {
        switch self {
        case .login: "LOGIN"
        case .logout: "QUIT"
        case .ping: "PING"
        case .help: "HELP"
        case .whoami: "WHOAMI"
        case .users: "USERS"
        case .capture: "CAPTURE"
        case .show: "ORDER"
        case .card: "CARD"
        case .queue: "QUEUE"
        case .find: "FIND"
        case .history: "HISTORY"
        case .next: "NEXT"
        case .claim: "CLAIM"
        case .handBack: "HANDBACK"
        case .touch: "TOUCH"
        case .hold: "HOLD"
        case .unhold: "UNHOLD"
        case .move: "MOVE"
        case .note: "NOTE"
        case .watch: "WATCH"
        case .unwatch: "UNWATCH"
        case .reassign: "REASSIGN"
        case .inbox: "INBOX"
        case .read, .readOrder: "READ"
        case .resume: "RESUME"
        case .stuck: "STUCK"
        case .thresholds: "THRESHOLDS"
        case .setThreshold: "THRESHOLD"
        case .who: "WHO"
        case .away: "AWAY"
        case .back: "BACK"
        case .message: "MSG"
        case .join: "JOIN"
        case .leave: "LEAVE"
        case .say: "SAY"
        case .rooms: "ROOMS"
        case .subscribe: "SUBSCRIBE"
        case .unsubscribe: "UNSUBSCRIBE"
        case .audit: "AUDIT"
        case .metrics: "METRICS"
        case .unlock: "UNLOCK"
        case .addUser, .setRole, .disableUser, .enableUser, .resetPassword: "USER"
        case .changePassword: "PASSWORD"
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

/// What HELP and error replies say about a command, and who may use it.
public struct CommandSpec: Sendable {
    public var name: String
    public var usage: String
    public var summary: String
    public var example: String
    /// Roles allowed; nil means anyone, even before login.
    public var roles: Set<Role>?
    /// Old names the parser still accepts for this command, for existing scripts. HELP lists
    /// only `name`; completion offers only `name`.
    public var deprecatedAliases: [String] = []

    /// Every command, in the order HELP lists them.
    public static let all: [CommandSpec] = {
        let everyone = Set(Role.allCases)
        let people: Set<Role> = [.processor, .sales, .service, .admin]
        let workers: Set<Role> = [.processor, .admin]
        return [
            CommandSpec(name: "LOGIN", usage: "LOGIN <user> <password>", summary: "log in", example: "LOGIN ana demo", roles: nil),
            CommandSpec(name: "QUIT", usage: "QUIT", summary: "log out and close the connection", example: "QUIT", roles: nil),
            CommandSpec(name: "PING", usage: "PING", summary: "check the connection", example: "PING", roles: nil),
            CommandSpec(name: "HELP", usage: "HELP [command]", summary: "list commands, or show one", example: "HELP NEXT", roles: nil),
            CommandSpec(name: "WHOAMI", usage: "WHOAMI", summary: "your name, role and claims", example: "WHOAMI", roles: everyone),
            CommandSpec(name: "USERS", usage: "USERS", summary: "list users, their roles and who is online", example: "USERS", roles: [.admin]),
            CommandSpec(name: "CAPTURE", usage: "CAPTURE <number> customer=<text> rep=<user> po=<text> lines=<sku>:<qty>:<price>[,...] [currency=<code>] [priority=urgent|high|normal|low] [ship=YYYY-MM-DD]",
                        summary: "capture a new order", example: "CAPTURE SO-20001 customer=\"Acme Corp\" rep=sam po=PO-7781 lines=WID-1:2:10.50,GAD-9:1:99.00 priority=high",
                        roles: [.integration, .admin]),
            CommandSpec(name: "ORDER", usage: "ORDER <number>", summary: "one order in full: lines, holds, claim, watchers, thread", example: "ORDER SO-10042", roles: everyone),
            CommandSpec(name: "CARD", usage: "CARD <number>", summary: "an order in plain words to read to a caller: stage, what holds it up, who is on it, shipping", example: "CARD 10089", roles: everyone),
            CommandSpec(name: "QUEUE", usage: "QUEUE <queue> [limit]", summary: "list a queue: new, credit, pricing, inventory, address, other, released, mine", example: "QUEUE new 10", roles: everyone),
            CommandSpec(name: "FIND", usage: "FIND [text] [customer=<text>] [po=<text>] [rep=<user>] [stage=<stage>] [hold=<type>] [holder=<user>] [limit=<n>]",
                        summary: "search orders; text matches number, customer or PO", example: "FIND customer=acme stage=captured", roles: everyone),
            CommandSpec(name: "HISTORY", usage: "HISTORY <number>", summary: "every change of an order, oldest first", example: "HISTORY SO-10042", roles: everyone),
            CommandSpec(name: "NEXT", usage: "NEXT [queue]", summary: "claim the most urgent unclaimed order of a queue (default new)", example: "NEXT pricing", roles: workers),
            CommandSpec(name: "CLAIM", usage: "CLAIM <number>", summary: "claim one order", example: "CLAIM SO-10042", roles: workers),
            // RELEASE was this command's name in the first servers; in order work "release" means MOVE ... released.
            CommandSpec(name: "HANDBACK", usage: "HANDBACK <number> <reason>", summary: "hand a claimed order back to its queue (not a release to fulfilment: see MOVE)", example: "HANDBACK SO-10042 waiting for the customer to call back", roles: workers,
                        deprecatedAliases: ["RELEASE"]),
            CommandSpec(name: "TOUCH", usage: "TOUCH <number>", summary: "renew your claim's lease", example: "TOUCH SO-10042", roles: workers),
            CommandSpec(name: "HOLD", usage: "HOLD <number> <credit|pricing|inventory|address|other> <reason>", summary: "put an order on hold", example: "HOLD SO-10042 pricing list price changed, @sam please confirm", roles: workers),
            CommandSpec(name: "UNHOLD", usage: "UNHOLD <number> <type> <reason>", summary: "release a hold", example: "UNHOLD SO-10042 pricing customer agreed the new price", roles: workers),
            CommandSpec(name: "MOVE", usage: "MOVE <number> <released|shipped|cancelled> [reason]", summary: "move an order to another stage (see the transition table)", example: "MOVE SO-10042 released", roles: [.processor, .admin, .integration]),
            CommandSpec(name: "NOTE", usage: "NOTE <number> <text>", summary: "add to an order's thread; @name pings that user", example: "NOTE SO-10042 @ana customer agreed the new price", roles: people.union([.integration])),
            CommandSpec(name: "WATCH", usage: "WATCH <number>", summary: "get pushes about an order", example: "WATCH SO-10042", roles: people),
            CommandSpec(name: "UNWATCH", usage: "UNWATCH <number>", summary: "stop getting pushes about an order", example: "UNWATCH SO-10042", roles: people),
            CommandSpec(name: "REASSIGN", usage: "REASSIGN <number> <user|nobody> <reason>", summary: "give a claimed or free order to a processor, or force-release it", example: "REASSIGN SO-10042 ben ana is out sick", roles: [.admin]),
            CommandSpec(name: "INBOX", usage: "INBOX [unread] [limit] [before=<event id>]", summary: "events addressed to you, newest first", example: "INBOX unread 10", roles: everyone),
            CommandSpec(name: "READ", usage: "READ <event id>... | READ <number> | READ all", summary: "mark inbox events read: by id, every event of an order, or all", example: "READ SO-10089", roles: everyone),
            CommandSpec(name: "RESUME", usage: "RESUME <last event id seen>", summary: "replay the events you missed since that id, then continue live", example: "RESUME 1187", roles: everyone),
            CommandSpec(name: "STUCK", usage: "STUCK [rep=<user>] [queue=<queue>] [holder=<user>] [limit=<n>]", summary: "orders stuck past their queue's threshold, and who was told", example: "STUCK rep=sam", roles: everyone),
            CommandSpec(name: "THRESHOLDS", usage: "THRESHOLDS", summary: "each queue's escalation thresholds", example: "THRESHOLDS", roles: everyone),
            CommandSpec(name: "THRESHOLD", usage: "THRESHOLD <queue> warning=<d> stuck=<d> admins=<d>", summary: "change a queue's thresholds (durations like 30m, 4h, 2d)", example: "THRESHOLD pricing warning=1h stuck=2h admins=6h", roles: [.admin]),
            CommandSpec(name: "WHO", usage: "WHO", summary: "who is online, their role, status and claims", example: "WHO", roles: everyone),
            CommandSpec(name: "AWAY", usage: "AWAY <message>", summary: "set yourself away with an automatic answer to direct messages", example: "AWAY at lunch until 1pm", roles: everyone),
            CommandSpec(name: "BACK", usage: "BACK", summary: "clear your away status", example: "BACK", roles: everyone),
            CommandSpec(name: "MSG", usage: "MSG <user> <text>", summary: "send a direct message (kept until they log in)", example: "MSG sam can you call Acme about SO-10042?", roles: everyone),
            CommandSpec(name: "JOIN", usage: "JOIN <room>", summary: "join a room (a queue's name or any other)", example: "JOIN pricing", roles: everyone),
            CommandSpec(name: "LEAVE", usage: "LEAVE <room>", summary: "leave a room", example: "LEAVE pricing", roles: everyone),
            CommandSpec(name: "SAY", usage: "SAY <room> <text>", summary: "post to a room you joined", example: "SAY pricing who knows the Acme contract price?", roles: everyone),
            CommandSpec(name: "ROOMS", usage: "ROOMS", summary: "rooms with members", example: "ROOMS", roles: everyone),
            CommandSpec(name: "SUBSCRIBE", usage: "SUBSCRIBE <queue|stuck>", summary: "get a push when an order enters or leaves a queue", example: "SUBSCRIBE credit", roles: everyone),
            CommandSpec(name: "UNSUBSCRIBE", usage: "UNSUBSCRIBE <queue|stuck>", summary: "stop those pushes", example: "UNSUBSCRIBE credit", roles: everyone),
            CommandSpec(name: "AUDIT", usage: "AUDIT [limit] [before=<id>] [user=<name>] [action=<action>]", summary: "administrator actions, newest first; pages back with before=", example: "AUDIT 20 action=reassign", roles: [.admin]),
            CommandSpec(name: "USER", usage: "USER ADD <name> <role> <password> | USER ROLE <name> <role> | USER DISABLE <name> <reason> | USER ENABLE <name> | USER PASSWORD <name> <password>",
                        summary: "add a user, change a role, disable or enable a user, reset a password", example: "USER DISABLE ben left the company", roles: [.admin]),
            CommandSpec(name: "PASSWORD", usage: "PASSWORD <old password> <new password>", summary: "change your own password", example: "PASSWORD old-secret-1 new-secret-2", roles: everyone),
            CommandSpec(name: "UNLOCK", usage: "UNLOCK <user>", summary: "clear a user's lockout after too many failed logins", example: "UNLOCK ben", roles: [.admin]),
            CommandSpec(name: "METRICS", usage: "METRICS [window=<d>]", summary: "queue depths, cycle and hold resolution times, throughput, server counters", example: "METRICS window=7d", roles: [.admin]),
        ]
    }()

    /// The command called `name` (upper-case), or of which `name` is a deprecated alias.
    public static func named(_ name: String) -> CommandSpec? {
        all.first { $0.name == name } ?? all.first { $0.deprecatedAliases.contains(name) }
    }
}
