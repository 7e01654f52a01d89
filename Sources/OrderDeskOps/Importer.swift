import Foundation
import OrderDeskCore
import OrderDeskServer
import OrderDeskWire

/// Reads orders from CSV or JSON-lines files and captures them with the same rules as CAPTURE.
///
/// CSV: a header row naming the columns `number,customer,rep,po,sku,qty,price` and optionally
/// `currency,priority,ship`; one row per order line, rows of one order next to each other.
/// JSON lines: one object per line, `{"number":..,"customer":..,"rep":..,"po":..,"lines":[{"sku":..,"qty":..,"price":"10.50"}],...}`.
/// A number that exists already is refused, never merged.
public enum Importer {
    /// One order the file could not capture, and why.
    public struct Rejection: Sendable {
        public var location: String
        public var reason: String
    }

    /// What the file held: the drafts that parsed, and the records that did not.
    public struct Parsed: Sendable {
        public var drafts: [(location: String, draft: OrderDraft)] = []
        public var rejections: [Rejection] = []
    }

    public static func parse(contents: String, fileName: String) -> Parsed {
        if fileName.hasSuffix(".jsonl") || fileName.hasSuffix(".ndjson") || contents.first == "{" {
            return parseJSONLines(contents)
        }
        return parseCSV(contents)
    }

    /// Captures `parsed` into `store` as one transaction; returns the numbers captured and the rejections.
    public static func run(_ parsed: Parsed, into store: DeskStore, now: Instant) throws -> (captured: [String], rejected: [Rejection]) {
        var desk = Desk(settings: DeskSettings(), snapshot: try store.load(), now: now)
        var changes: [StoreChange] = []
        var captured: [String] = []
        var rejected = parsed.rejections
        for (location, draft) in parsed.drafts {
            let outcome = desk.importOrder(draft, by: "import", capturedAt: now)
            if case .failure(let error) = outcome.reply {
                rejected.append(Rejection(location: location, reason: "\(error.code): \(error.message)"))
            } else {
                captured.append(draft.number)
                changes += outcome.changes
            }
        }
        if !changes.isEmpty { try store.commit(changes) }
        return (captured, rejected)
    }

    /// Checks one order's fields by building the CAPTURE line for it and parsing that.
    static func draft(fields: [String: String], lines: [(sku: String, qty: String, price: String)]) -> Result<OrderDraft, DeskError> {
        var text = "CAPTURE " + Quoting.word(fields["number"] ?? "")
        for key in ["customer", "rep", "po", "currency", "priority", "ship"] {
            if let value = fields[key], !value.isEmpty { text += " " + Quoting.field(key, value) }
        }
        text += " " + Quoting.field("lines", lines.map { "\($0.sku):\($0.qty):\($0.price)" }.joined(separator: ","))
        switch CommandParser().parse(text) {
        case .success(.desk(.capture(let draft))): return .success(draft)
        case .success: return .failure(.badLine("not an order"))
        case .failure(let error): return .failure(error)
        }
    }

    static func parseCSV(_ contents: String) -> Parsed {
        var parsed = Parsed()
        var rows = CSV.rows(contents)
        guard !rows.isEmpty else { return parsed }
        let header = rows.removeFirst().map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        let required = ["number", "customer", "rep", "po", "sku", "qty", "price"]
        let missing = required.filter { !header.contains($0) }
        guard missing.isEmpty else {
            parsed.rejections.append(Rejection(location: "line 1", reason: "header lacks " + missing.joined(separator: ", ")))
            return parsed
        }
        var current: (location: String, fields: [String: String], lines: [(String, String, String)])?
        func finish() {
            guard let order = current else { return }
            switch draft(fields: order.fields, lines: order.lines.map { (sku: $0.0, qty: $0.1, price: $0.2) }) {
            case .success(let draft): parsed.drafts.append((order.location, draft))
            case .failure(let error): parsed.rejections.append(Rejection(location: order.location, reason: "\(error.code): \(error.message)"))
            }
        }
        for (offset, row) in rows.enumerated() where !(row.count == 1 && row[0].isEmpty) {
            var fields: [String: String] = [:]
            for (column, name) in header.enumerated() where column < row.count { fields[name] = row[column] }
            let line = (fields["sku"] ?? "", fields["qty"] ?? "", fields["price"] ?? "")
            if current?.fields["number"] == fields["number"], current != nil {
                current?.lines.append(line)
            } else {
                finish()
                current = ("line \(offset + 2)", fields, [line])
            }
        }
        finish()
        return parsed
    }

    static func parseJSONLines(_ contents: String) -> Parsed {
        var parsed = Parsed()
        for (offset, line) in contents.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty else { continue }
            let location = "line \(offset + 1)"
            guard let object = try? JSONSerialization.jsonObject(with: Data(trimmed.utf8)) as? [String: Any] else {
                parsed.rejections.append(Rejection(location: location, reason: "not a JSON object"))
                continue
            }
            var fields: [String: String] = [:]
            for key in ["number", "customer", "rep", "po", "currency", "priority", "ship"] {
                if let value = object[key] { fields[key] = "\(value)" }
            }
            let items = (object["lines"] as? [[String: Any]]) ?? []
            let lines = items.map { item in
                (sku: "\(item["sku"] ?? "")", qty: "\(item["qty"] ?? "")", price: "\(item["price"] ?? "")")
            }
            switch draft(fields: fields, lines: lines) {
            case .success(let draft): parsed.drafts.append((location, draft))
            case .failure(let error): parsed.rejections.append(Rejection(location: location, reason: "\(error.code): \(error.message)"))
            }
        }
        return parsed
    }
}

/// RFC 4180 CSV: commas, double-quoted fields with doubled quotes, CRLF or LF rows.
enum CSV {
    static func rows(_ text: String) -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var field = ""
        var isQuoted = false
        var characters = text.makeIterator()
        var pending: Character?
        while let character = pending ?? characters.next() {
            pending = nil
            if isQuoted {
                if character == "\"" {
                    let following = characters.next()
                    if following == "\"" { field.append("\"") } else { isQuoted = false; pending = following }
                } else {
                    field.append(character)
                }
                continue
            }
            switch character {
            case "\"" where field.isEmpty: isQuoted = true
            case ",": row.append(field); field = ""
            case "\n", "\r\n", "\r":
                row.append(field); field = ""
                rows.append(row); row = []
            default: field.append(character)
            }
        }
        if !field.isEmpty || !row.isEmpty {
            row.append(field)
            rows.append(row)
        }
        return rows
    }
}
