/// Read-only handlers. Look-ups never take claims or change anything.
extension Desk {
    func whoami(_ user: User, now: Instant) -> Reply {
        let claims = index.claims(of: user.name, orders: orders)
        return .answer(.whoami(user: user.name, role: user.role, claims: claims, now: now, unread: nil))
    }

    /// LOGIN's answer: WHOAMI's, with the user's unread events summed up.
    public func loginAnswer(for name: String, now: Instant) -> Reply? {
        guard let user = users[name] else { return nil }
        let unread = UnreadSummary(unread: unreadCount(of: name), byOrder: Array(unreadByOrder(of: name).prefix(Self.unreadOrdersShown)))
        return .answer(.whoami(user: name, role: user.role, claims: index.claims(of: name, orders: orders), now: now, unread: unread))
    }

    func listUsers() -> Reply {
        .answer(.users(users.values.sorted { $0.name < $1.name }.map { user in
            UserListing(user: user, isOnline: isOnline(user.name), claims: index.claimsByHolder[user.name]?.count ?? 0)
        }))
    }

    /// ORDER: the card. Reading an order's card reads its events: the user's unread ones about
    /// it are marked read (the only change a look-up makes; it takes no claim).
    mutating func show(_ number: String, for user: User, now: Instant) throws(DeskError) -> Reply {
        let order = try existingOrder(number)
        return .answer(.card(OrderView(order, now: now), marks: readMarks(order: number, user: user)))
    }

    /// CARD: the order in plain words (`PlainStatus`), for customer service on the phone.
    func plainCard(_ number: String, now: Instant) throws(DeskError) -> Reply {
        let order = try existingOrder(number)
        return .answer(.plainCard(order: order.withoutThread, status: PlainStatus(order, now: now)))
    }

    /// `command` with a bare number (`ORDER 10089`) replaced by the one order whose number ends
    /// in those digits (`SO-10089`), for the look-ups ORDER, CARD and HISTORY. A number that
    /// exists as given is kept; one that several orders end in is `ambiguous`. Changes go by
    /// the whole number only.
    public func resolvingNumber(in command: Command) -> Result<Command, DeskError> {
        func resolve(_ number: String) -> Result<String, DeskError> {
            guard orders[number] == nil, number.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
                  let match = numbersByDigits.match(number) else { return .success(number) }
            switch match {
            case .one(let position) where position < orders.count: return .success(orders.number(at: position))
            case .one: return .success(number)
            case .several(let numbers): return .failure(.ambiguousOrder(number, candidates: numbers.sorted()))
            }
        }
        switch command {
        case .show(let number): return resolve(number).map { .show(order: $0) }
        case .card(let number): return resolve(number).map { .card(order: $0) }
        case .history(let number): return resolve(number).map { .history(order: $0) }
        default: return .success(command)
        }
    }

    /// Indexes the trailing digits of the order just added to `orders`.
    mutating func indexDigitsOfNewestOrder() {
        guard orders.count > 0 else { return }
        numbersByDigits.add(orders.number(at: orders.count - 1), at: orders.count - 1, in: orders.values)
    }

    /// True when showing `command` needs the order's full thread from the store first
    /// (ORDER or HISTORY of an archived order).
    public func needsThread(_ command: Command) -> String? {
        switch command {
        case .show(let number), .history(let number): orders[number]?.isArchived == true ? number : nil
        default: nil
        }
    }

    /// Answers ORDER or HISTORY of an archived order with the thread the store read.
    /// As ORDER, it marks the order's events read.
    public mutating func answer(_ command: Command, as userName: String, thread: (notes: [Note], history: [HistoryEntry]), now: Instant) -> Outcome {
        guard let user = users[userName] else { return finish(reply: .failure(.notLoggedIn)) }
        guard let number = command.orderNumber, var order = orders[number] else { return finish(reply: .failure(.orderNotFound(command.orderNumber ?? ""))) }
        guard command.spec.allows(user.role) else { return finish(reply: .failure(.denied(command: command.name, role: user.role))) }
        order.notes = thread.notes
        order.history = thread.history
        if case .history = command {
            return finish(reply: .answer(.history(order: number, entries: order.history)))
        }
        return finish(reply: .answer(.card(OrderView(order, now: now), marks: readMarks(order: number, user: user))))
    }

    func listQueue(_ queue: QueueName, limit: Int, for user: User, now: Instant) throws(DeskError) -> Reply {
        if queue != .mine, (index.members[queue]?.count ?? 0) > Self.scanSlice {
            return try scanToEnd(.queue(queue, limit: limit), as: user, now: now)
        }
        let listed: [Order]
        let count: Int
        if queue == .mine {
            let all = index.claims(of: user.name, orders: orders)
            listed = Array(all.prefix(limit))
            count = all.count
        } else {
            listed = index.listing(queue, orders: orders, limit: limit)
            count = index.members[queue]?.count ?? 0
        }
        return .answer(.orders(OrderPage(source: .queue(queue), count: count, orders: listed, now: now)))
    }

    func history(_ number: String) throws(DeskError) -> Reply {
        let order = try existingOrder(number)
        return .answer(.history(order: number, entries: order.history))
    }
}
