/// The order being worked on, so its number need not be typed on every step.
///
/// The order named by the last command that went well and names one (its usage line in the
/// server's HELP starts with `<number>`: ORDER, CARD, CLAIM, HOLD, NOTE...), or NEXT, becomes
/// current; `use` sets or clears it. A command whose usage starts with `<number>` may leave the
/// number out: desk puts the current order in when the first argument is not an order
/// reference (`NOTE customer agreed` is `NOTE SO-1 customer agreed`). The rule never reads
/// free text as an order and never puts the current order in front of a number that was typed:
///
/// - an order reference is a word shaped like an order number (`SO-10042`), a bare number
///   (`10042`), or an order number seen this session; it is always taken as the order;
/// - `.` as the first argument stands for the current order (`NOTE . SO-7 is the replacement`
///   notes on the current order, text and all);
/// - a command that takes only the number (`ORDER`, `TOUCH`, `WATCH`...) gets it only when
///   nothing follows, so an unusual order number goes to the server as typed;
/// - nothing else is guessed: with no current order, such a line is not sent.
///
/// Pure presentation state: the server never hears of it, and scripts (`-c`) do not use it.
public struct CurrentOrder: Sendable, Equatable {
    public private(set) var number: String?

    public init(_ number: String? = nil) { self.number = number }

    /// What to send for a line as entered.
    public enum Expansion: Equatable, Sendable {
        /// The line as it is (it names its order, or the command takes none).
        case unchanged
        /// This line instead: the current order put in where the number was left out or written `.`.
        case expanded(String)
        /// The line leaves the number out, and there is no current order.
        case needsOrder
    }

    /// The word that stands for the current order.
    public static let marker = "."

    /// Sets the current order (nil clears it).
    public mutating func use(_ number: String?) { self.number = number }

    /// How a usage line takes an order number first (`NOTE <number> <text>`).
    struct NumberFirst {
        /// More arguments follow the number (not so for `ORDER <number>`).
        var hasMoreArguments: Bool
    }

    /// nil when the usage's first argument is not `<number>`.
    static func numberFirst(inUsage usage: String) -> NumberFirst? {
        guard !usage.contains(" | ") else { return nil }  // alternatives (READ, USER): not one shape
        let words = usage.split(separator: " ").dropFirst()
        guard words.first == "<number>" else { return nil }
        return NumberFirst(hasMoreArguments: words.count > 1)
    }

    /// True for a word that names an order: shaped like one (`SO-10042`), a bare number
    /// (`10042`, which the server resolves for look-ups), or one seen this session.
    public static func isOrderReference(_ word: String, known: Set<String>) -> Bool {
        Vocabulary.looksLikeOrderNumber(word) || (!word.isEmpty && word.allSatisfy { $0.isASCII && $0.isNumber }) || known.contains(word)
    }

    /// What to send for `line` (trimmed of leading and trailing spaces), given its command's usage
    /// line from HELP. Spacing after the inserted number is kept as typed (free text is exact).
    public func expand(_ line: String, usage: String?, knownOrders: Set<String> = []) -> Expansion {
        guard let usage, let shape = Self.numberFirst(inUsage: usage) else { return .unchanged }
        let command = String(line.prefix { $0 != " " })
        let rest = line.dropFirst(command.count).drop { $0 == " " }
        let first = rest.prefix { $0 != " " }
        let insert: (Substring) -> Expansion = { after in
            guard let number else { return .needsOrder }
            return .expanded(command + " " + number + String(after))
        }
        if rest.isEmpty { return insert("") }
        if first == Self.marker { return insert(rest.dropFirst(first.count)) }
        if Self.isOrderReference(String(first), known: knownOrders) || !shape.hasMoreArguments { return .unchanged }
        return insert(" " + rest)
    }

    /// Learns from a reply shown to the user: a command that names an order (or NEXT) and went
    /// well makes that order current; `not-found` for the current order clears it.
    public mutating func learn(_ reply: ServerReply, usage: String?) {
        switch reply.outcome {
        case .ok(let summary):
            guard reply.commandName == "NEXT" || usage.flatMap(Self.numberFirst(inUsage:)) != nil,
                  let order = Record(summary)["order"], !order.isEmpty else { return }
            number = order
        case .failure(let code, let message):
            if code == "not-found", let order = Record(message)["order"], order == number { number = nil }
        }
    }
}
