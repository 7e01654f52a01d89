/// Handlers for claims: NEXT, CLAIM, HANDBACK, TOUCH, REASSIGN.
extension Desk {
    mutating func next(from queue: QueueName, by user: User, now: Instant) throws(DeskError) -> Reply {
        guard let number = index.nextCandidate(in: queue, orders: orders), let order = orders[number] else {
            throw .queueEmpty(queue)
        }
        return take(order, by: user, now: now)
    }

    mutating func claim(_ number: String, by user: User, now: Instant) throws(DeskError) -> Reply {
        let order = try existingOrder(number)
        guard !order.stage.isTerminal else { throw .illegalMove(order: number, from: order.stage, action: "claim") }
        switch order.claim {
        case .claimed(let lease) where lease.holder == user.name:
            // Claiming what you hold renews it and keeps the token.
            let renewedOrder = renewed(order, by: user.name, now: now)
            save(renewedOrder, now: now)
            return claimReply(renewedOrder, now: now)
        case .claimed(let lease):
            throw .claimedByOther(order: number, holder: lease.holder, until: lease.expires)
        case .unclaimed:
            return take(order, by: user, now: now)
        }
    }

    private mutating func take(_ order: Order, by user: User, now: Instant) -> Reply {
        var order = order
        detachThread(of: order.number)
        let lease = newLease(for: user.name, now: now)
        order.claim = .claimed(lease)
        record("claimed", "token \(lease.token)", by: user.name, on: &order, now: now)
        save(order, now: now)
        notify(Array(order.watchers), except: user.name, .claimed(order: order.number, by: user.name, token: lease.token), now: now)
        return claimReply(order, now: now)
    }

    private func claimReply(_ order: Order, now: Instant) -> Reply {
        .answer(.claimed(OrderView(order, now: now, noteLimit: 5)))
    }

    mutating func handBack(_ number: String, reason: String, by user: User, now: Instant) throws(DeskError) -> Reply {
        var order = try existingOrder(number)
        guard let lease = order.lease, lease.holder == user.name else {
            if let lease = order.lease { throw .claimedByOther(order: number, holder: lease.holder, until: lease.expires) }
            throw .notHolder(order: number)
        }
        detachThread(of: number)
        order.claim = .unclaimed
        record("handed-back", "token \(lease.token): \(reason)", by: user.name, on: &order, now: now)
        save(order, now: now)
        notify(Array(order.watchers), except: user.name, .handedBack(order: number, by: user.name, reason: reason), now: now)
        return .answer(.handedBack(order: number, queue: QueueName.queues(of: order).first))
    }

    mutating func touch(_ number: String, by user: User, now: Instant) throws(DeskError) -> Reply {
        let order = try existingOrder(number)
        guard let lease = order.lease, lease.holder == user.name else {
            if let lease = order.lease { throw .claimedByOther(order: number, holder: lease.holder, until: lease.expires) }
            throw .notHolder(order: number)
        }
        let renewedOrder = renewed(order, by: user.name, now: now)
        save(renewedOrder, now: now)
        return .answer(.renewed(order: number, lease: renewedOrder.lease ?? lease))
    }

    /// Gives the order to `target` (or to nobody), telling the old holder, the new one and the watchers.
    mutating func reassign(_ number: String, to target: String, reason: String, by user: User, now: Instant) throws(DeskError) -> Reply {
        var order = try existingOrder(number)
        guard !order.stage.isTerminal else { throw .illegalMove(order: number, from: order.stage, action: "claim") }
        let newHolder: String? = target.lowercased() == "nobody" ? nil : target
        if let newHolder {
            guard let targetUser = users[newHolder] else { throw .userNotFound(newHolder) }
            guard targetUser.role == .processor || targetUser.role == .admin else { throw .notAProcessor(newHolder) }
            guard !targetUser.isDisabled else { throw .userDisabled(newHolder) }
        }
        let oldHolder = order.lease?.holder
        guard oldHolder != nil || newHolder != nil else {
            throw .badArguments(usage: "REASSIGN <number> <user|nobody> <reason>", detail: "order=\(number) is not claimed; nothing to release")
        }
        detachThread(of: number)
        var token: UInt64?
        if let newHolder {
            let lease = newLease(for: newHolder, now: now)
            token = lease.token
            order.claim = .claimed(lease)
        } else {
            order.claim = .unclaimed
        }
        record("reassigned", "\(oldHolder ?? "nobody") -> \(newHolder ?? "nobody")" + (token.map { " token \($0)" } ?? "") + ": \(reason)",
               by: user.name, on: &order, now: now)
        save(order, now: now)
        recordAudit("reassign", "\(number) \(oldHolder ?? "nobody") -> \(newHolder ?? "nobody"): \(reason)", by: user.name, now: now)
        let recipients = [oldHolder, newHolder].compactMap { $0 } + order.watchers.sorted()
        notify(recipients, except: user.name,
               .reassigned(order: number, from: oldHolder, to: newHolder, by: user.name, reason: reason, token: token), now: now)
        return .answer(.reassigned(order: number, from: oldHolder, to: newHolder, lease: order.lease))
    }
}
