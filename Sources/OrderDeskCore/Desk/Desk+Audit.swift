/// AUDIT: the administrators' trail. The desk does not keep it in memory; every entry stays in
/// the store for as long as the orders do (or the retention setting says), and the server reads
/// a page of it off the desk queue, then asks the desk to answer with it.
extension Desk {
    /// Why `userName` may not run `command` (unknown user, or a role its row does not allow),
    /// or nil when they may. For the commands the server answers itself.
    public func refusal(of command: SessionCommand, by userName: String) -> DeskError? {
        guard let user = users[userName] else { return .notLoggedIn }
        guard command.spec.allows(user.role) else { return .denied(command: command.name, role: user.role) }
        return nil
    }

    /// Answers AUDIT with the page the store read: newest first, `more-before=` when older
    /// matching entries remain.
    public func answerAudit(_ page: AuditPage) -> Reply {
        .answer(.audit(page))
    }
}

/// Which audit entries AUDIT asks for.
public struct AuditQuery: Sendable, Equatable {
    /// At most this many entries, newest first.
    public var limit: Int
    /// Only entries with a smaller id (paging back).
    public var before: UInt64?
    /// Only actions by this user.
    public var user: String?
    /// Only this action (`reassign`, `threshold`, ...), lower-case.
    public var action: String?

    public init(limit: Int = 50, before: UInt64? = nil, user: String? = nil, action: String? = nil) {
        self.limit = limit
        self.before = before
        self.user = user
        self.action = action
    }
}

/// One audit entry with its id, which only grows (AUDIT's `before=` pages by it).
public struct AuditRecord: Sendable, Equatable {
    public var id: UInt64
    public var entry: AuditEntry

    public init(id: UInt64, entry: AuditEntry) {
        self.id = id
        self.entry = entry
    }
}

/// A page of the audit trail as the store read it.
public struct AuditPage: Sendable, Equatable {
    /// Newest first.
    public var records: [AuditRecord]
    /// Entries matching the query's filters, on every page.
    public var total: Int
    /// True when older matching entries remain before the last record.
    public var hasMore: Bool

    public init(records: [AuditRecord], total: Int, hasMore: Bool) {
        self.records = records
        self.total = total
        self.hasMore = hasMore
    }
}
