/// Durable notifications: the inbox, read marks, resume after a reconnect, and messages kept
/// for users who were offline.
extension Desk {
    public func unreadCount(of user: String) -> Int { mailboxes[user]?.unreadCount ?? 0 }

    /// Most orders INBOX names in `unread-orders=`.
    static let unreadOrdersShown = 20

    /// INBOX: personal events, newest first, paged with `before`.
    func inbox(for user: User, onlyUnread: Bool, limit: Int, before: UInt64?) -> Reply {
        let entries = (mailboxes[user.name]?.entries ?? []).reversed().filter { entry in
            entry.isPersonal && (!onlyUnread || !entry.isRead) && (before.map { entry.id < $0 } ?? true)
        }
        let shown = entries.prefix(limit)
        let lines = shown.map { entry in
            String(entry.line.dropFirst("EVENT ".count)) + " " + Rendering.join([("read", entry.isRead ? "yes" : "no")])
        }
        var summary = [("unread", String(unreadCount(of: user.name))), ("shown", String(shown.count))]
        if entries.count > shown.count, let last = shown.last { summary.append(("more-before", String(last.id))) }
        summary += unreadOrdersField(of: user.name)
        return .ok(Rendering.join(summary), data: lines)
    }

    /// READ: marks the given personal events (or all of them) read.
    mutating func markRead(_ ids: [UInt64]?, user: User) -> Reply {
        guard var mailbox = mailboxes[user.name] else { return .ok(Rendering.join([("marked", "0"), ("unread", "0")])) }
        var marked = 0
        let targets = ids.map(Set.init) ?? Set(mailbox.entries.filter { $0.isPersonal && !$0.isRead }.map(\.id))
        for id in targets.sorted() {
            let updated = mailbox.update(id: id) { entry in
                if entry.isPersonal && !entry.isRead {
                    entry.isRead = true
                    marked += 1
                }
            }
            if let updated { changes.append(.mailbox(user: user.name, updated)) }
        }
        mailboxes[user.name] = mailbox
        return .ok(Rendering.join([("marked", String(marked)), ("unread", String(mailbox.unreadCount))]))
    }

    /// READ <number>: marks the user's unread events about that order read.
    mutating func markOrderRead(_ number: String, user: User) throws(DeskError) -> Reply {
        _ = try existingOrder(number)
        let marked = markRead(order: number, user: user.name)
        return .ok(Rendering.join([("order", number), ("marked", String(marked)), ("unread", String(unreadCount(of: user.name)))]))
    }

    /// What an ORDER reply says of the events it marked read; nil when none were unread.
    mutating func readMarks(order number: String, user: User) -> ReadMarks? {
        let marked = markRead(order: number, user: user.name)
        return marked == 0 ? nil : ReadMarks(marked: marked, unread: unreadCount(of: user.name))
    }

    /// Marks `user`'s unread personal events about `number` read; returns how many.
    private mutating func markRead(order number: String, user: String) -> Int {
        guard var mailbox = mailboxes[user] else { return 0 }
        let targets = mailbox.entries.filter { $0.isPersonal && !$0.isRead && $0.order == number }.map(\.id)
        guard !targets.isEmpty else { return 0 }
        for id in targets {
            if let updated = mailbox.update(id: id, { $0.isRead = true }) { changes.append(.mailbox(user: user, updated)) }
        }
        mailboxes[user] = mailbox
        return targets.count
    }

    /// `unread-orders=SO-1:2,SO-7:1` (most first, at most `unreadOrdersShown`), or nothing when no
    /// unread event is about an order: for INBOX and LOGIN.
    public func unreadOrdersField(of user: String) -> [(String, String)] {
        let byOrder = unreadByOrder(of: user)
        guard !byOrder.isEmpty else { return [] }
        return [("unread-orders", byOrder.prefix(Self.unreadOrdersShown).map { "\($0.order):\($0.count)" }.joined(separator: ","))]
    }

    /// Unread personal events per order, most first (then by order number): what INBOX sums up.
    func unreadByOrder(of user: String) -> [(order: String, count: Int)] {
        var counts: [String: Int] = [:]
        for entry in mailboxes[user]?.entries ?? [] where entry.isPersonal && !entry.isRead {
            if let order = entry.order { counts[order, default: 0] += 1 }
        }
        return counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// The events RESUME replays: those for `user` after `lastSeen` and before `until` (exclusive),
    /// and whether the mailbox still reaches back that far.
    public func replay(for user: String, after lastSeen: UInt64, before until: UInt64?) -> (lines: [String], isComplete: Bool) {
        let mailbox = mailboxes[user] ?? Mailbox()
        let lines = mailbox.entries.filter { entry in entry.id > lastSeen && (until.map { entry.id < $0 } ?? true) }.map(\.line)
        return (lines, mailbox.droppedThrough <= lastSeen)
    }

    /// Direct messages that reached no session yet: pushed at login, then marked delivered.
    mutating func takeUndeliveredMessages(of user: String) -> [MailboxEntry] {
        guard var mailbox = mailboxes[user] else { return [] }
        var taken: [MailboxEntry] = []
        for entry in mailbox.entries where !entry.isDelivered {
            if let updated = mailbox.update(id: entry.id, { $0.isDelivered = true }) {
                taken.append(updated)
                changes.append(.mailbox(user: user, updated))
            }
        }
        mailboxes[user] = mailbox
        return taken
    }
}
