import OrderDeskWire

/// Order numbers, user names and queue names seen in replies and events this session: what
/// Tab offers for arguments. Only fields that name such things are read, never free text.
public struct Vocabulary: Sendable, Equatable {
    public private(set) var orders: Set<String> = []
    public private(set) var users: Set<String> = []
    public private(set) var queues: Set<String> = []
    /// The open hold types of orders, as last seen (a summary line, a card, a HOLD or UNHOLD
    /// reply or push): what `UNHOLD SO-1 <Tab>` offers.
    public private(set) var openHolds: [String: Set<String>] = [:]

    public init() {}

    /// Fields whose value is one user name.
    private static let userKeys: Set<String> = ["user", "by", "rep", "holder", "from", "to", "released-by"]
    /// Placeholders, not names.
    private static let notNames: Set<String> = ["nobody", "desk", ""]

    /// Learns from a whole reply's data lines: each line, and an order card's open holds
    /// (its `hold` lines do not repeat the order number).
    public mutating func learn(dataLines: [String]) {
        var cardOrder: String?
        var cardHolds: Set<String> = []
        for line in dataLines {
            learn(dataLine: line)
            let record = Record(line)
            switch record.words.first {
            case "order" where record.words.count > 1:
                if let cardOrder { openHolds[cardOrder] = cardHolds }
                cardOrder = record.words[1]
                cardHolds = []
            case "hold" where record["status"] == "open":
                if let type = record["type"] { cardHolds.insert(type) }
            default: break
            }
        }
        if let cardOrder { openHolds[cardOrder] = cardHolds }
    }

    /// Learns from one data line of a reply (without the `* `).
    public mutating func learn(dataLine: String) {
        let record = Record(dataLine)
        if record.words.first == "order", record.words.count > 1 {
            orders.insert(record.words[1])
        } else if let first = record.words.first, Self.looksLikeOrderNumber(first), record["stage"] != nil {
            // A summary line: `holds=` lists the open holds, and its absence means none.
            orders.insert(first)
            openHolds[first] = Set((record["holds"] ?? "").split(separator: ",").map(String.init))
        } else if record.words.first == "watchers" {
            users.formUnion(record.words.dropFirst().filter { !Self.notNames.contains($0) })
        } else if let first = record.words.first, Self.looksLikeOrderNumber(first) {
            orders.insert(first)
        }
        learn(fields: record.fieldDictionary)
    }

    /// Learns from a push: its fields, and the holds a `hold` or `unhold` push opens or closes.
    public mutating func learn(event: ServerEvent) {
        learn(fields: event.fields)
        guard let order = event.order, let type = event.fields["type"] else { return }
        switch event.kind {
        case "hold": openHolds[order, default: []].insert(type)
        case "unhold": openHolds[order]?.remove(type)
        default: break
        }
    }

    /// Learns from the fields of an event or a reply's OK line (`HOLD` and `UNHOLD` replies
    /// name the order's hold types).
    public mutating func learn(fields: [String: String]) {
        if let order = fields["order"] {
            if let open = fields["open-holds"] {
                openHolds[order] = open == "none" ? [] : Set(open.split(separator: ",").map(String.init))
            } else if fields["hold"] != nil, let type = fields["type"] {
                openHolds[order, default: []].insert(type)
            }
        }
        for (key, value) in fields {
            switch key {
            case "order": if Self.looksLikeOrderNumber(value) { orders.insert(value) }
            case "orders": orders.formUnion(value.split(separator: ",").map(String.init).filter(Self.looksLikeOrderNumber))
            case "told": users.formUnion(value.split(separator: ",").map(String.init).filter { !Self.notNames.contains($0) })
            case "queue": queues.insert(value)
            default:
                if Self.userKeys.contains(key), !Self.notNames.contains(value), !value.contains(" ") { users.insert(value) }
            }
        }
    }

    public mutating func learn(user: String) { users.insert(user) }

    /// Letters, a dash, digits: `SO-10042` (the shape the server links in free text).
    static func looksLikeOrderNumber(_ word: String) -> Bool {
        let parts = word.split(separator: "-", omittingEmptySubsequences: false)
        return parts.count == 2 && (1...6).contains(parts[0].count) && parts[0].allSatisfy { $0.isASCII && $0.isLetter }
            && (1...12).contains(parts[1].count) && parts[1].allSatisfy { $0.isASCII && $0.isNumber }
    }
}
