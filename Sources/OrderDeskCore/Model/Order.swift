/// An order and everything the desk knows about it: lines, stage, holds, claim, watchers,
/// thread and history.
public struct Order: Sendable {
    /// The order number, e.g. `SO-10042`; unique across the desk.
    public let number: String
    public var customer: String
    /// User name of the sales rep who owns the customer; watches the order automatically.
    public var rep: String
    public var purchaseOrder: String
    public var currency: String
    public var lines: [OrderLine]
    /// Requested ship date, `YYYY-MM-DD`, if the customer gave one.
    public var requestedShipDate: String?
    /// Every hold the order ever had, in the order they were placed; open ones have no release.
    public var holds: [Hold]
    public var claim: ClaimState
    public var watchers: Set<String>
    /// The order's thread.
    public var notes: [Note]
    public var history: [HistoryEntry]
    /// The order's current stay in each queue it is in, with its escalation level.
    public var episodes: [EscalationEpisode] = []
    /// Who released the order to fulfilment, and when (for throughput metrics).
    public var release: (by: String, at: Instant)?
    public let capturedAt: Instant
    public var stageChangedAt: Instant
    /// Position in capture order, to break ties between orders captured in the same millisecond.
    public let sequence: Int64
    // The one-byte fields last, together: a million orders are restored at start, and each
    // one-byte field between wider ones would cost 7 bytes of padding per order.
    public var priority: Priority
    public var stage: Stage
    /// True when the store left this finished order's notes and history on disk at start:
    /// `notes` and `history` then hold only what was added since, and look-ups that show them
    /// read the full thread from the store.
    public var isArchived = false

    public init(draft: OrderDraft, capturedAt: Instant, sequence: Int64) {
        number = draft.number
        customer = draft.customer
        rep = draft.rep
        purchaseOrder = draft.purchaseOrder
        currency = draft.currency
        lines = draft.lines
        priority = draft.priority
        requestedShipDate = draft.requestedShipDate
        stage = .captured
        holds = []
        claim = .unclaimed
        watchers = [draft.rep]
        notes = []
        history = []
        self.capturedAt = capturedAt
        stageChangedAt = capturedAt
        self.sequence = sequence
    }

    /// Builds an order as the store kept it.
    public init(number: String, customer: String, rep: String, purchaseOrder: String, currency: String,
                lines: [OrderLine], priority: Priority, requestedShipDate: String?, stage: Stage, holds: [Hold],
                claim: ClaimState, watchers: Set<String>, notes: [Note], history: [HistoryEntry],
                episodes: [EscalationEpisode] = [], release: (by: String, at: Instant)? = nil, isArchived: Bool = false,
                capturedAt: Instant, stageChangedAt: Instant, sequence: Int64) {
        self.episodes = episodes
        self.release = release
        self.isArchived = isArchived
        self.number = number
        self.customer = customer
        self.rep = rep
        self.purchaseOrder = purchaseOrder
        self.currency = currency
        self.lines = lines
        self.priority = priority
        self.requestedShipDate = requestedShipDate
        self.stage = stage
        self.holds = holds
        self.claim = claim
        self.watchers = watchers
        self.notes = notes
        self.history = history
        self.capturedAt = capturedAt
        self.stageChangedAt = stageChangedAt
        self.sequence = sequence
    }

    /// The sum of the lines. Capture and import refuse orders past `Money.maximum`, so this is
    /// exact for every order the desk holds; a damaged row shows the maximum rather than trap.
    public var total: Money { Money.total(of: lines) ?? Money.maximum }

    /// Holds not yet released.
    public var openHolds: [Hold] { holds.filter(\.isOpen) }

    public func openHold(ofType type: HoldType) -> Hold? { holds.first { $0.isOpen && $0.type == type } }

    /// The highest escalation level of any current episode.
    public var escalationLevel: EscalationLevel { episodes.map(\.level).max() ?? .none }

    /// The lease, if someone holds the order.
    public var lease: Lease? {
        if case .claimed(let lease) = claim { return lease }
        return nil
    }
}

/// One line of an order.
public struct OrderLine: Sendable, Equatable {
    public var sku: String
    public var quantity: Int
    public var unitPrice: Money

    public init(sku: String, quantity: Int, unitPrice: Money) {
        self.sku = sku
        self.quantity = quantity
        self.unitPrice = unitPrice
    }

    /// Quantity times unit price (`Money.maximum` past it: capture refuses such lines).
    public var amount: Money { unitPrice.times(quantity) ?? Money.maximum }
}

/// What an integration sends to capture an order.
public struct OrderDraft: Sendable, Equatable {
    public var number: String
    public var customer: String
    public var rep: String
    public var purchaseOrder: String
    public var currency: String
    public var lines: [OrderLine]
    public var priority: Priority
    public var requestedShipDate: String?

    public init(number: String, customer: String, rep: String, purchaseOrder: String, currency: String,
                lines: [OrderLine], priority: Priority, requestedShipDate: String?) {
        self.number = number
        self.customer = customer
        self.rep = rep
        self.purchaseOrder = purchaseOrder
        self.currency = currency
        self.lines = lines
        self.priority = priority
        self.requestedShipDate = requestedShipDate
    }
}

/// How urgent an order is; queues list the most urgent first.
public enum Priority: String, CaseIterable, Sendable, Comparable {
    case urgent, high, normal, low

    /// Smaller ranks come first in a queue.
    public var rank: Int {
        switch self {
        case .urgent: 0
        case .high: 1
        case .normal: 2
        case .low: 3
        }
    }

    public static func < (lhs: Priority, rhs: Priority) -> Bool { lhs.rank < rhs.rank }
}

/// Where an order is in its life; the legal moves are `Stage.canMove(to:)` and protocol.md's table.
public enum Stage: String, CaseIterable, Sendable {
    case captured, released, shipped, cancelled

    public var isTerminal: Bool { self == .shipped || self == .cancelled }

    /// True when protocol.md's transition table has a row from `self` to `target`.
    public func canMove(to target: Stage) -> Bool {
        switch (self, target) {
        case (.captured, .released), (.captured, .cancelled), (.released, .shipped), (.released, .cancelled): true
        default: false
        }
    }
}

/// A note in an order's thread.
public struct Note: Sendable, Equatable {
    public var author: String
    public var at: Instant
    public var text: String

    public init(author: String, at: Instant, text: String) {
        self.author = author
        self.at = at
        self.text = text
    }

    /// User names mentioned as `@name` in the text, in order of first appearance.
    public var mentions: [String] {
        var names: [String] = []
        var rest = text[...]
        while let at = rest.firstIndex(of: "@") {
            let afterAt = rest.index(after: at)
            let name = rest[afterAt...].prefix { UserName.isValidCharacter($0) }
            let precededByWordCharacter = at > text.startIndex && UserName.isValidCharacter(text[text.index(before: at)])
            if !name.isEmpty, !precededByWordCharacter {
                let trimmed = String(name.reversed().drop { $0 == "." || $0 == "-" }.reversed())
                if !trimmed.isEmpty, !names.contains(trimmed) { names.append(trimmed) }
            }
            rest = rest[afterAt...]
        }
        return names
    }
}

/// One change in an order's life, with who made it and when.
public struct HistoryEntry: Sendable, Equatable {
    public var at: Instant
    /// The user who acted, or `desk` for the server's own moves (lease expiry).
    public var actor: String
    /// Short machine-readable kind: `captured`, `claimed`, `hold`, `stage`, ...
    public var action: String
    /// Human detail, e.g. `pricing: list price changed`.
    public var detail: String

    public init(at: Instant, actor: String, action: String, detail: String) {
        self.at = at
        self.actor = actor
        self.action = action
        self.detail = detail
    }
}

extension Order {
    /// The order as the store's `.order` change carries it: everything but notes and history.
    public var withoutThread: Order {
        var row = self
        row.notes = []
        row.history = []
        return row
    }
}

extension Order: Equatable {
    public static func == (lhs: Order, rhs: Order) -> Bool {
        lhs.number == rhs.number && lhs.customer == rhs.customer && lhs.rep == rhs.rep && lhs.purchaseOrder == rhs.purchaseOrder
            && lhs.currency == rhs.currency && lhs.lines == rhs.lines && lhs.priority == rhs.priority
            && lhs.requestedShipDate == rhs.requestedShipDate && lhs.stage == rhs.stage && lhs.holds == rhs.holds
            && lhs.claim == rhs.claim && lhs.watchers == rhs.watchers && lhs.notes == rhs.notes && lhs.history == rhs.history
            && lhs.episodes == rhs.episodes && lhs.release?.by == rhs.release?.by && lhs.release?.at == rhs.release?.at
            && lhs.isArchived == rhs.isArchived && lhs.capturedAt == rhs.capturedAt && lhs.stageChangedAt == rhs.stageChangedAt
            && lhs.sequence == rhs.sequence
    }
}
