/// One event as kept for one user: what RESUME replays and INBOX lists.
public struct MailboxEntry: Sendable, Equatable {
    public var id: UInt64
    public var at: Instant
    public var kind: String
    /// The full `EVENT ...` line, as it was pushed.
    public var line: String
    /// Addressed to this user by name (mention, ping, message...): counts as unread until read.
    public var isPersonal: Bool
    public var isRead: Bool
    /// Direct messages only: true once pushed to a live session; undelivered ones are pushed at login.
    public var isDelivered: Bool
    /// The order the event is about (its `order=`), so reading an order reads its events.
    public var order: String? { Mailbox.orderNumber(inEventLine: line) }

    public init(id: UInt64, at: Instant, kind: String, line: String, isPersonal: Bool, isRead: Bool, isDelivered: Bool) {
        self.id = id
        self.at = at
        self.kind = kind
        self.line = line
        self.isPersonal = isPersonal
        self.isRead = isRead
        self.isDelivered = isDelivered
    }
}

/// A user's recent events, oldest first; bounded by `Mailbox.capacity` and the retention window.
public struct Mailbox: Sendable, Equatable {
    /// Events kept per user, in memory and for RESUME.
    public static let capacity = 2000
    public private(set) var entries: [MailboxEntry] = []
    /// The newest event id dropped from this mailbox; RESUME from before it cannot be complete.
    public private(set) var droppedThrough: UInt64 = 0

    public init(entries: [MailboxEntry] = [], droppedThrough: UInt64 = 0) {
        self.entries = entries.sorted { $0.id < $1.id }
        self.droppedThrough = droppedThrough
        trim()
    }

    mutating func append(_ entry: MailboxEntry) {
        entries.append(entry)
        trim()
    }

    mutating func update(id: UInt64, _ change: (inout MailboxEntry) -> Void) -> MailboxEntry? {
        guard let index = entries.lastIndex(where: { $0.id == id }) else { return nil }
        change(&entries[index])
        return entries[index]
    }

    /// Drops the oldest entries once the mailbox is a little over capacity, so an append costs
    /// amortized O(1) rather than a shift of the whole array each time.
    private mutating func trim() {
        guard entries.count > Self.capacity + Self.capacity / 8 else { return }
        let excess = entries.count - Self.capacity
        droppedThrough = max(droppedThrough, entries[excess - 1].id)
        entries.removeFirst(excess)
    }

    /// The `order=` of an `EVENT <id> <kind> order=<number> ...` line: an order's event names it
    /// first, as a bare word (order numbers never need quoting).
    static func orderNumber(inEventLine line: String) -> String? {
        let words = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false)
        guard words.count >= 4, words[3].hasPrefix("order=") else { return nil }
        let value = words[3].dropFirst("order=".count).prefix { $0 != " " }
        return value.isEmpty ? nil : String(value)
    }

    public var unreadCount: Int { entries.reduce(0) { $0 + ($1.isPersonal && !$1.isRead ? 1 : 0) } }
}
