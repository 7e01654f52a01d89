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
        let shown = Array(entries.prefix(limit))
        return .answer(.inbox(InboxPage(entries: shown, unread: unreadCount(of: user.name),
                                        moreBefore: entries.count > shown.count ? shown.last?.id : nil,
                                        unreadByOrder: Array(unreadByOrder(of: user.name).prefix(Self.unreadOrdersShown)))))
    }

    /// READ: marks the given personal events (or all of them) read.
    mutating func markRead(_ ids: [UInt64]?, user: User) -> Reply {
        guard var mailbox = mailboxes[user.name] else { return .answer(.marked(order: nil, marked: 0, unread: 0)) }
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
        return .answer(.marked(order: nil, marked: marked, unread: mailbox.unreadCount))
    }

    /// READ <number>: marks the user's unread events about that order read.
    mutating func markOrderRead(_ number: String, user: User) throws(DeskError) -> Reply {
        _ = try existingOrder(number)
        let marked = markRead(order: number, user: user.name)
        return .answer(.marked(order: number, marked: marked, unread: unreadCount(of: user.name)))
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

    /// Unread personal events per order, most first (then by order number): what INBOX and LOGIN
    /// sum up (at most `unreadOrdersShown` of them).
    public func unreadByOrder(of user: String) -> [OrderCount] {
        var counts: [String: Int] = [:]
        for entry in mailboxes[user]?.entries ?? [] where entry.isPersonal && !entry.isRead {
            if let order = entry.order { counts[order, default: 0] += 1 }
        }
        return counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map { OrderCount(order: $0.key, count: $0.value) }
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
