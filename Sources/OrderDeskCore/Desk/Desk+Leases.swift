/// Time and presence: lease warnings and expiry, and the grace window after a disconnect.
extension Desk {
    /// Warns holders whose leases are about to run out, returns expired claims to their queues
    /// and fires escalation steps. The server calls this when `nextDeadline` comes; tests call
    /// it with an injected clock.
    public mutating func tick(now: Instant) -> Outcome {
        expireLeases(now: now)
        escalate(now: now)
        return finish(reply: nil)
    }

    /// Works off every lease deadline due by `now`, soonest first. `execute` runs it before each
    /// command, so a lease that has run out is over at that instant whether or not a tick ran.
    mutating func expireLeases(now: Instant) {
        while let top = leaseDeadlines.peek(), top.due <= now {
            _ = leaseDeadlines.pop()
            // An entry is current only while its lease is the one it was pushed for and still
            // comes due then: a renewed lease's old entry is skipped (its new one is in the heap),
            // so every copy of the desk, however its heap was built, works the same entries.
            guard isCurrent(top), var order = orders[top.order], case .claimed(var lease) = order.claim else { continue }
            let number = order.number
            if let graceEnds = lease.graceEnds, graceEnds <= now {
                expire(&order, lease, reason: "disconnected", now: now)
            } else if lease.expires <= now {
                expire(&order, lease, reason: "timeout", now: now)
            } else if !lease.isWarned, lease.expires - settings.warningLead <= now {
                lease.isWarned = true
                order.claim = .claimed(lease)
                save(order, now: now)
                notify([lease.holder], except: nil, .leaseWarning(order: number, holder: lease.holder, until: lease.expires, token: lease.token), now: now)
            }
            // Otherwise the entry is stale (the lease was renewed): its current deadline has an
            // entry of its own, pushed when it was saved.
        }
    }

    /// Ends the leases that ran out by `now`, as `execute` does before every command; for checks
    /// that compare a failed command's desk with the one it started from.
    public mutating func expireDueLeases(now: Instant) -> Outcome {
        if let due = leaseDeadlines.peek()?.due, due <= now { expireLeases(now: now) }
        return finish(reply: nil)
    }

    private mutating func expire(_ order: inout Order, _ lease: Lease, reason: String, now: Instant) {
        order.claim = .unclaimed
        record("lease-expired", "\(lease.holder) token \(lease.token): \(reason)", by: "desk", on: &order, now: now)
        save(order, now: now)
        notify([lease.holder] + order.watchers.sorted(), except: nil,
               .leaseExpired(order: order.number, holder: lease.holder, token: lease.token, reason: reason), now: now)
        flow.leasesExpired[reason, default: 0] &+= 1
    }

    /// When the desk must next look at `lease`: its warning, its end or its grace end.
    func nextDue(of lease: Lease) -> Instant {
        lease.isWarned ? lease.deadline : min(lease.deadline, lease.expires - settings.warningLead)
    }

    /// Keeps the deadline heap current for `order` after it was saved (see `save`).
    mutating func scheduleLease(of order: Order) {
        guard let lease = order.lease else { return }
        leaseDeadlines.push(LeaseDeadline(due: nextDue(of: lease), order: order.number, token: lease.token))
        // Renewals leave stale entries behind; rebuild once they outnumber the live claims.
        if leaseDeadlines.count > 2 * index.claimedCount + 1024 {
            var fresh = MinHeap<LeaseDeadline>()
            for number in index.claimedOrders {
                guard let lease = orders[number]?.lease else { continue }
                fresh.push(LeaseDeadline(due: nextDue(of: lease), order: number, token: lease.token))
            }
            leaseDeadlines = fresh
        }
    }

    /// Drops the deadline entries at the top of both heaps that would do nothing when they come
    /// due (a renewed lease's old entry, a step already fired): housekeeping that changes nothing
    /// a command or tick does, so a cluster node runs it without a write turn, and asks for a
    /// turn only when a deadline will really act.
    public mutating func dropStaleDeadlines() {
        while let top = leaseDeadlines.peek(), !isCurrent(top) { _ = leaseDeadlines.pop() }
        while let top = escalations.peek(), !isCurrent(top) { _ = escalations.pop() }
    }

    /// True while `deadline` is its lease's current one (the test `expireLeases` applies).
    func isCurrent(_ deadline: LeaseDeadline) -> Bool {
        guard case .claimed(let lease)? = orders[deadline.order]?.claim, lease.token == deadline.token else { return false }
        return nextDue(of: lease) == deadline.due
    }

    /// True while `deadline` is its episode's next step (the test `escalate` applies).
    func isCurrent(_ deadline: EscalationDeadline) -> Bool {
        guard let order = orders[deadline.order], let episode = order.episodes.first(where: { $0.queue == deadline.queue }),
              let step = episode.nextStep(thresholds(for: deadline.queue)) else { return false }
        return step.due == deadline.due
    }

    /// The earliest lease deadline (possibly a stale entry): a command run before it ends no lease.
    public var nextLeaseDue: Instant? { leaseDeadlines.peek()?.due }

    /// The earliest instant at which `tick` may have something to do (possibly a stale entry,
    /// which costs one early wake-up).
    public func nextDeadline() -> Instant? {
        let lease = leaseDeadlines.peek()?.due
        let escalation = escalations.peek()?.due
        switch (lease, escalation) {
        case let (lease?, escalation?): return min(lease, escalation)
        case let (lease?, nil): return lease
        case let (nil, escalation?): return escalation
        case (nil, nil): return nil
        }
    }

    /// A session of `user` logged in. The first one ends the grace window of their claims and
    /// takes the direct messages that waited for them (returned as `backlog`, for that session).
    public mutating func sessionOpened(user: String, now: Instant) -> (outcome: Outcome, backlog: [String]) {
        // A login must not revive a lease that already ran out (nor end the grace of one).
        expireLeases(now: now)
        online[user, default: 0] += 1
        var backlog: [String] = []
        if online[user] == 1 {
            backlog = takeUndeliveredMessages(of: user).map(\.line)
            for order in index.claims(of: user, orders: orders) {
                guard case .claimed(var lease) = order.claim, lease.graceEnds != nil else { continue }
                var order = order
                lease.graceEnds = nil
                order.claim = .claimed(lease)
                save(order, now: now)
            }
        }
        return (finish(reply: nil), backlog)
    }

    /// A logged-in session of `user` closed. When it was the last, their claims enter the grace window.
    public mutating func sessionClosed(user: String, now: Instant) -> Outcome {
        expireLeases(now: now)
        guard let count = online[user] else { return finish(reply: nil) }
        online[user] = count > 1 ? count - 1 : nil
        if count == 1 {
            for order in index.claims(of: user, orders: orders) {
                guard case .claimed(var lease) = order.claim else { continue }
                var order = order
                lease.graceEnds = now + settings.graceWindow
                order.claim = .claimed(lease)
                save(order, now: now)
            }
        }
        return finish(reply: nil)
    }
}
