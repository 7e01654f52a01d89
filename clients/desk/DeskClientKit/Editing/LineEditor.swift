/// A single-line editor as a pure state machine: keys in, text, cursor and effects out.
///
/// It never touches the terminal; `Screen` draws what `view` says, and the app acts on the
/// returned `Effect`. The text is kept as grapheme clusters (`Character`), so the cursor never
/// lands inside an emoji or between a letter and its combining accent. The keys follow
/// readline's emacs mode: see docs/CLIENT.md, "Keys".
public struct LineEditor: Sendable {
    /// What the app should do after a key.
    public enum Effect: Equatable, Sendable {
        /// Nothing changed on screen.
        case none
        /// The line changed: draw it again.
        case redraw
        /// Enter: the line is done (the editor is empty again).
        case submit(String)
        /// Ctrl-D on an empty line.
        case endOfInput
        /// Ctrl-C on an empty line.
        case interrupt
        /// Nothing to do for that key (no match, no completion): ring the bell.
        case bell
        /// Ctrl-L.
        case clearScreen
        /// Tab with several candidates and no common part to add: list them.
        case showCandidates([String])
    }

    /// What a run of keys (one read from the terminal) did, with its redraws folded into one.
    public struct Batch: Equatable, Sendable {
        /// The effects other than `.redraw` and `.none`, in order.
        public var effects: [Effect] = []
        /// True when the line changed after the last effect that redraws it anyway.
        public var needsRedraw = false
    }

    /// What the screen shows: the text, the cursor, and the search label that replaces the prompt.
    public struct View: Equatable, Sendable {
        /// Shown instead of the prompt while searching history (Ctrl-R).
        public var label: String?
        public var characters: [Character]
        /// Index into `characters` (0...count).
        public var cursor: Int
    }

    public internal(set) var characters: [Character] = []
    /// Index into `characters`, 0...characters.count.
    public internal(set) var cursor = 0
    /// Older first. The app decides what goes in (`remember`).
    public private(set) var history: [String]
    /// Position while walking the history with Up/Down; nil while editing the draft.
    var historyIndex: Int?
    /// The line being typed before Up was pressed, given back by Down.
    var draft: [Character] = []
    /// What Ctrl-U, Ctrl-K, Ctrl-W and Alt-D cut last; Ctrl-Y pastes it.
    var killed: [Character] = []
    /// The Ctrl-R search in progress.
    var search: Search?
    public let historyLimit: Int

    public init(history: [String] = [], historyLimit: Int = 1000) {
        self.history = Array(history.suffix(historyLimit))
        self.historyLimit = historyLimit
    }

    /// The line as text.
    public var text: String { String(characters) }

    /// The text left of the cursor (what completion looks at).
    public var textBeforeCursor: String { String(characters[..<cursor]) }

    public var view: View {
        if let search { return searchView(search) }
        return View(label: nil, characters: characters, cursor: cursor)
    }

    /// Adds a line to the history, skipping a repeat of the newest entry.
    public mutating func remember(_ line: String) {
        guard !line.isEmpty, history.last != line else { return }
        history.append(line)
        if history.count > historyLimit { history.removeFirst(history.count - historyLimit) }
    }

    /// Replaces the line, cursor at the end.
    public mutating func setText(_ text: String) {
        characters = Array(text)
        cursor = characters.count
    }

    /// Handles a run of keys, so the app draws the line once per read instead of once per key
    /// (a pasted or typed-ahead burst costs one redraw).
    public mutating func handle(_ keys: [Key], completer: ((String) -> Completion)? = nil) -> Batch {
        var batch = Batch()
        for key in keys {
            let effect = handle(key, completer: completer)
            switch effect {
            case .none: break
            case .redraw: batch.needsRedraw = true
            case .bell, .endOfInput: batch.effects.append(effect)
            case .submit, .interrupt, .clearScreen, .showCandidates:
                // The app draws the line again after each of these.
                batch.effects.append(effect)
                batch.needsRedraw = false
            }
        }
        return batch
    }

    /// Handles one key. `completer` answers Tab.
    public mutating func handle(_ key: Key, completer: ((String) -> Completion)? = nil) -> Effect {
        if search != nil, let effect = handleSearch(key) { return effect }
        switch key {
        case .text(let text): return insert(text)
        case .paste(let text): return insert(Self.singleLine(pasted: text))
        case .enter: return submit()
        case .tab: return complete(completer)
        case .backspace, .control("h"): return deleteBackward()
        case .delete: return deleteForward()
        case .left, .control("b"): return move(to: cursor - 1)
        case .right, .control("f"): return move(to: cursor + 1)
        case .home, .control("a"): return move(to: 0)
        case .end, .control("e"): return move(to: characters.count)
        case .wordLeft, .alt("b"): return move(to: wordStart(before: cursor))
        case .wordRight, .alt("f"): return move(to: wordEnd(after: cursor))
        case .up, .control("p"): return recall(older: true)
        case .down, .control("n"): return recall(older: false)
        case .control("d"):
            if characters.isEmpty { return .endOfInput }
            return deleteForward()
        case .control("c"):
            if characters.isEmpty { return .interrupt }
            characters = []
            cursor = 0
            historyIndex = nil
            return .redraw
        case .control("u"): return kill(0..<cursor)
        case .control("k"): return kill(cursor..<characters.count)
        case .control("w"): return kill(spaceDelimitedWordStart(before: cursor)..<cursor)
        case .alt("d"): return kill(cursor..<wordEnd(after: cursor))
        case .altBackspace: return kill(wordStart(before: cursor)..<cursor)
        case .control("y"): return killed.isEmpty ? .bell : insert(String(killed))
        case .control("t"): return transpose()
        case .control("l"): return .clearScreen
        case .control("r"): return startSearch()
        default: return .none
        }
    }

    // MARK: Editing

    /// Inserts at the cursor in time proportional to `text`, not to the line: only the
    /// characters on either side can merge with it (a combining mark typed alone joins the
    /// character before it), so only they are split into grapheme clusters again.
    private mutating func insertText(_ text: String) {
        let lower = max(0, cursor - 1)
        let upper = min(characters.count, cursor + 1)
        let left = String(characters[lower..<cursor]) + text
        let merged = Array(left + String(characters[cursor..<upper]))
        characters.replaceSubrange(lower..<upper, with: merged)
        cursor = lower + min(merged.count, Array(left).count)
    }

    /// A paste as one line, since one line is one command: line breaks (LF, CR or CRLF)
    /// become ` / `, tabs become spaces, other control characters are dropped. Blank lines
    /// are left out and, when there are several lines, each is trimmed; a single line is
    /// kept as it was, without its line break. Nothing pasted is ever entered.
    static func singleLine(pasted text: String) -> String {
        var lines: [String] = []
        var line = String.UnicodeScalarView()
        var afterCarriageReturn = false
        for scalar in text.unicodeScalars {
            defer { afterCarriageReturn = scalar == "\r" }
            switch scalar {
            case "\n" where afterCarriageReturn: continue
            case "\r", "\n":
                lines.append(String(line))
                line = String.UnicodeScalarView()
            case "\t": line.append(" ")
            default:
                if DisplayWidth.isControl(scalar) { continue }
                line.append(scalar)
            }
        }
        lines.append(String(line))
        let kept = lines.filter { !$0.trimmingSpaces().isEmpty }
        if lines.count == 1 || kept.isEmpty { return lines.count == 1 ? lines[0] : "" }
        if kept.count == 1 { return kept[0] }
        return kept.map { $0.trimmingSpaces() }.joined(separator: " / ")
    }

    private mutating func insert(_ text: String) -> Effect {
        insertText(text)
        return .redraw
    }

    private mutating func submit() -> Effect {
        let line = text
        characters = []
        cursor = 0
        historyIndex = nil
        draft = []
        return .submit(line)
    }

    private mutating func deleteBackward() -> Effect {
        guard cursor > 0 else { return .bell }
        characters.remove(at: cursor - 1)
        cursor -= 1
        return .redraw
    }

    private mutating func deleteForward() -> Effect {
        guard cursor < characters.count else { return .bell }
        characters.remove(at: cursor)
        return .redraw
    }

    private mutating func move(to position: Int) -> Effect {
        let clamped = max(0, min(characters.count, position))
        guard clamped != cursor else { return .none }
        cursor = clamped
        return .redraw
    }

    private mutating func kill(_ range: Range<Int>) -> Effect {
        guard !range.isEmpty else { return .none }
        killed = Array(characters[range])
        characters.removeSubrange(range)
        cursor = range.lowerBound
        return .redraw
    }

    private mutating func transpose() -> Effect {
        guard characters.count >= 2, cursor > 0 else { return .bell }
        let right = min(cursor, characters.count - 1)
        characters.swapAt(right - 1, right)
        cursor = right + 1
        return .redraw
    }

    // MARK: Words

    private static func isWordCharacter(_ character: Character) -> Bool {
        character.isLetter || character.isNumber || character == "_"
    }

    /// Start of the word left of `position` (letters and digits; readline's Alt-B).
    func wordStart(before position: Int) -> Int {
        var index = position
        while index > 0, !Self.isWordCharacter(characters[index - 1]) { index -= 1 }
        while index > 0, Self.isWordCharacter(characters[index - 1]) { index -= 1 }
        return index
    }

    /// End of the word right of `position` (readline's Alt-F).
    func wordEnd(after position: Int) -> Int {
        var index = position
        while index < characters.count, !Self.isWordCharacter(characters[index]) { index += 1 }
        while index < characters.count, Self.isWordCharacter(characters[index]) { index += 1 }
        return index
    }

    /// Start of the space-delimited word left of `position` (Ctrl-W cuts `SO-10042` whole).
    func spaceDelimitedWordStart(before position: Int) -> Int {
        var index = position
        while index > 0, characters[index - 1] == " " { index -= 1 }
        while index > 0, characters[index - 1] != " " { index -= 1 }
        return index
    }

    // MARK: History

    private mutating func recall(older: Bool) -> Effect {
        guard !history.isEmpty else { return .bell }
        let next: Int?
        switch (historyIndex, older) {
        case (nil, true): next = history.count - 1
        case (nil, false): return .bell
        case (let index?, true):
            guard index > 0 else { return .bell }
            next = index - 1
        case (let index?, false): next = index + 1 < history.count ? index + 1 : nil
        }
        if historyIndex == nil { draft = characters }
        historyIndex = next
        characters = next.map { Array(history[$0]) } ?? draft
        cursor = characters.count
        return .redraw
    }

    // MARK: Completion

    private mutating func complete(_ completer: ((String) -> Completion)?) -> Effect {
        guard let completer else { return .bell }
        let completion = completer(textBeforeCursor)
        let start = max(0, min(cursor, completion.start))
        let typed = String(characters[start..<cursor])
        let candidates = completion.candidates
        guard !candidates.isEmpty else { return .bell }
        if candidates.count == 1 {
            let candidate = candidates[0]
            let isFollowedBySpace = cursor < characters.count && characters[cursor] == " "
            let suffix = candidate.hasSuffix("=") || isFollowedBySpace ? "" : " "
            replace(start..<cursor, with: candidate + suffix)
            return .redraw
        }
        let common = Completion.commonPrefix(of: candidates)
        if common.count > typed.count {
            replace(start..<cursor, with: common)
            return .redraw
        }
        return .showCandidates(candidates)
    }

    private mutating func replace(_ range: Range<Int>, with text: String) {
        characters.removeSubrange(range)
        cursor = range.lowerBound
        insertText(text)
    }
}
