/// The desk's queue views and claim index, kept current as orders change.
///
/// NEXT must find the most urgent unclaimed order without scanning: each work queue keeps a
/// binary min-heap of candidates with lazy deletion. Whenever an order becomes claimable in a
/// queue it is pushed; a popped entry is checked against the order's current state and dropped
/// if stale. The heap is rebuilt when stale entries outnumber live members.
struct QueueIndex: Sendable {
    /// Members of each shared queue, by order number.
    private(set) var members: [QueueName: Set<String>] = [:]
    /// The queues each open order is in, as last indexed.
    private var membership: [String: [QueueName]] = [:]
    private var candidates: [QueueName: MinHeap<Candidate>] = [:]
    /// Orders each user holds.
    private(set) var claimsByHolder: [String: Set<String>] = [:]
    private var holderOf: [String: String] = [:]

    /// Re-indexes `order` after any change to it. With `orders` (the table as it is now), a
    /// queue whose heap has come to hold mostly stale entries is rebuilt here too, not only when
    /// someone asks it for NEXT: orders that leave `released` by shipping would otherwise leave
    /// an entry each behind for as long as the server runs.
    mutating func update(_ order: Order, orders: OrderTable? = nil) {
        let queues = QueueName.queues(of: order)
        let before = membership[order.number] ?? []
        for queue in before where !queues.contains(queue) {
            members[queue]?.remove(order.number)
        }
        for queue in queues where !before.contains(queue) {
            members[queue, default: []].insert(order.number)
        }
        membership[order.number] = queues.isEmpty ? nil : queues

        let holder = order.lease?.holder
        let previousHolder = holderOf[order.number]
        if previousHolder != holder {
            if let previousHolder {
                claimsByHolder[previousHolder]?.remove(order.number)
                if claimsByHolder[previousHolder]?.isEmpty == true { claimsByHolder[previousHolder] = nil }
            }
            if let holder { claimsByHolder[holder, default: []].insert(order.number) }
            holderOf[order.number] = holder
        }
        // Push a candidate whenever the order is claimable in a queue it was not claimable in before.
        if holder == nil, previousHolder != nil || queues != before {
            for queue in queues where previousHolder != nil || !before.contains(queue) {
                candidates[queue, default: MinHeap<Candidate>()].push(Candidate(order: order))
                if let orders { compactIfStale(queue, orders: orders) }
            }
        }
    }

    /// Rebuilds `queue`'s heap from its members once stale entries outnumber them (amortized:
    /// the heap must grow by as many entries again before the next rebuild).
    private mutating func compactIfStale(_ queue: QueueName, orders: OrderTable) {
        guard let count = candidates[queue]?.count, count > 2 * (members[queue]?.count ?? 0) + 64 else { return }
        var heap = MinHeap<Candidate>()
        for number in members[queue] ?? [] {
            if let order = orders[number], order.lease == nil { heap.push(Candidate(order: order)) }
        }
        candidates[queue] = heap
    }

    /// Entries in `queue`'s heap, stale ones included (for tests).
    func candidateCount(in queue: QueueName) -> Int { candidates[queue]?.count ?? 0 }

    /// The most urgent unclaimed order in `queue`, if any; does not claim it.
    mutating func nextCandidate(in queue: QueueName, orders: OrderTable) -> String? {
        compactIfStale(queue, orders: orders)
        guard var heap = candidates[queue] else { return nil }
        candidates[queue] = nil  // keep the heap uniquely referenced while mutating it
        defer { candidates[queue] = heap }
        while let top = heap.peek() {
            if let order = orders[top.number], order.lease == nil, membership[top.number]?.contains(queue) == true {
                return top.number
            }
            _ = heap.pop()
        }
        return nil
    }

    /// True when `number` is in `queue` as last indexed.
    func isMember(_ number: String, of queue: QueueName) -> Bool { membership[number]?.contains(queue) == true }

    /// Members of `queue` in queue order (priority, then age), at most `limit`.
    func listing(_ queue: QueueName, orders: OrderTable, limit: Int) -> [Order] {
        var top = TopOrders(limit: limit)
        for number in members[queue] ?? [] { if let order = orders[number] { top.offer(order) } }
        return top.numbers().compactMap { orders[$0] }
    }

    /// Orders held by `user`, in queue order.
    func claims(of user: String, orders: OrderTable) -> [Order] {
        (claimsByHolder[user] ?? []).compactMap { orders[$0] }.sorted(by: Self.queueOrder)
    }

    /// Every claimed order's number.
    var claimedOrders: Dictionary<String, String>.Keys { holderOf.keys }
    var claimedCount: Int { holderOf.count }

    /// Priority first, then the oldest capture (capture order breaks ties).
    static func queueOrder(_ lhs: Order, _ rhs: Order) -> Bool {
        if lhs.priority != rhs.priority { return lhs.priority < rhs.priority }
        if lhs.capturedAt != rhs.capturedAt { return lhs.capturedAt < rhs.capturedAt }
        if lhs.sequence != rhs.sequence { return lhs.sequence < rhs.sequence }
        return lhs.number < rhs.number  // a total order, whatever a damaged or migrated store holds
    }
}

/// A queue candidate, ordered by priority, then capture time and sequence.
struct Candidate: HeapOrdered, Sendable {
    var rank: Int
    var capturedAt: Int64
    var sequence: Int64
    var number: String

    init(order: Order) {
        rank = order.priority.rank
        capturedAt = order.capturedAt.milliseconds
        sequence = order.sequence
        number = order.number
    }

    func precedes(_ other: Candidate) -> Bool {
        if rank != other.rank { return rank < other.rank }
        if capturedAt != other.capturedAt { return capturedAt < other.capturedAt }
        if sequence != other.sequence { return sequence < other.sequence }
        return number < other.number
    }
}
