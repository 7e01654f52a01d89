/// What can change on an order once it is captured: its stage, claim, watchers, queue stays and
/// release. (Its number, customer, rep, PO, lines, priority and ship date never change.) The store
/// gets this, not the whole order, for every change after capture (`StoreChange.orderState`).
public struct OrderState: Sendable, Equatable {
    public var stage: Stage
    public var stageChangedAt: Instant
    public var claim: ClaimState
    public var watchers: Set<String>
    public var episodes: [EscalationEpisode]
    public var releasedBy: String?
    public var releasedAt: Instant?
}

extension Order {
    public var state: OrderState {
        OrderState(stage: stage, stageChangedAt: stageChangedAt, claim: claim, watchers: watchers, episodes: episodes,
                   releasedBy: release?.by, releasedAt: release?.at)
    }

    /// Takes `state` over (the store applying a `StoreChange.orderState`).
    public mutating func apply(_ state: OrderState) {
        stage = state.stage
        stageChangedAt = state.stageChangedAt
        claim = state.claim
        watchers = state.watchers
        episodes = state.episodes
        if let by = state.releasedBy, let at = state.releasedAt { release = (by, at) } else { release = nil }
    }

    /// Puts `hold` in its place (ids count from 1), or appends it as the next one.
    public mutating func put(_ hold: Hold) {
        if hold.id >= 1, hold.id <= holds.count { holds[hold.id - 1] = hold } else { holds.append(hold) }
    }

    /// True when `other` differs from this order only in its state, holds and thread: what a
    /// change after capture may touch.
    func hasSameContent(as other: Order) -> Bool {
        number == other.number && customer == other.customer && rep == other.rep && purchaseOrder == other.purchaseOrder
            && currency == other.currency && lines == other.lines && priority == other.priority
            && requestedShipDate == other.requestedShipDate && capturedAt == other.capturedAt && sequence == other.sequence
    }
}
