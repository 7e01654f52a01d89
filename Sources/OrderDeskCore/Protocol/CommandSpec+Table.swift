/// The command table: one row per command, in the order HELP lists them (protocol.md,
/// sections 6 and 7). Each row is the only place its command's name is spelled.
extension CommandSpec {
    /// Every command, in the order HELP lists them.
    public static let all: [CommandSpec] = [
        .login, .quit, .ping, .help, .whoami, .users, .capture, .order, .card, .queue, .find, .history,
        .next, .claim, .handBack, .touch, .hold, .unhold, .move, .note, .watch, .unwatch, .reassign,
        .inbox, .read, .resume, .stuck, .thresholds, .threshold, .who, .away, .back, .message,
        .join, .leave, .say, .rooms, .subscribe, .unsubscribe, .audit, .user, .password, .unlock, .metrics,
    ]

    // MARK: Session

    public static let login = CommandSpec(name: "LOGIN", usage: "LOGIN <user> <password>", summary: "log in", example: "LOGIN ana demo",
                                          roles: nil) { arguments throws(DeskError) in
        // The name's form is checked before anything else: a malformed name is never hashed,
        // tracked or logged in full.
        let user = try arguments.word("user")
        guard UserName.isValid(user) else { throw arguments.usageError("that is not a user name") }
        let password = try arguments.word("password")
        guard password.utf8.count <= PasswordRule.maximumLength else {
            throw .tooLarge(what: "password", limit: PasswordRule.maximumLength)
        }
        return .session(.login(user: user, password: password))
    }
    public static let quit = CommandSpec(name: "QUIT", usage: "QUIT", summary: "log out and close the connection", example: "QUIT",
                                         roles: nil) { _ in .session(.logout) }
    public static let ping = CommandSpec(name: "PING", usage: "PING", summary: "check the connection", example: "PING",
                                         roles: nil) { _ in .session(.ping) }
    public static let help = CommandSpec(name: "HELP", usage: "HELP [command]", summary: "list commands, or show one", example: "HELP NEXT",
                                         roles: nil) { arguments in .session(.help(topic: arguments.optionalWord()?.uppercased())) }
    public static let whoami = CommandSpec(name: "WHOAMI", usage: "WHOAMI", summary: "your name, role and claims", example: "WHOAMI",
                                           roles: Roles.everyone) { _ in .desk(.whoami) }
    public static let users = CommandSpec(name: "USERS", usage: "USERS", summary: "list users, their roles and who is online", example: "USERS",
                                          roles: [.admin]) { _ in .desk(.users) }

    // MARK: Orders

    public static let capture = CommandSpec(
        name: "CAPTURE",
        usage: "CAPTURE <number> customer=<text> rep=<user> po=<text> lines=<sku>:<qty>:<price>[,...] [currency=<code>] [priority=urgent|high|normal|low] [ship=YYYY-MM-DD]",
        summary: "capture a new order",
        example: "CAPTURE SO-20001 customer=\"Acme Corp\" rep=sam po=PO-7781 lines=WID-1:2:10.50,GAD-9:1:99.00 priority=high",
        roles: [.integration, .admin]) { arguments throws(DeskError) in .desk(.capture(try arguments.draft())) }
    public static let order = CommandSpec(name: "ORDER", usage: "ORDER <number>", summary: "one order in full: lines, holds, claim, watchers, thread",
                                          example: "ORDER SO-10042", roles: Roles.everyone) { arguments throws(DeskError) in
        .desk(.show(order: try arguments.orderNumber()))
    }
    public static let card = CommandSpec(name: "CARD", usage: "CARD <number>",
                                         summary: "an order in plain words to read to a caller: stage, what holds it up, who is on it, shipping",
                                         example: "CARD 10089", roles: Roles.everyone) { arguments throws(DeskError) in
        .desk(.card(order: try arguments.orderNumber()))
    }
    public static let queue = CommandSpec(name: "QUEUE", usage: "QUEUE <queue> [limit]",
                                          summary: "list a queue: new, credit, pricing, inventory, address, other, released, mine",
                                          example: "QUEUE new 10", roles: Roles.everyone) { arguments throws(DeskError) in
        let queue = try arguments.queue()
        let limit = try arguments.optionalCount() ?? 20
        return .desk(.queue(queue, limit: limit))
    }
    public static let find = CommandSpec(name: "FIND", usage: "FIND [text] [customer=<text>] [po=<text>] [rep=<user>] [stage=<stage>] [hold=<type>] [holder=<user>] [limit=<n>]",
                                         summary: "search orders; text matches number, customer or PO", example: "FIND customer=acme stage=captured",
                                         roles: Roles.everyone) { arguments throws(DeskError) in .desk(.find(try arguments.query())) }
    public static let history = CommandSpec(name: "HISTORY", usage: "HISTORY <number>", summary: "every change of an order, oldest first",
                                            example: "HISTORY SO-10042", roles: Roles.everyone) { arguments throws(DeskError) in
        .desk(.history(order: try arguments.orderNumber()))
    }

    // MARK: Claims and changes

    public static let next = CommandSpec(name: "NEXT", usage: "NEXT [queue]", summary: "claim the most urgent unclaimed order of a queue (default new)",
                                         example: "NEXT pricing", roles: Roles.workers) { arguments throws(DeskError) in
        let queue = arguments.isAtEnd ? QueueName.new : try arguments.queue()
        guard queue != .mine, queue != .released else {
            throw arguments.usageError("NEXT takes new or a hold type, not \(queue.wireName)")
        }
        return .desk(.next(queue))
    }
    public static let claim = CommandSpec(name: "CLAIM", usage: "CLAIM <number>", summary: "claim one order", example: "CLAIM SO-10042",
                                          roles: Roles.workers) { arguments throws(DeskError) in .desk(.claim(order: try arguments.orderNumber())) }
    // RELEASE was this command's name in the first servers; in order work "release" means MOVE ... released.
    public static let handBack = CommandSpec(name: "HANDBACK", usage: "HANDBACK <number> <reason>",
                                             summary: "hand a claimed order back to its queue (not a release to fulfilment: see MOVE)",
                                             example: "HANDBACK SO-10042 waiting for the customer to call back", roles: Roles.workers,
                                             deprecatedAliases: ["RELEASE"]) { arguments throws(DeskError) in
        .desk(.handBack(order: try arguments.orderNumber(), reason: try arguments.text("reason")))
    }
    public static let touch = CommandSpec(name: "TOUCH", usage: "TOUCH <number>", summary: "renew your claim's lease", example: "TOUCH SO-10042",
                                          roles: Roles.workers) { arguments throws(DeskError) in .desk(.touch(order: try arguments.orderNumber())) }
    public static let hold = CommandSpec(name: "HOLD", usage: "HOLD <number> <credit|pricing|inventory|address|other> <reason>",
                                         summary: "put an order on hold", example: "HOLD SO-10042 pricing list price changed, @sam please confirm",
                                         roles: Roles.workers) { arguments throws(DeskError) in
        let (order, type, reason) = try arguments.holdArguments()
        return .desk(.hold(order: order, type: type, reason: reason))
    }
    public static let unhold = CommandSpec(name: "UNHOLD", usage: "UNHOLD <number> <type> <reason>", summary: "release a hold",
                                           example: "UNHOLD SO-10042 pricing customer agreed the new price", roles: Roles.workers) { arguments throws(DeskError) in
        let (order, type, reason) = try arguments.holdArguments()
        return .desk(.unhold(order: order, type: type, reason: reason))
    }
    public static let move = CommandSpec(name: "MOVE", usage: "MOVE <number> <released|shipped|cancelled> [reason]",
                                         summary: "move an order to another stage (see the transition table)", example: "MOVE SO-10042 released",
                                         roles: [.processor, .admin, .integration]) { arguments throws(DeskError) in
        let order = try arguments.orderNumber()
        let stageWord = try arguments.word("stage")
        guard let stage = Stage(rawValue: stageWord.lowercased()), stage != .captured else {
            throw arguments.usageError("unknown stage \(stageWord); one of released, shipped, cancelled")
        }
        let reason = arguments.isAtEnd ? nil : try arguments.text("reason")
        return .desk(.move(order: order, to: stage, reason: reason))
    }
    public static let note = CommandSpec(name: "NOTE", usage: "NOTE <number> <text>", summary: "add to an order's thread; @name pings that user",
                                         example: "NOTE SO-10042 @ana customer agreed the new price",
                                         roles: Roles.people.union([.integration])) { arguments throws(DeskError) in
        .desk(.note(order: try arguments.orderNumber(), text: try arguments.text("text")))
    }
    public static let watch = CommandSpec(name: "WATCH", usage: "WATCH <number>", summary: "get pushes about an order", example: "WATCH SO-10042",
                                          roles: Roles.people) { arguments throws(DeskError) in .desk(.watch(order: try arguments.orderNumber())) }
    public static let unwatch = CommandSpec(name: "UNWATCH", usage: "UNWATCH <number>", summary: "stop getting pushes about an order",
                                            example: "UNWATCH SO-10042", roles: Roles.people) { arguments throws(DeskError) in
        .desk(.unwatch(order: try arguments.orderNumber()))
    }
    public static let reassign = CommandSpec(name: "REASSIGN", usage: "REASSIGN <number> <user|nobody> <reason>",
                                             summary: "give a claimed or free order to a processor, or force-release it",
                                             example: "REASSIGN SO-10042 ben ana is out sick", roles: [.admin]) { arguments throws(DeskError) in
        let order = try arguments.orderNumber()
        let user = try arguments.word("user")
        return .desk(.reassign(order: order, to: user, reason: try arguments.text("reason")))
    }

    // MARK: Notifications

    public static let inbox = CommandSpec(name: "INBOX", usage: "INBOX [unread] [limit] [before=<event id>]", summary: "events addressed to you, newest first",
                                          example: "INBOX unread 10", roles: Roles.everyone) { arguments throws(DeskError) in
        var onlyUnread = false
        var limit = 20
        var before: UInt64?
        var hasLimit = false
        while !arguments.isAtEnd {
            if let word = arguments.optionalWord() {
                if word.lowercased() == "unread", !onlyUnread {
                    onlyUnread = true
                } else if !hasLimit, let count = Int(word), (1...500).contains(count) {
                    limit = count
                    hasLimit = true
                } else {
                    throw arguments.usageError("unexpected \(word)")
                }
            } else {
                let fields = try arguments.fields(allowed: ["before"])
                guard let value = fields["before"].flatMap(UInt64.init) else { throw arguments.usageError("before= takes an event id") }
                before = value
            }
        }
        return .desk(.inbox(onlyUnread: onlyUnread, limit: limit, before: before))
    }
    public static let read = CommandSpec(name: "READ", usage: "READ <event id>... | READ <number> | READ all",
                                         summary: "mark inbox events read: by id, every event of an order, or all", example: "READ SO-10089",
                                         roles: Roles.everyone) { arguments throws(DeskError) in
        // READ SO-10089: one order's events. Bare numbers stay event ids, as they always were.
        if let first = arguments.peekWord(), UInt64(first) == nil, first.lowercased() != "all" {
            let order = try arguments.orderNumber()
            guard arguments.isAtEnd else { throw arguments.usageError("READ takes one order number") }
            return .desk(.readOrder(order))
        }
        var ids: [UInt64] = []
        var all = false
        while let word = arguments.optionalWord() {
            if word.lowercased() == "all" { all = true } else if let id = UInt64(word) { ids.append(id) } else { throw arguments.usageError("\(word) is not an event id") }
        }
        guard all != !ids.isEmpty else { throw arguments.usageError("give event ids, or all") }
        return .desk(.read(all ? nil : ids))
    }
    public static let resume = CommandSpec(name: "RESUME", usage: "RESUME <last event id seen>",
                                           summary: "replay the events you missed since that id, then continue live", example: "RESUME 1187",
                                           roles: Roles.everyone) { arguments throws(DeskError) in
        let word = try arguments.word("last event id")
        guard let id = UInt64(word) else { throw arguments.usageError("\(word) is not an event id") }
        return .session(.resume(after: id))
    }

    // MARK: Escalation

    public static let stuck = CommandSpec(name: "STUCK", usage: "STUCK [rep=<user>] [queue=<queue>] [holder=<user>] [limit=<n>]",
                                          summary: "orders stuck past their queue's threshold, and who was told", example: "STUCK rep=sam",
                                          roles: Roles.everyone) { arguments throws(DeskError) in
        let fields = try arguments.fields(allowed: ["rep", "queue", "holder", "limit"])
        var filter = StuckFilter(rep: fields["rep"], holder: fields["holder"])
        if let name = fields["queue"] {
            guard let queue = QueueName(wireName: name.lowercased()), queue != .mine else { throw arguments.usageError("unknown queue \(name)") }
            filter.queue = queue
        }
        if let limit = fields["limit"] {
            guard let value = Int(limit), (1...1000).contains(value) else { throw arguments.usageError("limit= is 1 to 1000") }
            filter.limit = value
        }
        return .desk(.stuck(filter))
    }
    public static let thresholds = CommandSpec(name: "THRESHOLDS", usage: "THRESHOLDS", summary: "each queue's escalation thresholds",
                                               example: "THRESHOLDS", roles: Roles.everyone) { _ in .desk(.thresholds) }
    public static let threshold = CommandSpec(name: "THRESHOLD", usage: "THRESHOLD <queue> warning=<d> stuck=<d> admins=<d>",
                                              summary: "change a queue's thresholds (durations like 30m, 4h, 2d)",
                                              example: "THRESHOLD pricing warning=1h stuck=2h admins=6h", roles: [.admin]) { arguments throws(DeskError) in
        let queue = try arguments.queue()
        let fields = try arguments.fields(allowed: ["warning", "stuck", "admins"])
        func duration(_ key: String) throws(DeskError) -> Milliseconds {
            guard let text = fields[key], let value = Milliseconds(duration: text) else { throw arguments.usageError("\(key)= takes a duration such as 30m, 4h or 2d") }
            return value
        }
        return .desk(.setThreshold(queue, EscalationThresholds(warning: try duration("warning"), stuck: try duration("stuck"), admins: try duration("admins"))))
    }

    // MARK: Presence and chat

    public static let who = CommandSpec(name: "WHO", usage: "WHO", summary: "who is online, their role, status and claims", example: "WHO",
                                        roles: Roles.everyone) { _ in .desk(.who) }
    public static let away = CommandSpec(name: "AWAY", usage: "AWAY <message>", summary: "set yourself away with an automatic answer to direct messages",
                                         example: "AWAY at lunch until 1pm", roles: Roles.everyone) { arguments throws(DeskError) in
        .desk(.away(try arguments.text("message")))
    }
    public static let back = CommandSpec(name: "BACK", usage: "BACK", summary: "clear your away status", example: "BACK",
                                         roles: Roles.everyone) { _ in .desk(.back) }
    public static let message = CommandSpec(name: "MSG", usage: "MSG <user> <text>", summary: "send a direct message (kept until they log in)",
                                            example: "MSG sam can you call Acme about SO-10042?", roles: Roles.everyone) { arguments throws(DeskError) in
        let user = try arguments.word("user")
        return .desk(.message(to: user, text: try arguments.text("text")))
    }
    public static let join = CommandSpec(name: "JOIN", usage: "JOIN <room>", summary: "join a room (a queue's name or any other)", example: "JOIN pricing",
                                         roles: Roles.everyone) { arguments throws(DeskError) in .desk(.join(room: try arguments.word("room").lowercased())) }
    public static let leave = CommandSpec(name: "LEAVE", usage: "LEAVE <room>", summary: "leave a room", example: "LEAVE pricing",
                                          roles: Roles.everyone) { arguments throws(DeskError) in .desk(.leave(room: try arguments.word("room").lowercased())) }
    public static let say = CommandSpec(name: "SAY", usage: "SAY <room> <text>", summary: "post to a room you joined",
                                        example: "SAY pricing who knows the Acme contract price?", roles: Roles.everyone) { arguments throws(DeskError) in
        let room = try arguments.word("room").lowercased()
        return .desk(.say(room: room, text: try arguments.text("text")))
    }
    public static let rooms = CommandSpec(name: "ROOMS", usage: "ROOMS", summary: "rooms with members", example: "ROOMS",
                                          roles: Roles.everyone) { _ in .desk(.rooms) }
    public static let subscribe = CommandSpec(name: "SUBSCRIBE", usage: "SUBSCRIBE <queue|stuck>", summary: "get a push when an order enters or leaves a queue",
                                              example: "SUBSCRIBE credit", roles: Roles.everyone) { arguments throws(DeskError) in
        .desk(.subscribe(try arguments.topic()))
    }
    public static let unsubscribe = CommandSpec(name: "UNSUBSCRIBE", usage: "UNSUBSCRIBE <queue|stuck>", summary: "stop those pushes",
                                                example: "UNSUBSCRIBE credit", roles: Roles.everyone) { arguments throws(DeskError) in
        .desk(.unsubscribe(try arguments.topic()))
    }

    // MARK: Administration

    public static let audit = CommandSpec(name: "AUDIT", usage: "AUDIT [limit] [before=<id>] [user=<name>] [action=<action>]",
                                          summary: "administrator actions, newest first; pages back with before=", example: "AUDIT 20 action=reassign",
                                          roles: [.admin]) { arguments throws(DeskError) in
        let limit = try arguments.optionalCount() ?? 50
        let fields = try arguments.fields(allowed: ["before", "user", "action"])
        let before = fields["before"].flatMap(UInt64.init)
        if fields["before"] != nil, before == nil { throw arguments.usageError("before= takes an audit entry id") }
        return .session(.audit(AuditQuery(limit: limit, before: before, user: fields["user"], action: fields["action"]?.lowercased())))
    }
    /// USER ADD and USER PASSWORD hash a password, so the server answers them; USER ROLE,
    /// DISABLE and ENABLE are the desk's.
    public static let user = CommandSpec(
        name: "USER",
        usage: "USER ADD <name> <role> <password> | USER ROLE <name> <role> | USER DISABLE <name> <reason> | USER ENABLE <name> | USER PASSWORD <name> <password>",
        summary: "add a user, change a role, disable or enable a user, reset a password", example: "USER DISABLE ben left the company",
        roles: [.admin]) { arguments throws(DeskError) in
        let action = try arguments.word("ADD or ROLE").uppercased()
        let user = try arguments.word("user name")
        guard UserName.isValid(user) else {
            throw arguments.usageError("a user name starts with a letter and holds letters, digits, _ . - (at most \(UserName.maximumLength))")
        }
        switch action {
        case "ADD":
            let role = try arguments.role()
            return .session(.addUser(name: user, role: role, password: try arguments.newPassword()))
        case "ROLE": return .desk(.setRole(user: user, role: try arguments.role()))
        case "DISABLE": return .desk(.disableUser(name: user, reason: try arguments.text("reason")))
        case "ENABLE": return .desk(.enableUser(name: user))
        case "PASSWORD": return .session(.resetPassword(user: user, password: try arguments.newPassword()))
        default: throw arguments.usageError("USER takes ADD, ROLE, DISABLE, ENABLE or PASSWORD")
        }
    }
    public static let password = CommandSpec(name: "PASSWORD", usage: "PASSWORD <old password> <new password>", summary: "change your own password",
                                             example: "PASSWORD old-secret-1 new-secret-2", roles: Roles.everyone) { arguments throws(DeskError) in
        let old = try arguments.word("old password")
        guard old.utf8.count <= PasswordRule.maximumLength else { throw .tooLarge(what: "password", limit: PasswordRule.maximumLength) }
        let new = try arguments.word("new password")
        if let problem = PasswordRule.problem(with: new) { throw arguments.usageError(problem) }
        return .session(.changePassword(old: old, new: new))
    }
    public static let unlock = CommandSpec(name: "UNLOCK", usage: "UNLOCK <user>", summary: "clear a user's lockout after too many failed logins",
                                           example: "UNLOCK ben", roles: [.admin]) { arguments throws(DeskError) in
        .session(.unlock(user: try arguments.word("user")))
    }
    public static let metrics = CommandSpec(name: "METRICS", usage: "METRICS [window=<d>]",
                                            summary: "queue depths, cycle and hold resolution times, throughput, server counters",
                                            example: "METRICS window=7d", roles: [.admin]) { arguments throws(DeskError) in
        let fields = try arguments.fields(allowed: ["window"])
        var window = Milliseconds(30 * 86_400_000)
        if let text = fields["window"] {
            guard let value = Milliseconds(duration: text), value.value > 0 else { throw arguments.usageError("window= takes a duration such as 7d") }
            window = value
        }
        return .desk(.metrics(window: window))
    }
}

/// The role sets the table's rows share.
private enum Roles {
    static let everyone = Set(Role.allCases)
    /// People, as against the integration account.
    static let people: Set<Role> = [.processor, .sales, .service, .admin]
    /// Those who claim and work orders.
    static let workers: Set<Role> = [.processor, .admin]
}
