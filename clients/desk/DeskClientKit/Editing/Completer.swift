/// Finds Tab candidates: command names, and for arguments the order numbers, user names and
/// queue names seen this session, or the choices a command's usage spells out.
///
/// Which kind of word an argument is comes from the command's usage line in the server's
/// HELP (`REASSIGN <number> <user|nobody> <reason>`), so the client keeps no copy of the
/// command table. Words are matched case-insensitively; a command name keeps the case the
/// user started typing in.
public struct Completer: Sendable {
    /// Command names (upper-case, as HELP lists them) and their usage lines.
    public var commands: [String: String] = [:]
    /// Commands the client answers itself (`help`, `quit`).
    public var localCommands: [String] = []
    public var vocabulary = Vocabulary()
    /// The current order (`CurrentOrder`): a command that takes a number first may leave it out,
    /// so its other arguments complete as if it were there.
    public var currentOrder: String?

    public init() {}

    /// Candidates for the word that ends `line` (the text left of the cursor).
    public func complete(_ line: String) -> Completion {
        let characters = Array(line)
        var start = characters.count
        while start > 0, characters[start - 1] != " " { start -= 1 }
        let word = String(characters[start...])
        let earlier = characters[..<start].split(separator: " ").map { String($0) }
        guard let commandWord = earlier.first else { return Completion(start: start, candidates: commandNames(matching: word)) }
        if word.hasPrefix("@") {
            return Completion(start: start + 1, candidates: Self.matching(String(word.dropFirst()), in: vocabulary.users))
        }
        guard let usage = commands[commandWord.uppercased()] else {
            // A command the server did not list: offer what is likely.
            return Completion(start: start, candidates: Self.matching(word, in: vocabulary.orders.union(vocabulary.users)))
        }
        if let current = currentOrder, CurrentOrder.numberFirst(inUsage: usage)?.hasMoreArguments == true {
            if earlier.count == 1 {
                // The first argument: an order, or what comes after the number left out.
                let after = candidates(for: word, after: [commandWord, current], usage: usage)
                return Completion(start: start, candidates: Array(Set(Self.matching(word, in: vocabulary.orders) + after)).sorted())
            }
            let first = earlier[1]
            if first == CurrentOrder.marker {
                return Completion(start: start, candidates: candidates(for: word, after: [commandWord, current] + earlier.dropFirst(2), usage: usage))
            }
            if !CurrentOrder.isOrderReference(first, known: vocabulary.orders) {
                return Completion(start: start, candidates: candidates(for: word, after: [commandWord, current] + earlier.dropFirst(), usage: usage))
            }
        }
        return Completion(start: start, candidates: candidates(for: word, after: earlier, usage: usage))
    }

    /// Candidates for `word` when `earlier` (the command and the arguments before it) came first.
    private func candidates(for word: String, after earlier: [String], usage: String) -> [String] {
        // Past the last argument, the last one goes on (free text runs to the end of the line).
        let argumentCount = usage.split(separator: " ").count - 1
        let placeholder = argumentCount == 0 ? nil : Self.placeholder(in: usage, at: min(earlier.count - 1, argumentCount - 1))
        if placeholder == "type", earlier.count == 2 {
            // `UNHOLD <number> <type>`: the order's open holds when known, else every hold type.
            let order = earlier[1].uppercased()
            let open = vocabulary.openHolds[order].flatMap { $0.isEmpty ? nil : $0 } ?? holdTypes
            return Self.matching(word, in: open)
        }
        return Self.matching(word, in: words(for: placeholder))
    }

    /// Every hold type, as `HOLD`'s usage line spells them out (`<credit|pricing|...>`).
    private var holdTypes: Set<String> {
        guard let usage = commands["HOLD"], let choices = Self.placeholder(in: usage, at: 1) else { return [] }
        return Set(choices.split(separator: "|").map(String.init))
    }

    private func commandNames(matching prefix: String) -> [String] {
        let isLowercase = !prefix.isEmpty && prefix == prefix.lowercased()
        let names = commands.keys.map { isLowercase ? $0.lowercased() : $0 } + localCommands
        return Self.matching(prefix, in: Set(names))
    }

    /// The words that fit an argument described by `placeholder` (`number`, `user|nobody`, ...).
    private func words(for placeholder: String?) -> Set<String> {
        guard let placeholder else { return [] }
        let choices = placeholder.split(separator: "|").map(String.init)
        var words: Set<String> = []
        for choice in choices {
            switch choice {
            case "number": words.formUnion(vocabulary.orders)
            case "user": words.formUnion(vocabulary.users)
            case "queue": words.formUnion(vocabulary.queues)
            case "command": words.formUnion(commands.keys)
            default:
                // Spelled-out choices (`credit|pricing|...`, `nobody`) are words to offer;
                // a lone unknown name (`<reason>`, `[limit]`) is free text: nothing to offer.
                if choices.count > 1 { words.insert(choice) }
            }
        }
        return words
    }

    /// The inside of the `index`th argument of a usage line when it is one `<...>` or `[...]`
    /// word (`REASSIGN <number> <user|nobody> <reason>`); nil for anything else.
    static func placeholder(in usage: String, at index: Int) -> String? {
        let words = usage.split(separator: " ").dropFirst()
        guard index >= 0, index < words.count else { return nil }
        let word = words[words.index(words.startIndex, offsetBy: index)]
        let isBracketed = (word.hasPrefix("<") && word.hasSuffix(">")) || (word.hasPrefix("[") && word.hasSuffix("]"))
        guard isBracketed, word.count > 2, !word.contains("=") else { return nil }
        return String(word.dropFirst().dropLast())
    }

    private static func matching(_ prefix: String, in words: Set<String>) -> [String] {
        let lowered = prefix.lowercased()
        return words.filter { $0.lowercased().hasPrefix(lowered) }.sorted()
    }
}
