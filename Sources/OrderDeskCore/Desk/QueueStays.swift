/// Per shared queue: how many of its orders are stuck, and when its longest current stay began,
/// kept current as orders change, so a Prometheus scrape reads them in O(queues), never a scan.
///
/// An order's stays are its `episodes` (one per queue it is in, see `Desk.save`). Stay starts
/// sit in a min-heap per queue with lazy deletion, as the queue index keeps its candidates: an
/// entry whose stay has ended is dropped when it reaches the top, and the heap is rebuilt when
/// stale entries outnumber the queue's members. Part of `Desk`, so confined to the desk queue.
struct QueueStays: Sendable {
    /// Orders with a stay at the `stuck` level or past it, per queue.
    private(set) var stuckCount: [QueueName: Int] = [:]
    private var starts: [QueueName: MinHeap<StayStart>] = [:]

    /// Learns that order `number`'s stays went from `old` to `new` (the desk's copy before and
    /// after a save); `orders` and `members` are the desk's after it.
    mutating func update(_ number: String, from old: [EscalationEpisode], to new: [EscalationEpisode],
                         orders: OrderTable, members: [QueueName: Set<String>]) {
        guard old != new else { return }
        for episode in old where episode.level >= .stuck { stuckCount[episode.queue, default: 0] -= 1 }
        for episode in new where episode.level >= .stuck { stuckCount[episode.queue, default: 0] += 1 }
        for episode in new where !old.contains(where: { $0.queue == episode.queue && $0.since == episode.since }) {
            starts[episode.queue, default: MinHeap<StayStart>()].push(StayStart(since: episode.since, number: number))
        }
        // Only the queues this order left or entered can have a stale top now.
        var touched: [QueueName] = []
        for episode in old + new where !touched.contains(episode.queue) { touched.append(episode.queue) }
        for queue in touched { settle(queue, orders: orders, members: members[queue] ?? []) }
    }

    /// Learns an order read from the store, before the desk serves (nothing can be stale yet).
    mutating func load(_ number: String, _ episodes: [EscalationEpisode]) {
        for episode in episodes {
            if episode.level >= .stuck { stuckCount[episode.queue, default: 0] += 1 }
            starts[episode.queue, default: MinHeap<StayStart>()].push(StayStart(since: episode.since, number: number))
        }
    }

    /// When the longest current stay in `queue` began; nil when the queue is empty.
    func oldest(in queue: QueueName) -> Instant? { starts[queue]?.peek()?.since }

    /// Orders stuck in `queue`.
    func stuck(in queue: QueueName) -> Int { stuckCount[queue] ?? 0 }

    /// Drops ended stays from the top of `queue`'s heap, rebuilding it from `members` when it
    /// holds more stale entries than live ones.
    private mutating func settle(_ queue: QueueName, orders: OrderTable, members: Set<String>) {
        guard var heap = starts[queue] else { return }
        starts[queue] = nil  // keep the heap uniquely referenced while mutating it
        defer { starts[queue] = heap.count == 0 ? nil : heap }
        func isCurrent(_ start: StayStart) -> Bool {
            orders[start.number]?.episodes.contains { $0.queue == queue && $0.since == start.since } ?? false
        }
        if heap.count > 2 * members.count + 64 {
            heap = MinHeap<StayStart>()
            for number in members {
                for episode in orders[number]?.episodes ?? [] where episode.queue == queue {
                    heap.push(StayStart(since: episode.since, number: number))
                }
            }
        }
        while let top = heap.peek(), !isCurrent(top) { _ = heap.pop() }
    }
}

/// When one order's stay in a queue began; earliest first, then by order number.
struct StayStart: HeapOrdered, Sendable {
    var since: Instant
    var number: String

    func precedes(_ other: StayStart) -> Bool {
        since != other.since ? since < other.since : number < other.number
    }
}
