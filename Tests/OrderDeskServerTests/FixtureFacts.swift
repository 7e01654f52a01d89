import Foundation
import OrderDeskCore
import TestSupport
@testable import OrderDeskServer

/// The committed data files of earlier versions (Fixtures/README.md), and what they hold.
enum Fixture {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path

    /// Copies `name` into a fresh temporary directory and returns the copy's path: tests never
    /// open the committed file itself.
    static func copy(_ name: String = "v1-demo.sqlite") throws -> String {
        let target = temporaryDirectory() + "/" + name
        try FileManager.default.copyItem(atPath: directory + "/" + name, toPath: target)
        return target
    }

    static func bytes(of path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

    /// `v1-demo.facts.json`, written by facts.py from the fixture with plain SQL.
    static func facts() throws -> Facts {
        try JSONDecoder().decode(Facts.self, from: Data(contentsOf: URL(fileURLWithPath: directory + "/v1-demo.facts.json")))
    }
}

/// One JSON scalar of facts.py's rows (which mix numbers, text and nulls).
enum Scalar: Decodable, Equatable, CustomStringConvertible {
    case integer(Int64)
    case text(String)
    case null

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null } else if let number = try? container.decode(Int64.self) { self = .integer(number) } else {
            self = .text(try container.decode(String.self))
        }
    }

    init(_ number: Int64?) { self = number.map(Scalar.integer) ?? .null }
    init(_ text: String?) { self = text.map(Scalar.text) ?? .null }

    var description: String {
        switch self {
        case .integer(let number): String(number)
        case .text(let text): "\"\(text)\""
        case .null: "null"
        }
    }
}

/// What facts.py reports about a data file.
struct Facts: Decodable {
    struct MailboxFacts: Decodable, Equatable {
        var events: Int
        var unread_personal: Int
        var undelivered: Int
    }

    struct OrderFacts: Decodable, Equatable {
        var number: String
        var sequence: Int64
        var stage: String
        var customer: String
        var rep: String
        var po: String
        var currency: String
        var priority: String
        var ship: String?
        var captured_at: Int64
        var lines: String
        var watchers: String
        var claim: [Scalar]?
        var holds: [[Scalar]]
        var notes: Int
        var history: Int
    }

    var user_version: Int64
    var users: [String: String]
    var meta: [String: Int64]
    var stages: [String: Int]
    var notes: Int
    var history: Int
    var mailboxes: [String: MailboxFacts]
    var memberships: [[String]]
    var thresholds: [[Scalar]]
    var audit: [[Scalar]]
    var orders: [OrderFacts]

    /// The same facts, as the desk's store reads them back (so after every migration).
    static func read(from store: SQLiteStore) throws -> Facts {
        let snapshot = try store.load()
        var orders: [OrderFacts] = []
        for order in snapshot.orders {
            let thread = order.isArchived ? try store.thread(of: order.number) : (order.notes, order.history)
            let lease = order.lease
            orders.append(OrderFacts(
                number: order.number, sequence: order.sequence, stage: order.stage.rawValue, customer: order.customer, rep: order.rep,
                po: order.purchaseOrder, currency: order.currency, priority: order.priority.rawValue, ship: order.requestedShipDate,
                captured_at: order.capturedAt.milliseconds,
                lines: order.lines.map { "\($0.sku):\($0.quantity):\($0.unitPrice.cents)" }.joined(separator: ","),
                watchers: order.watchers.sorted().joined(separator: " "),
                claim: lease.map { [Scalar($0.holder), Scalar(Int64($0.token)), Scalar($0.since.milliseconds), Scalar($0.expires.milliseconds),
                                    Scalar($0.graceEnds?.milliseconds)] },
                holds: order.holds.map { hold in
                    var released: [Scalar] = [.null, .null, .null]
                    if case .released(let by, let at, let reason) = hold.status { released = [Scalar(by), Scalar(at.milliseconds), Scalar(reason)] }
                    return [Scalar(Int64(hold.id)), Scalar(hold.type.rawValue), Scalar(hold.reason), Scalar(hold.placedBy),
                            Scalar(hold.placedAt.milliseconds)] + released
                },
                notes: thread.0.count, history: thread.1.count))
        }
        var mailboxes: [String: MailboxFacts] = [:]
        for (user, mailbox) in snapshot.mailboxes {
            mailboxes[user] = MailboxFacts(events: mailbox.entries.count, unread_personal: mailbox.unreadCount,
                                           undelivered: mailbox.entries.filter { !$0.isDelivered }.count)
        }
        let counters = snapshot.counters
        return Facts(
            user_version: try store.schemaVersion(),
            users: Dictionary(uniqueKeysWithValues: snapshot.users.map { ($0.name, $0.role.rawValue) }),
            meta: ["next_token": Int64(counters.nextToken), "next_event_id": Int64(counters.nextEventID), "next_sequence": counters.nextSequence],
            stages: Dictionary(grouping: snapshot.orders, by: \.stage.rawValue).mapValues(\.count),
            notes: orders.reduce(0) { $0 + $1.notes }, history: orders.reduce(0) { $0 + $1.history },
            mailboxes: mailboxes,
            memberships: snapshot.memberships.map { [$0.0, $0.1, $0.2] }.sorted { $0.lexicographicallyPrecedes($1) },
            thresholds: snapshot.thresholds.sorted { $0.key.wireName < $1.key.wireName }.map {
                [Scalar($0.key.wireName), Scalar($0.value.warning.value), Scalar($0.value.stuck.value), Scalar($0.value.admins.value)]
            },
            audit: try store.auditEntries().map { [Scalar($0.at.milliseconds), Scalar($0.actor), Scalar($0.action), Scalar($0.detail)] },
            orders: orders)
    }
}
