/// Read-only handlers. Look-ups never take claims or change anything.
extension Desk {
    func whoami(_ user: User, now: Instant) -> Reply {
        let claims = index.claims(of: user.name, orders: orders)
        return .ok(Rendering.join([("user", user.name), ("role", user.role.rawValue), ("claims", String(claims.count))]),
                   data: claims.map { Rendering.summary($0, now: now) })
    }

    func listUsers() -> Reply {
        let lines = users.values.sorted { $0.name < $1.name }.map { user in
            Rendering.join([("user", user.name), ("role", user.role.rawValue), ("online", isOnline(user.name) ? "yes" : "no"),
                            ("claims", String(index.claimsByHolder[user.name]?.count ?? 0))])
        }
        return .ok(Rendering.join([("users", String(lines.count))]), data: lines)
    }

    func show(_ number: String, now: Instant) throws(DeskError) -> Reply {
        let order = try existingOrder(number)
        return .ok(Rendering.join([("order", number)]), data: Rendering.card(order, now: now))
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
    public func answer(_ command: Command, as userName: String, thread: (notes: [Note], history: [HistoryEntry]), now: Instant) -> Reply {
        guard let user = users[userName] else { return .failure(.notLoggedIn) }
        guard let number = command.orderNumber, var order = orders[number] else { return .failure(.orderNotFound(command.orderNumber ?? "")) }
        if let roles = CommandSpec.named(command.name)?.roles, !roles.contains(user.role) {
            return .failure(.denied(command: command.name, role: user.role))
        }
        order.notes = thread.notes
        order.history = thread.history
        if case .history = command {
            return .ok(Rendering.join([("order", number), ("entries", String(order.history.count))]), data: order.history.map(Rendering.historyLine))
        }
        return .ok(Rendering.join([("order", number)]), data: Rendering.card(order, now: now))
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
        return .ok(Rendering.join([("queue", queue.wireName), ("count", String(count)), ("shown", String(listed.count))]),
                   data: listed.map { Rendering.summary($0, now: now) })
    }

    func history(_ number: String) throws(DeskError) -> Reply {
        let order = try existingOrder(number)
        return .ok(Rendering.join([("order", number), ("entries", String(order.history.count))]),
                   data: order.history.map(Rendering.historyLine))
    }
}
