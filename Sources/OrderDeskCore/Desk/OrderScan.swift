/// A look-up that reads every order (FIND, STUCK, METRICS, a long QUEUE), done a slice at a time.
///
/// One such command on a desk of a million orders would hold the desk queue for tens of
/// milliseconds; as a scan it reads `slice` orders per turn and the server lets every other
/// session run between turns, so a client pipelining the heaviest look-ups slows only itself.
/// A scan reads orders as they are at its turn (look-ups take no locks); orders captured after it
/// started may or may not be seen.
public struct OrderScan: Sendable {
    enum Work: Sendable {
        case find(OrderQuery, TopOrders)
        case queue(QueueName, TopOrders)
        case stuck(StuckFilter, [StuckRow])
        case metrics(window: Milliseconds, MetricsTally)
    }

    var work: Work
    /// The next position in `Desk.orders`.
    var position = 0
    /// The command it answers, for the server (METRICS gets the server's own counters appended).
    public let command: Command
}

/// STUCK's filters.
public struct StuckFilter: Sendable, Equatable {
    public var rep: String?
    public var queue: QueueName?
    public var holder: String?
    public var limit: Int

    public init(rep: String? = nil, queue: QueueName? = nil, holder: String? = nil, limit: Int = 100) {
        self.rep = rep
        self.queue = queue
        self.holder = holder
        self.limit = limit
    }
}

/// The first `limit` orders in queue order among those offered, in O(n log limit).
struct TopOrders: Sendable {
    let limit: Int
    private(set) var count = 0
    private var kept: [Candidate] = []

    init(limit: Int) { self.limit = limit }

    mutating func offer(_ order: Order) {
        count += 1
        kept.append(Candidate(order: order))
        if kept.count >= 2 * limit + 64 { trim() }
    }

    private mutating func trim() {
        kept.sort { $0.precedes($1) }
        kept.removeSubrange(min(limit, kept.count)...)
    }

    mutating func numbers() -> [String] {
        trim()
        return kept.map(\.number)
    }
}

/// METRICS' running sums over the orders read so far.
struct MetricsTally: Sendable {
    var oldest: [QueueName: Instant] = [:]
    /// Orders stuck in each queue.
    var stuck: [QueueName: Int] = [:]
    var cycles: [Int64] = []
    var cleanShipments = 0
    var resolutions: [HoldType: [Int64]] = [:]
    var openHolds: [HoldType: Int] = [:]
    var releasedBy: [String: Int] = [:]
}

extension Desk {
    /// Orders read per turn of a scan: about half a millisecond's work on these machines.
    public static let scanSlice = 4096

    /// The scan that answers `command` for `userName`, a failure when the user may not run it,
    /// or nil when `command` is not a scanning look-up.
    public func startScan(_ command: Command, as userName: String) -> Result<OrderScan, DeskError>? {
        let work: OrderScan.Work
        switch command {
        case .find(let query): work = .find(query, TopOrders(limit: query.limit))
        case .queue(let queue, let limit) where queue != .mine && (index.members[queue]?.count ?? 0) > Self.scanSlice:
            work = .queue(queue, TopOrders(limit: limit))
        case .stuck(let filter): work = .stuck(filter, [])
        case .metrics(let window): work = .metrics(window: window, MetricsTally())
        default: return nil
        }
        guard let user = users[userName] else { return .failure(.notLoggedIn) }
        guard command.spec.allows(user.role) else { return .failure(.denied(command: command.name, role: user.role)) }
        return .success(OrderScan(work: work, command: command))
    }

    /// Reads the next `slice` orders into `scan`; returns the reply once every order was read.
    public func continueScan(_ scan: inout OrderScan, slice: Int = Desk.scanSlice, now: Instant) -> Reply? {
        let end = min(orders.count, scan.position + max(1, slice))
        let range = scan.position..<end
        scan.position = end
        switch scan.work {
        case .find(let query, var top):
            let matcher = OrderMatcher(query)
            for position in range where matcher.matches(orders.values[position]) { top.offer(orders.values[position]) }
            guard end == orders.count else { scan.work = .find(query, top); return nil }
            let shown = top.numbers().compactMap { orders[$0] }
            return .answer(.orders(OrderPage(source: .search, count: top.count, orders: shown, now: now)))
        case .queue(let queue, var top):
            for position in range {
                let order = orders.values[position]
                if index.isMember(order.number, of: queue) { top.offer(order) }
            }
            guard end == orders.count else { scan.work = .queue(queue, top); return nil }
            let shown = top.numbers().compactMap { orders[$0] }
            return .answer(.orders(OrderPage(source: .queue(queue), count: index.members[queue]?.count ?? 0, orders: shown, now: now)))
        case .stuck(let filter, var rows):
            for position in range { rows += stuckRows(of: orders.values[position], filter, now: now) }
            guard end == orders.count else { scan.work = .stuck(filter, rows); return nil }
            rows.sort { ($0.since, $0.order, $0.queue.wireName) < ($1.since, $1.order, $1.queue.wireName) }
            return .answer(.stuck(total: rows.count, rows: Array(rows.prefix(filter.limit))))
        case .metrics(let window, var tally):
            let start = now - window
            for position in range { tally.add(orders.values[position], since: start) }
            guard end == orders.count else { scan.work = .metrics(window: window, tally); return nil }
            return metricsReply(tally, window: window, now: now)
        }
    }

    /// Runs a scan to its end in one go (for `execute`: tests, imports, the fuzzer).
    func scanToEnd(_ command: Command, as user: User, now: Instant) throws(DeskError) -> Reply {
        guard let started = startScan(command, as: user.name) else { return .failure(.badLine("not a look-up")) }
        var scan: OrderScan
        switch started {
        case .success(let value): scan = value
        case .failure(let error): throw error
        }
        while true {
            if let reply = continueScan(&scan, slice: Int.max / 2, now: now) { return reply }
        }
    }
}

/// FIND's filters, compiled once per scan: case-insensitive ASCII matching without allocation.
struct OrderMatcher {
    let query: OrderQuery
    let text: [UInt8]?
    let customer: [UInt8]?
    let purchaseOrder: [UInt8]?

    init(_ query: OrderQuery) {
        self.query = query
        text = query.text.map { Self.folded($0) }
        customer = query.customer.map { Self.folded($0) }
        purchaseOrder = query.purchaseOrder.map { Self.folded($0) }
    }

    func matches(_ order: Order) -> Bool {
        if let text, !(Self.contains(order.number, text) || Self.contains(order.customer, text) || Self.contains(order.purchaseOrder, text)) {
            return false
        }
        if let customer, !Self.contains(order.customer, customer) { return false }
        if let purchaseOrder, !Self.contains(order.purchaseOrder, purchaseOrder) { return false }
        if let rep = query.rep, order.rep != rep { return false }
        if let stage = query.stage, order.stage != stage { return false }
        if let hold = query.hold, order.openHold(ofType: hold) == nil { return false }
        if let holder = query.holder, order.lease?.holder != holder { return false }
        return true
    }

    static func folded(_ text: String) -> [UInt8] { text.utf8.map(fold) }

    @inline(__always) static func fold(_ byte: UInt8) -> UInt8 { byte >= 65 && byte <= 90 ? byte | 0x20 : byte }

    /// True when `needle` (already folded) occurs in `haystack`, ignoring ASCII case.
    static func contains(_ haystack: String, _ needle: [UInt8]) -> Bool {
        if needle.isEmpty { return true }
        var haystack = haystack
        return haystack.withUTF8 { bytes in
            guard bytes.count >= needle.count else { return false }
            let first = needle[0]
            var start = 0
            while start <= bytes.count - needle.count {
                if fold(bytes[start]) == first {
                    var offset = 1
                    while offset < needle.count, fold(bytes[start + offset]) == needle[offset] { offset += 1 }
                    if offset == needle.count { return true }
                }
                start += 1
            }
            return false
        }
    }
}
