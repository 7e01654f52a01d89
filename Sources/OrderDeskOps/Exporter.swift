import Foundation
import OrderDeskCore
import OrderDeskServer

/// `orderdesk export`: orders (and, on request, their history) as CSV or JSON lines, in the
/// shape `orderdesk import` reads, so finance and BI tools get cycle-time data without
/// reading the database.
///
/// Both formats carry the import columns (`number,customer,rep,po,sku,qty,price,currency,
/// priority,ship`; CSV one row per order line) and then what happened to the order:
/// `stage,captured,released,finished,holds`. Import ignores the extra columns, so an export
/// imported into an empty desk gives the same orders (newly captured: the past is not replayed).
public enum Exporter {
    public enum Format: String, Sendable {
        case csv
        case jsonLines = "jsonl"
    }

    /// Which orders, by capture time: `from` inclusive, `to` exclusive; nil is open-ended.
    public struct Range: Sendable {
        public var from: Instant?
        public var to: Instant?

        public init(from: Instant? = nil, to: Instant? = nil) {
            self.from = from
            self.to = to
        }

        func contains(_ instant: Instant) -> Bool {
            (from.map { instant >= $0 } ?? true) && (to.map { instant < $0 } ?? true)
        }
    }

    static let csvColumns = ["number", "customer", "rep", "po", "sku", "qty", "price", "currency", "priority", "ship",
                             "stage", "captured", "released", "finished", "holds"]
    static let historyColumns = ["number", "at", "by", "action", "detail"]

    /// Writes the orders of `store` captured in `range`, in capture order, through `write`
    /// (orders) and `writeHistory` (CSV history rows; JSON lines carry history inside each
    /// order when `includeHistory`). Returns how many orders were written.
    @discardableResult
    public static func run(store: SQLiteStore, format: Format, range: Range, includeHistory: Bool,
                           write: (String) throws -> Void, writeHistory: ((String) throws -> Void)? = nil) throws -> Int {
        let snapshot = try store.load()
        if format == .csv {
            try write(csvRow(csvColumns))
            if includeHistory { try writeHistory?(csvRow(historyColumns)) }
        }
        var count = 0
        for order in snapshot.orders where range.contains(order.capturedAt) {
            var history: [HistoryEntry] = []
            var notes: [Note] = []
            if includeHistory {
                (notes, history) = order.isArchived ? try store.thread(of: order.number) : (order.notes, order.history)
            }
            switch format {
            case .csv:
                for line in order.lines { try write(csvRow(orderFields(order, line: line))) }
                for entry in history {
                    try writeHistory?(csvRow([order.number, entry.at.iso8601, entry.actor, entry.action, entry.detail]))
                }
            case .jsonLines:
                try write(try jsonLine(order, history: includeHistory ? history : nil, notes: includeHistory ? notes : nil))
            }
            count += 1
        }
        return count
    }

    /// When the order was released to fulfilment, and when it was shipped or cancelled.
    static func milestones(_ order: Order) -> (released: String, finished: String) {
        let released = order.release?.at.iso8601 ?? ""
        return (released, order.stage.isTerminal ? order.stageChangedAt.iso8601 : "")
    }

    static func orderFields(_ order: Order, line: OrderLine) -> [String] {
        let (released, finished) = milestones(order)
        return [order.number, order.customer, order.rep, order.purchaseOrder, line.sku, String(line.quantity), line.unitPrice.decimal,
                order.currency, order.priority.rawValue, order.requestedShipDate ?? "", order.stage.rawValue,
                order.capturedAt.iso8601, released, finished, order.holds.map(\.type.rawValue).joined(separator: " ")]
    }

    /// RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled; CRLF ends rows.
    static func csvRow(_ fields: [String]) -> String {
        fields.map { field in
            field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" })
                ? "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : field
        }.joined(separator: ",") + "\r\n"
    }

    static func jsonLine(_ order: Order, history: [HistoryEntry]?, notes: [Note]?) throws -> String {
        let (released, finished) = milestones(order)
        var object: [String: Any] = [
            "number": order.number, "customer": order.customer, "rep": order.rep, "po": order.purchaseOrder,
            "currency": order.currency, "priority": order.priority.rawValue, "stage": order.stage.rawValue,
            "captured": order.capturedAt.iso8601,
            "lines": order.lines.map { ["sku": $0.sku, "qty": $0.quantity, "price": $0.unitPrice.decimal] as [String: Any] },
            "holds": order.holds.map { hold -> [String: Any] in
                var item: [String: Any] = ["type": hold.type.rawValue, "reason": hold.reason, "by": hold.placedBy, "at": hold.placedAt.iso8601]
                if case .released(let by, let at, let reason) = hold.status {
                    item["released_by"] = by
                    item["released_at"] = at.iso8601
                    item["release_reason"] = reason
                }
                return item
            },
        ]
        if let ship = order.requestedShipDate { object["ship"] = ship }
        if !released.isEmpty { object["released"] = released }
        if !finished.isEmpty { object["finished"] = finished }
        if let history {
            object["history"] = history.map { ["at": $0.at.iso8601, "by": $0.actor, "action": $0.action, "detail": $0.detail] }
        }
        if let notes { object["notes"] = notes.map { ["at": $0.at.iso8601, "by": $0.author, "text": $0.text] } }
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}
