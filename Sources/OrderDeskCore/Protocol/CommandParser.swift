import OrderDeskWire

/// Turns one protocol line into a `Command`, or the error to reply with.
///
/// The first word is matched whole and case-insensitively against the command names; never by
/// prefix. Arguments follow the syntax in `CommandSpec.all` and protocol.md.
public struct CommandParser: Sendable {
    public var limits: Limits

    public init(limits: Limits = Limits()) { self.limits = limits }

    public func parse(_ line: String) -> Result<Command, DeskError> {
        do throws(DeskError) {
            return .success(try parseCommand(line))
        } catch {
            return .failure(error)
        }
    }

    private func parseCommand(_ line: String) throws(DeskError) -> Command {
        let tokens: [Token]
        do {
            tokens = try Tokenizer.tokens(line)
        } catch {
            throw .badLine(Self.describe(error))
        }
        guard let first = tokens.first else { throw .badLine("empty line; try HELP") }
        let name = first.value.uppercased()
        if let key = first.key { throw .unknownCommand(key + "=" + first.value, suggestion: nil) }
        guard let spec = CommandSpec.named(name) else {
            throw .unknownCommand(first.value, suggestion: Self.suggestion(for: name))
        }
        var arguments = Arguments(line: line, tokens: Array(tokens.dropFirst()), spec: spec)
        let command: Command
        switch spec.name {
        case "LOGIN":
            // The name's form is checked before anything else: a malformed name is never hashed,
            // tracked or logged in full.
            let user = try arguments.word("user")
            guard UserName.isValid(user) else { throw arguments.usageError("that is not a user name") }
            let password = try arguments.word("password")
            guard password.utf8.count <= PasswordRule.maximumLength else {
                throw .tooLarge(what: "password", limit: PasswordRule.maximumLength)
            }
            command = .login(user: user, password: password)
        case "QUIT": command = .logout
        case "PING": command = .ping
        case "HELP": command = .help(topic: arguments.optionalWord()?.uppercased())
        case "WHOAMI": command = .whoami
        case "USERS": command = .users
        case "CAPTURE": command = .capture(try parseDraft(&arguments))
        case "ORDER": command = .show(order: try arguments.orderNumber())
        case "CARD": command = .card(order: try arguments.orderNumber())
        case "QUEUE":
            let queue = try arguments.queue()
            let limit = try arguments.optionalCount() ?? 20
            command = .queue(queue, limit: limit)
        case "FIND": command = .find(try parseQuery(&arguments))
        case "HISTORY": command = .history(order: try arguments.orderNumber())
        case "NEXT":
            let queue = arguments.isAtEnd ? QueueName.new : try arguments.queue()
            guard queue != .mine, queue != .released else {
                throw arguments.usageError("NEXT takes new or a hold type, not \(queue.wireName)")
            }
            command = .next(queue)
        case "CLAIM": command = .claim(order: try arguments.orderNumber())
        case "HANDBACK": command = .handBack(order: try arguments.orderNumber(), reason: try arguments.text("reason", limit: limits.maximumNoteLength))
        case "TOUCH": command = .touch(order: try arguments.orderNumber())
        case "HOLD", "UNHOLD":
            let order = try arguments.orderNumber()
            let typeWord = try arguments.word("hold type")
            guard let type = HoldType(rawValue: typeWord.lowercased()) else {
                throw arguments.usageError("unknown hold type \(typeWord); one of credit, pricing, inventory, address, other")
            }
            let reason = try arguments.text("reason", limit: limits.maximumNoteLength)
            command = name == "HOLD" ? .hold(order: order, type: type, reason: reason) : .unhold(order: order, type: type, reason: reason)
        case "MOVE":
            let order = try arguments.orderNumber()
            let stageWord = try arguments.word("stage")
            guard let stage = Stage(rawValue: stageWord.lowercased()), stage != .captured else {
                throw arguments.usageError("unknown stage \(stageWord); one of released, shipped, cancelled")
            }
            let reason = arguments.isAtEnd ? nil : try arguments.text("reason", limit: limits.maximumNoteLength)
            command = .move(order: order, to: stage, reason: reason)
        case "NOTE": command = .note(order: try arguments.orderNumber(), text: try arguments.text("text", limit: limits.maximumNoteLength))
        case "WATCH": command = .watch(order: try arguments.orderNumber())
        case "UNWATCH": command = .unwatch(order: try arguments.orderNumber())
        case "REASSIGN":
            let order = try arguments.orderNumber()
            let user = try arguments.word("user")
            command = .reassign(order: order, to: user, reason: try arguments.text("reason", limit: limits.maximumNoteLength))
        case "INBOX":
            var onlyUnread = false
            var limit = 20
            var before: UInt64?
            var hasLimit = false
            while !arguments.isAtEnd {
                if let word = arguments.optionalWord() {
                    if word.lowercased() == "unread", !onlyUnread {
                        onlyUnread = true
                    } else if !hasLimit, let count = Int(word), (1...500).contains(count) {
                        limit = count
                        hasLimit = true
                    } else {
                        throw arguments.usageError("unexpected \(word)")
                    }
                } else {
                    let fields = try arguments.fields(allowed: ["before"])
                    guard let value = fields["before"].flatMap(UInt64.init) else { throw arguments.usageError("before= takes an event id") }
                    before = value
                }
            }
            command = .inbox(onlyUnread: onlyUnread, limit: limit, before: before)
        case "READ":
            var ids: [UInt64] = []
            var all = false
            // READ SO-10089: one order's events. Bare numbers stay event ids, as they always were.
            if let first = arguments.peekWord(), UInt64(first) == nil, first.lowercased() != "all" {
                let order = try arguments.orderNumber()
                guard arguments.isAtEnd else { throw arguments.usageError("READ takes one order number") }
                command = .readOrder(order)
                break
            }
            while let word = arguments.optionalWord() {
                if word.lowercased() == "all" { all = true } else if let id = UInt64(word) { ids.append(id) } else { throw arguments.usageError("\(word) is not an event id") }
            }
            guard all != !ids.isEmpty else { throw arguments.usageError("give event ids, or all") }
            command = .read(all ? nil : ids)
        case "RESUME":
            let word = try arguments.word("last event id")
            guard let id = UInt64(word) else { throw arguments.usageError("\(word) is not an event id") }
            command = .resume(after: id)
        case "STUCK":
            let fields = try arguments.fields(allowed: ["rep", "queue", "holder", "limit"])
            var filter = StuckFilter(rep: fields["rep"], holder: fields["holder"])
            if let name = fields["queue"] {
                guard let queue = QueueName(wireName: name.lowercased()), queue != .mine else { throw arguments.usageError("unknown queue \(name)") }
                filter.queue = queue
            }
            if let limit = fields["limit"] {
                guard let value = Int(limit), (1...1000).contains(value) else { throw arguments.usageError("limit= is 1 to 1000") }
                filter.limit = value
            }
            command = .stuck(filter)
        case "THRESHOLDS": command = .thresholds
        case "THRESHOLD":
            let queue = try arguments.queue()
            let fields = try arguments.fields(allowed: ["warning", "stuck", "admins"])
            func duration(_ key: String) throws(DeskError) -> Milliseconds {
                guard let text = fields[key], let value = Milliseconds(duration: text) else { throw arguments.usageError("\(key)= takes a duration such as 30m, 4h or 2d") }
                return value
            }
            command = .setThreshold(queue, EscalationThresholds(warning: try duration("warning"), stuck: try duration("stuck"), admins: try duration("admins")))
        case "WHO": command = .who
        case "AWAY": command = .away(try arguments.text("message", limit: limits.maximumNoteLength))
        case "BACK": command = .back
        case "MSG":
            let user = try arguments.word("user")
            command = .message(to: user, text: try arguments.text("text", limit: limits.maximumNoteLength))
        case "JOIN": command = .join(room: try arguments.word("room").lowercased())
        case "LEAVE": command = .leave(room: try arguments.word("room").lowercased())
        case "SAY":
            let room = try arguments.word("room").lowercased()
            command = .say(room: room, text: try arguments.text("text", limit: limits.maximumNoteLength))
        case "ROOMS": command = .rooms
        case "SUBSCRIBE", "UNSUBSCRIBE":
            let topic = try arguments.word("queue").lowercased()
            guard topic == "stuck" || (QueueName(wireName: topic).map { $0 != .mine } ?? false) else {
                throw arguments.usageError("unknown queue \(topic); one of new, credit, pricing, inventory, address, other, released, stuck")
            }
            command = name == "SUBSCRIBE" ? .subscribe(topic) : .unsubscribe(topic)
        case "UNLOCK": command = .unlock(user: try arguments.word("user"))
        case "USER":
            let action = try arguments.word("ADD or ROLE").uppercased()
            let user = try arguments.word("user name")
            guard UserName.isValid(user) else {
                throw arguments.usageError("a user name starts with a letter and holds letters, digits, _ . - (at most \(UserName.maximumLength))")
            }
            func role() throws(DeskError) -> Role {
                let roleWord = try arguments.word("role")
                guard let role = Role(rawValue: roleWord.lowercased()) else {
                    throw arguments.usageError("unknown role \(roleWord); one of " + Role.allCases.map(\.rawValue).joined(separator: ", "))
                }
                return role
            }
            func newPassword() throws(DeskError) -> String {
                let password = try arguments.word("password")
                if let problem = PasswordRule.problem(with: password) { throw arguments.usageError(problem) }
                return password
            }
            switch action {
            case "ADD":
                let role = try role()
                command = .addUser(name: user, role: role, password: try newPassword())
            case "ROLE": command = .setRole(user: user, role: try role())
            case "DISABLE": command = .disableUser(name: user, reason: try arguments.text("reason", limit: limits.maximumNoteLength))
            case "ENABLE": command = .enableUser(name: user)
            case "PASSWORD": command = .resetPassword(user: user, password: try newPassword())
            default: throw arguments.usageError("USER takes ADD, ROLE, DISABLE, ENABLE or PASSWORD")
            }
        case "PASSWORD":
            let old = try arguments.word("old password")
            guard old.utf8.count <= PasswordRule.maximumLength else { throw .tooLarge(what: "password", limit: PasswordRule.maximumLength) }
            let new = try arguments.word("new password")
            if let problem = PasswordRule.problem(with: new) { throw arguments.usageError(problem) }
            command = .changePassword(old: old, new: new)
        case "AUDIT":
            let limit = try arguments.optionalCount() ?? 50
            let fields = try arguments.fields(allowed: ["before", "user", "action"])
            let before = fields["before"].flatMap(UInt64.init)
            if fields["before"] != nil, before == nil { throw arguments.usageError("before= takes an audit entry id") }
            command = .audit(AuditQuery(limit: limit, before: before, user: fields["user"], action: fields["action"]?.lowercased()))
        case "METRICS":
            let fields = try arguments.fields(allowed: ["window"])
            var window = Milliseconds(30 * 86_400_000)
            if let text = fields["window"] {
                guard let value = Milliseconds(duration: text), value.value > 0 else { throw arguments.usageError("window= takes a duration such as 7d") }
                window = value
            }
            command = .metrics(window: window)
        default:
            throw .unknownCommand(first.value, suggestion: nil)
        }
        try arguments.expectEnd()
        return command
    }

    private func parseDraft(_ arguments: inout Arguments) throws(DeskError) -> OrderDraft {
        let number = try arguments.orderNumber()
        let fields = try arguments.fields(allowed: ["customer", "rep", "po", "lines", "currency", "priority", "ship"])
        func required(_ key: String) throws(DeskError) -> String {
            guard let value = fields[key], !value.isEmpty else { throw arguments.usageError("\(key)= is required") }
            return value
        }
        let customer = try required("customer")
        let rep = try required("rep")
        guard UserName.isValid(rep) else { throw arguments.usageError("rep= must be a user name") }
        let lines = try parseLines(try required("lines"), arguments: arguments)
        guard lines.count <= limits.maximumOrderLines else {
            throw .tooLarge(what: "order lines", limit: limits.maximumOrderLines)
        }
        for line in lines where line.unitPrice.times(line.quantity) == nil {
            throw .amountTooLarge(what: "the amount of line \(line.sku)")
        }
        guard Money.total(of: lines) != nil else { throw .amountTooLarge(what: "the order total") }
        let currency = (fields["currency"] ?? "USD").uppercased()
        guard currency.count == 3, currency.allSatisfy({ $0.isASCII && $0.isLetter }) else {
            throw arguments.usageError("currency= must be a three-letter code such as USD")
        }
        let priority = try fields["priority"].map { (word: String) throws(DeskError) -> Priority in
            guard let priority = Priority(rawValue: word.lowercased()) else {
                throw arguments.usageError("priority= is one of urgent, high, normal, low")
            }
            return priority
        } ?? .normal
        if let ship = fields["ship"], !CivilDate.isValidDay(ship) {
            throw arguments.usageError("ship= must be a date YYYY-MM-DD")
        }
        for value in [customer, try required("po")] where value.count > limits.maximumFieldLength {
            throw .tooLarge(what: "field", limit: limits.maximumFieldLength)
        }
        return OrderDraft(number: number, customer: customer, rep: rep, purchaseOrder: try required("po"), currency: currency,
                          lines: lines, priority: priority, requestedShipDate: fields["ship"])
    }

    private func parseLines(_ text: String, arguments: Arguments) throws(DeskError) -> [OrderLine] {
        var lines: [OrderLine] = []
        for item in text.split(separator: ",", maxSplits: limits.maximumOrderLines, omittingEmptySubsequences: false) {
            guard lines.count < limits.maximumOrderLines else { throw .tooLarge(what: "order lines", limit: limits.maximumOrderLines) }
            let parts = item.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 3, !parts[0].isEmpty, parts[0].count <= 64,
                  let quantity = Int(parts[1]), quantity > 0, quantity <= 1_000_000,
                  let price = Money(parts[2])
            else { throw arguments.usageError("lines= is <sku>:<qty>:<price>[,...], e.g. WID-1:2:10.50; bad item \(item)") }
            lines.append(OrderLine(sku: String(parts[0]), quantity: quantity, unitPrice: price))
        }
        return lines
    }

    private func parseQuery(_ arguments: inout Arguments) throws(DeskError) -> OrderQuery {
        var query = OrderQuery()
        if let word = arguments.optionalWord() { query.text = word }
        let fields = try arguments.fields(allowed: ["customer", "po", "rep", "stage", "hold", "holder", "limit"])
        query.customer = fields["customer"]
        query.purchaseOrder = fields["po"]
        query.rep = fields["rep"]
        query.holder = fields["holder"]
        if let stage = fields["stage"] {
            guard let parsed = Stage(rawValue: stage.lowercased()) else { throw arguments.usageError("unknown stage \(stage)") }
            query.stage = parsed
        }
        if let hold = fields["hold"] {
            guard let parsed = HoldType(rawValue: hold.lowercased()) else { throw arguments.usageError("unknown hold type \(hold)") }
            query.hold = parsed
        }
        if let limit = fields["limit"] {
            guard let parsed = Int(limit), (1...1000).contains(parsed) else { throw arguments.usageError("limit= is 1 to 1000") }
            query.limit = parsed
        }
        guard !query.isEmpty else { throw arguments.usageError("give at least one filter") }
        return query
    }

    static func describe(_ error: TokenizeError) -> String {
        switch error {
        case .unterminatedQuote: "a quoted string is not closed (or has text right after its closing quote)"
        case .badEscape: "unknown escape in a quoted string; use \\\" \\\\ \\n \\r \\t"
        case .controlCharacter: "control characters are not allowed; use escapes in a quoted string"
        }
    }

    /// A command name close to `word`, for the unknown-command hint.
    public static func suggestion(for word: String) -> String? {
        var best: (name: String, distance: Int)?
        for spec in CommandSpec.all {
            let distance = editDistance(Array(word), Array(spec.name))
            if distance <= 2, distance < (best?.distance ?? Int.max) { best = (spec.name, distance) }
        }
        return best?.name
    }

    private static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}

/// The limits a server enforces on input; the greeting and protocol.md state them.
public struct Limits: Sendable, Equatable {
    public var maximumLineLength = 8192
    public var maximumNoteLength = 2000
    public var maximumOrderLines = 200
    public var maximumFieldLength = 200

    public init() {}
}

/// A cursor over a command's arguments that produces usage errors naming the command.
private struct Arguments {
    let line: String
    let tokens: [Token]
    let spec: CommandSpec
    var position = 0

    init(line: String, tokens: [Token], spec: CommandSpec) {
        self.line = line
        self.tokens = tokens
        self.spec = spec
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

    /// Free text from here to the end of the line (or one quoted string).
    mutating func text(_ what: String, limit: Int) throws(DeskError) -> String {
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

/// Rules for order numbers.
public enum OrderNumber {
    public static let maximumLength = 32

    public static func isValid(_ text: String) -> Bool {
        let bytes = text.utf8
        return !bytes.isEmpty && bytes.count <= maximumLength && bytes.allSatisfy { ASCII.isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") }
    }

    /// Order numbers are case-insensitive; the desk keeps them upper-case.
    public static func normalized(_ text: String) -> String { text.uppercased() }

    /// Words of `text` shaped like order numbers (letters, a dash, digits: `SO-10042`), upper-cased, in order.
    public static func references(in text: String) -> [String] {
        var found: [String] = []
        let bytes = Array(text.utf8)
        var index = 0
        while index < bytes.count {
            // A word: a run of ASCII letters, digits and dashes.
            guard ASCII.isAlphanumeric(bytes[index]) || bytes[index] == UInt8(ascii: "-") else { index += 1; continue }
            let start = index
            while index < bytes.count, ASCII.isAlphanumeric(bytes[index]) || bytes[index] == UInt8(ascii: "-") { index += 1 }
            let word = bytes[start..<index]
            guard let dash = word.firstIndex(of: UInt8(ascii: "-")) else { continue }
            let letters = word[start..<dash]
            let digits = word[(dash + 1)...]
            guard (1...6).contains(letters.count), letters.allSatisfy(ASCII.isLetter),
                  (1...12).contains(digits.count), digits.allSatisfy(ASCII.isDigit) else { continue }
            let number = String(decoding: word, as: UTF8.self).uppercased()
            if !found.contains(number) { found.append(number) }
        }
        return found
    }
}

/// Byte classes for ASCII-only rules, without Unicode property look-ups.
enum ASCII {
    static func isLetter(_ byte: UInt8) -> Bool { (byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z") }
    static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
    static func isAlphanumeric(_ byte: UInt8) -> Bool { isLetter(byte) || isDigit(byte) }
}
