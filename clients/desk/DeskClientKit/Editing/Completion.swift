/// What Tab may put in place of the word being typed.
public struct Completion: Equatable, Sendable {
    /// Character offset in the line where the word being completed starts.
    public var start: Int
    /// Whole words that may replace it, sorted.
    public var candidates: [String]

    public init(start: Int, candidates: [String]) {
        self.start = start
        self.candidates = candidates
    }

    /// The longest prefix all `words` share (compared as typed).
    public static func commonPrefix(of words: [String]) -> String {
        guard var prefix = words.first.map(Array.init) else { return "" }
        for word in words.dropFirst() {
            let characters = Array(word)
            var length = 0
            while length < prefix.count, length < characters.count, prefix[length] == characters[length] { length += 1 }
            prefix = Array(prefix[..<length])
        }
        return String(prefix)
    }
}
