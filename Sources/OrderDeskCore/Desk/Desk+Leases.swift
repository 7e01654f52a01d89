/// Time and presence: lease warnings and expiry, and the grace window after a disconnect.
extension Desk {
    /// Warns holders whose leases are about to run out and returns expired claims to their queues.
    /// The server calls this on a timer; tests call it with an injected clock.
    public mutating func tick(now: Instant) -> Outcome {
        for number in index.claimedOrders.sorted() {
            guard var order = orders[number], case .claimed(var lease) = order.claim else { continue }
            if let graceEnds = lease.graceEnds, graceEnds <= now {
                expire(&order, lease, reason: "disconnected", now: now)
            } else if lease.expires <= now {
                expire(&order, lease, reason: "timeout", now: now)
            } else if !lease.isWarned, lease.expires - settings.warningLead <= now {
                lease.isWarned = true
                order.claim = .claimed(lease)
                save(order, now: now)
                notify([lease.holder], except: nil, .leaseWarning(order: number, until: lease.expires, token: lease.token), now: now)
            }
        }
        escalate(now: now)
        return finish(reply: nil)
    }

    private mutating func expire(_ order: inout Order, _ lease: Lease, reason: String, now: Instant) {
        order.claim = .unclaimed
        record("lease-expired", "\(lease.holder) token \(lease.token): \(reason)", by: "desk", on: &order, now: now)
        save(order, now: now)
        notify([lease.holder] + order.watchers.sorted(), except: nil,
               .leaseExpired(order: order.number, token: lease.token, reason: reason), now: now)
    }

    /// The earliest instant at which `tick` has something to do, if any claim is open.
    public func nextDeadline() -> Instant? {
        var earliest: Instant?
        for number in index.claimedOrders {
            guard let lease = orders[number]?.lease else { continue }
            var due = lease.deadline
            if !lease.isWarned { due = min(due, lease.expires - settings.warningLead) }
            earliest = earliest.map { min($0, due) } ?? due
        }
        if let due = escalations.peek()?.due { earliest = earliest.map { min($0, due) } ?? due }
        return earliest
    }

    /// A session of `user` logged in. The first one ends the grace window of their claims and
    /// takes the direct messages that waited for them (returned as `backlog`, for that session).
    public mutating func sessionOpened(user: String, now: Instant) -> (outcome: Outcome, backlog: [String]) {
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
