/// Ctrl-R: incremental search back through the history, as in readline.
extension LineEditor {
    /// A search in progress.
    struct Search: Equatable, Sendable {
        var query = ""
        /// The history entry shown; nil when nothing matches yet.
        var match: Int?
        /// True when the query matches no entry (shown as "failing").
        var isFailing = false
        /// The line and cursor to give back when the search is cancelled.
        var originalCharacters: [Character]
        var originalCursor: Int
    }

    mutating func startSearch() -> Effect {
        search = Search(originalCharacters: characters, originalCursor: cursor)
        return .redraw
    }

    /// Handles a key while searching; nil means "leave the search with the match and handle the key normally".
    mutating func handleSearch(_ key: Key) -> Effect? {
        guard var current = search else { return nil }
        switch key {
        case .text(let text):
            current.query += text
            find(&current, from: current.match ?? history.count - 1)
        case .paste(let text):
            current.query += Self.singleLine(pasted: text)
            find(&current, from: current.match ?? history.count - 1)
        case .backspace, .control("h"):
            guard !current.query.isEmpty else { return .bell }
            current.query.removeLast()
            find(&current, from: history.count - 1)
        case .control("r"):
            guard let match = current.match, !current.query.isEmpty else { return .bell }
            var older = current
            find(&older, from: match - 1)
            if older.isFailing {
                search = current
                return .bell
            }
            current = older
        case .escape, .control("g"), .control("c"):
            characters = current.originalCharacters
            cursor = current.originalCursor
            search = nil
            return .redraw
        case .enter:
            acceptSearch()
            return handle(.enter)
        default:
            acceptSearch()
            return nil
        }
        search = current
        return current.isFailing ? .bell : .redraw
    }

    /// Points `search` at the newest entry at or before `start` containing the query.
    private func find(_ search: inout Search, from start: Int) {
        guard !search.query.isEmpty else {
            search.match = nil
            search.isFailing = false
            return
        }
        var index = min(start, history.count - 1)
        while index >= 0 {
            if history[index].lowercased().contains(search.query.lowercased()) {
                search.match = index
                search.isFailing = false
                return
            }
            index -= 1
        }
        search.isFailing = true
    }

    /// Takes the match (or the original line) as the line being edited.
    private mutating func acceptSearch() {
        guard let current = search else { return }
        search = nil
        if let match = current.match {
            characters = Array(history[match])
            cursor = matchCursor(in: characters, query: current.query)
            historyIndex = nil
        } else {
            characters = current.originalCharacters
            cursor = current.originalCursor
        }
    }

    func searchView(_ search: Search) -> View {
        let label = (search.isFailing ? "(failing search)`" : "(search)`") + search.query + "': "
        guard let match = search.match else { return View(label: label, characters: search.originalCharacters, cursor: 0) }
        let line = Array(history[match])
        return View(label: label, characters: line, cursor: matchCursor(in: line, query: search.query))
    }

    /// The character index where `query` starts in `line` (case-insensitive), or the end.
    private func matchCursor(in line: [Character], query: String) -> Int {
        let text = String(line).lowercased()
        guard let range = text.range(of: query.lowercased()) else { return line.count }
        return min(line.count, text[..<range.lowerBound].count)
    }
}
