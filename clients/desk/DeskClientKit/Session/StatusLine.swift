import Foundation

/// What the status line at the bottom of the screen shows: the connection, the user's claims
/// with their lease ends counting down, and the unread count.
///
/// It learns from replies and pushes as they are shown (a client-side view, for the eye; the
/// server stays the authority: `WHOAMI` and `INBOX` set it right whenever they are run). A
/// lease end the server did not state (a `NOTE` renews the lease; a `reassigned` push has no
/// end) is estimated as now plus the `lease` of the greeting. Pure: time comes in as `now`.
public struct StatusLine: Sendable, Equatable {
    /// The connection as the status line names it.
    public enum Connection: Sendable, Equatable {
        case online
        case offline
    }

    public var user: String?
    public var connection = Connection.offline
    /// The order commands apply to when their number is left out (`CurrentOrder`).
    public var currentOrder: String?
    /// Orders the user holds and when each lease ends.
    public private(set) var claims: [String: Date] = [:]
    /// Unread personal events, when known.
    public var unread: Int? {
        didSet { if unread == 0 { unreadByOrder = [:] } }
    }
    /// Unread personal events per order, as far as the client knows: from `unread-orders=` of
    /// LOGIN and INBOX, plus personal pushes since; reading an order (ORDER, READ) clears it.
    public private(set) var unreadByOrder: [String: Int] = [:]
    /// The lease length from the greeting, for lease ends the server did not state.
    public var leaseSeconds: Double = 900

    public init(user: String? = nil) { self.user = user }

    /// After login: the claims listed with the LOGIN reply and its unread count.
    public mutating func loggedIn(user: String?, claimLines: [String], unread: Int?, unreadOrders: [(order: String, count: Int)] = []) {
        self.user = user
        connection = .online
        setClaims(fromSummaryLines: claimLines)
        self.unread = unread
        setUnreadByOrder(unreadOrders)
    }

    /// `SO-1:2,SO-7:1` as pairs; malformed items are skipped (the field is the server's, but read
    /// it as hostile all the same).
    public static func unreadOrders(fromField field: String?) -> [(order: String, count: Int)] {
        guard let field, !field.isEmpty else { return [] }
        return field.split(separator: ",").compactMap { item in
            guard let colon = item.lastIndex(of: ":"), let count = Int(item[item.index(after: colon)...]), count > 0 else { return nil }
            let order = String(item[..<colon])
            return order.isEmpty ? nil : (order, count)
        }
    }

    private mutating func setUnreadByOrder(_ pairs: [(order: String, count: Int)]) {
        unreadByOrder = [:]
        for (order, count) in pairs { unreadByOrder[order] = count }
    }

    /// Learns from a reply shown to the user.
    public mutating func learn(_ reply: ServerReply, now: Date) {
        guard case .ok(let summary) = reply.outcome else {
            // Someone else holds it, or nobody: it is not ours (any more).
            if reply.errorCode == "not-holder" || reply.errorCode == "claimed",
               case .failure(_, let message) = reply.outcome, let order = Record(message)["order"] {
                claims[order] = nil
            }
            return
        }
        let fields = Record(summary)
        if let count = fields["unread"].flatMap(Int.init) { unread = count }
        if reply.commandName == "INBOX" { setUnreadByOrder(Self.unreadOrders(fromField: fields["unread-orders"])) }
        guard let order = fields["order"] else {
            if reply.commandName == "WHOAMI" { setClaims(fromSummaryLines: reply.data) }
            return
        }
        switch reply.commandName {
        case "ORDER", "READ":
            // Reading an order's card, or READ <number>, reads its events.
            unreadByOrder[order] = nil
        case "NEXT", "CLAIM", "TOUCH":
            claims[order] = fields["until"].flatMap(Timestamps.date) ?? now.addingTimeInterval(leaseSeconds)
        case "HOLD", "UNHOLD":
            if claims[order] != nil, let until = fields["until"].flatMap(Timestamps.date) { claims[order] = until }
        case "NOTE":
            if claims[order] != nil { claims[order] = now.addingTimeInterval(leaseSeconds) }
        case "HANDBACK", "RELEASE", "MOVE":
            claims[order] = nil
        case "REASSIGN":
            if fields["to"] == user {
                claims[order] = fields["until"].flatMap(Timestamps.date) ?? now.addingTimeInterval(leaseSeconds)
            } else if fields["from"] == user {
                claims[order] = nil
            }
        default: break
        }
    }

    /// Learns from a push; `isReplayed` pushes were counted in the unread number already.
    public mutating func learn(_ event: ServerEvent, isReplayed: Bool, now: Date) {
        if !isReplayed, event.isPersonal(for: user) {
            unread = (unread ?? 0) + 1
            if let order = event.order { unreadByOrder[order, default: 0] += 1 }
        }
        guard let order = event.order else { return }
        switch event.kind {
        case "lease-warning":
            if let until = event.fields["until"].flatMap(Timestamps.date) { claims[order] = until }
        case "lease-expired":
            // One claim per order: if it was ours, it is over (an older server named no holder).
            if event.fields["holder"].map({ $0 == user }) ?? true { claims[order] = nil }
        case "stage":
            // One claim per order: if it was ours, it is over.
            claims[order] = nil
        case "reassigned":
            if event.fields["to"] == user {
                claims[order] = (event.date ?? now).addingTimeInterval(leaseSeconds)
            } else if event.fields["from"] == user {
                claims[order] = nil
            }
        default: break
        }
    }

    private mutating func setClaims(fromSummaryLines lines: [String]) {
        claims = [:]
        for line in lines {
            let record = Record(line)
            guard let order = record.words.first, record["holder"] == nil || record["holder"] == user,
                  let until = record["until"].flatMap(Timestamps.date) else { continue }
            claims[order] = until
        }
    }

    /// Time left as people read it at a glance: `14m`, then seconds in the last two minutes
    /// (`90s`, `0s`), when it matters.
    static func remaining(until: Date, now: Date) -> String {
        let seconds = max(0, Int(until.timeIntervalSince(now).rounded(.up)))
        return seconds >= 120 ? "\(seconds / 60)m" : "\(seconds)s"
    }

    /// The line, at most `width` columns:
    /// `● online · current SO-10266 · 2 claims: SO-10266 14m, SO-10066 1m · 3 unread`.
    /// Claims running out soonest come first; one with under two minutes left is marked.
    public func text(now: Date, width: Int, style: Style) -> String {
        var parts: [(plain: String, paint: (String) -> String)] = []
        switch connection {
        case .online: parts.append(("● online", { style.green($0) }))
        case .offline: parts.append(("○ offline, reconnecting", { style.yellow($0) }))
        }
        if let currentOrder { parts.append(("current " + currentOrder, { style.bold($0) })) }
        let ordered = claims.sorted { ($0.value, $0.key) < ($1.value, $1.key) }
        if ordered.isEmpty {
            parts.append(("no claims", { style.dim($0) }))
        } else {
            let list = ordered.map { order, until in
                order + " " + Self.remaining(until: until, now: now) + (until.timeIntervalSince(now) < 120 ? "!" : "")
            }
            let isUrgent = ordered.contains { $0.value.timeIntervalSince(now) < 120 }
            let paint: (String) -> String = { isUrgent ? style.yellow($0) : $0 }
            parts.append(("\(ordered.count) claim\(ordered.count == 1 ? "" : "s"): " + list.joined(separator: ", "), paint))
        }
        if let unread {
            let paint: (String) -> String = { unread > 0 ? style.bold($0) : style.dim($0) }
            parts.append(("\(unread) unread", paint))
            // The orders with most unread, while they fit: `3 unread: SO-10089 2, SO-10060 1`.
            let byOrder = unreadByOrder.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(3)
            if unread > 0, !byOrder.isEmpty {
                let withOrders = "\(unread) unread: " + byOrder.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
                var wider = parts
                wider[wider.count - 1].plain = withOrders
                if DisplayWidth.of(wider.map(\.plain).joined(separator: " · ")) <= width { parts = wider }
            }
        }
        let plain = parts.map(\.plain).joined(separator: " · ")
        guard DisplayWidth.of(plain) <= width else { return style.dim(DisplayWidth.truncated(plain, to: width)) }
        return parts.map { $0.paint($0.plain) }.joined(separator: style.dim(" · "))
    }
}
