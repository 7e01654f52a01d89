import OrderDeskWire

/// A cursor over a command's arguments that produces usage errors naming the command: what a
/// row's `parse` reads with.
struct Arguments {
    let line: String
    let tokens: [Token]
    let spec: CommandSpec
    let limits: Limits
    var position = 0

    init(line: String, tokens: [Token], spec: CommandSpec, limits: Limits) {
        self.line = line
        self.tokens = tokens
        self.spec = spec
        self.limits = limits
    }

    var isAtEnd: Bool { position >= tokens.count }

    func usageError(_ detail: String) -> DeskError { .badArguments(usage: spec.usage, detail: detail) }

    mutating func word(_ what: String) throws(DeskError) -> String {
        guard position < tokens.count else { throw usageError("missing \(what)") }
        let token = tokens[position]
        guard token.key == nil else { throw usageError("expected \(what), found a field") }
        position += 1
        return token.value
    }

    /// The next argument when it is a word, without taking it.
    func peekWord() -> String? {
        guard position < tokens.count, tokens[position].key == nil else { return nil }
        return tokens[position].value
    }

    mutating func optionalWord() -> String? {
        guard position < tokens.count, tokens[position].key == nil else { return nil }
        position += 1
        return tokens[position - 1].value
    }

    mutating func orderNumber() throws(DeskError) -> String {
        let number = try word("order number")
        guard OrderNumber.isValid(number) else {
            throw usageError("an order number is letters, digits, - and _ (at most \(OrderNumber.maximumLength)), e.g. SO-10042")
        }
        return OrderNumber.normalized(number)
    }

    mutating func queue() throws(DeskError) -> QueueName {
        let name = try word("queue")
        guard let queue = QueueName(wireName: name.lowercased()) else {
            throw usageError("unknown queue \(name); one of " + QueueName.all.map(\.wireName).joined(separator: ", "))
        }
        return queue
    }

    mutating func optionalCount() throws(DeskError) -> Int? {
        guard let word = optionalWord() else { return nil }
        guard let count = Int(word), (1...1000).contains(count) else { throw usageError("limit is 1 to 1000") }
        return count
    }

    /// Free text from here to the end of the line (or one quoted string), at most the note
    /// length long.
    mutating func text(_ what: String) throws(DeskError) -> String {
        let limit = limits.maximumNoteLength
        guard position < tokens.count else { throw usageError("missing \(what)") }
        let text: String
        do {
            text = try Tokenizer.freeText(line, from: tokens[position].offset)
        } catch {
            throw .badLine(CommandParser.describe(error))
        }
        guard !text.isEmpty else { throw usageError("missing \(what)") }
        guard text.count <= limit else { throw .tooLarge(what: what, limit: limit) }
        position = tokens.count
        return text
    }

    /// The remaining tokens as `key=value` fields, each key at most once and from `allowed`.
    mutating func fields(allowed: Set<String>) throws(DeskError) -> [String: String] {
        var fields: [String: String] = [:]
        while position < tokens.count {
            let token = tokens[position]
            guard let key = token.key else { throw usageError("expected key=value, found \(token.value)") }
            guard allowed.contains(key) else { throw usageError("unknown field \(key)=") }
            guard fields[key] == nil else { throw usageError("\(key)= given twice") }
            fields[key] = token.value
            position += 1
        }
        return fields
    }

    func expectEnd() throws(DeskError) {
        guard position >= tokens.count else { throw usageError("unexpected \(tokens[position].value)") }
    }
}

/// Arguments that several rows read alike, or too long to sit in a row.
extension Arguments {
    /// CAPTURE's order: the number, then its fields.
    static let captureFields: Set<String> = ["customer", "rep", "po", "lines", "currency", "priority", "ship"]

    mutating func draft() throws(DeskError) -> OrderDraft {
        let number = try orderNumber()
        let fields = try fields(allowed: Self.captureFields)
        func required(_ key: String) throws(DeskError) -> String {
            guard let value = fields[key], !value.isEmpty else { throw usageError("\(key)= is required") }
            return value
        }
        let customer = try required("customer")
        let rep = try required("rep")
        guard UserName.isValid(rep) else { throw usageError("rep= must be a user name") }
        let lines = try orderLines(try required("lines"))
        guard lines.count <= limits.maximumOrderLines else {
            throw .tooLarge(what: "order lines", limit: limits.maximumOrderLines)
        }
        for line in lines where line.unitPrice.times(line.quantity) == nil {
            throw .amountTooLarge(what: "the amount of line \(line.sku)")
        }
        guard Money.total(of: lines) != nil else { throw .amountTooLarge(what: "the order total") }
        let currency = (fields["currency"] ?? "USD").uppercased()
        guard currency.count == 3, currency.allSatisfy({ $0.isASCII && $0.isLetter }) else {
            throw usageError("currency= must be a three-letter code such as USD")
        }
        let priority = try fields["priority"].map { (word: String) throws(DeskError) -> Priority in
            guard let priority = Priority(rawValue: word.lowercased()) else {
                throw usageError("priority= is one of urgent, high, normal, low")
            }
            return priority
        } ?? .normal
        if let ship = fields["ship"], !CivilDate.isValidDay(ship) {
            throw usageError("ship= must be a date YYYY-MM-DD")
        }
        for value in [customer, try required("po")] where value.count > limits.maximumFieldLength {
            throw .tooLarge(what: "field", limit: limits.maximumFieldLength)
        }
        return OrderDraft(number: number, customer: customer, rep: rep, purchaseOrder: try required("po"), currency: currency,
                          lines: lines, priority: priority, requestedShipDate: fields["ship"])
    }

    /// `lines=`: `<sku>:<qty>:<price>[,...]`, read from the text's bytes.
    func orderLines(_ text: String) throws(DeskError) -> [OrderLine] {
        let bytes = Array(text.utf8)
        var lines: [OrderLine] = []
        var start = 0
        while true {
            guard lines.count < limits.maximumOrderLines else { throw .tooLarge(what: "order lines", limit: limits.maximumOrderLines) }
            var end = start
            while end < bytes.count, bytes[end] != UInt8(ascii: ",") { end += 1 }
            let item = bytes[start..<end]
            guard let line = Self.orderLine(item) else {
                throw usageError("lines= is <sku>:<qty>:<price>[,...], e.g. WID-1:2:10.50; bad item \(String(decoding: item, as: UTF8.self))")
            }
            lines.append(line)
            guard end < bytes.count else { return lines }
            start = end + 1
        }
    }

    /// One `<sku>:<qty>:<price>`: a SKU of 1 to 64 characters, a quantity of 1 to 1,000,000 (an
    /// optional `+`, digits), a price as `Money` reads it; nil for anything else.
    static func orderLine(_ item: ArraySlice<UInt8>) -> OrderLine? {
        guard let first = item.firstIndex(of: UInt8(ascii: ":")) else { return nil }
        let rest = item[(first + 1)...]
        guard let second = rest.firstIndex(of: UInt8(ascii: ":")) else { return nil }
        let skuBytes = item[..<first], quantityBytes = item[(first + 1)..<second], priceBytes = item[(second + 1)...]
        guard !priceBytes.contains(UInt8(ascii: ":")), !skuBytes.isEmpty else { return nil }
        let sku = String(decoding: skuBytes, as: UTF8.self)
        guard skuBytes.count <= 64 || sku.count <= 64 else { return nil }
        var digits = quantityBytes[...]
        if digits.first == UInt8(ascii: "+") { digits = digits.dropFirst() }
        guard !digits.isEmpty else { return nil }
        var quantity = 0
        for byte in digits {
            guard ASCII.isDigit(byte) else { return nil }
            quantity = quantity * 10 + Int(byte - UInt8(ascii: "0"))
            guard quantity <= 1_000_000 else { return nil }
        }
        guard quantity > 0, let price = Money(ascii: priceBytes) else { return nil }
        return OrderLine(sku: sku, quantity: quantity, unitPrice: price)
    }

    /// FIND's filters.
    mutating func query() throws(DeskError) -> OrderQuery {
        var query = OrderQuery()
        if let word = optionalWord() { query.text = word }
        let fields = try fields(allowed: ["customer", "po", "rep", "stage", "hold", "holder", "limit"])
        query.customer = fields["customer"]
        query.purchaseOrder = fields["po"]
        query.rep = fields["rep"]
        query.holder = fields["holder"]
        if let stage = fields["stage"] {
            guard let parsed = Stage(rawValue: stage.lowercased()) else { throw usageError("unknown stage \(stage)") }
            query.stage = parsed
        }
        if let hold = fields["hold"] {
            guard let parsed = HoldType(rawValue: hold.lowercased()) else { throw usageError("unknown hold type \(hold)") }
            query.hold = parsed
        }
        if let limit = fields["limit"] {
            guard let parsed = Int(limit), (1...1000).contains(parsed) else { throw usageError("limit= is 1 to 1000") }
            query.limit = parsed
        }
        guard !query.isEmpty else { throw usageError("give at least one filter") }
        return query
    }

    /// HOLD's and UNHOLD's order, hold type and reason.
    mutating func holdArguments() throws(DeskError) -> (order: String, type: HoldType, reason: String) {
        let order = try orderNumber()
        let typeWord = try word("hold type")
        guard let type = HoldType(rawValue: typeWord.lowercased()) else {
            throw usageError("unknown hold type \(typeWord); one of credit, pricing, inventory, address, other")
        }
        return (order, type, try text("reason"))
    }

    /// SUBSCRIBE's and UNSUBSCRIBE's topic: a queue's wire name (not `mine`), or `stuck`.
    mutating func topic() throws(DeskError) -> String {
        let topic = try word("queue").lowercased()
        guard topic == "stuck" || (QueueName(wireName: topic).map { $0 != .mine } ?? false) else {
            throw usageError("unknown queue \(topic); one of new, credit, pricing, inventory, address, other, released, stuck")
        }
        return topic
    }

    /// A role's name.
    mutating func role() throws(DeskError) -> Role {
        let roleWord = try word("role")
        guard let role = Role(rawValue: roleWord.lowercased()) else {
            throw usageError("unknown role \(roleWord); one of " + Role.allCases.map(\.rawValue).joined(separator: ", "))
        }
        return role
    }

    /// A new password, which must meet the wire's password rule.
    mutating func newPassword() throws(DeskError) -> String {
        let password = try word("password")
        if let problem = PasswordRule.problem(with: password) { throw usageError(problem) }
        return password
    }
}
