/// The chat screen's bytes: what to write to redraw the input line, to print lines above it,
/// and to leave an entered line in the scrollback.
///
/// The input line is always the terminal's last line. Printing above it is
/// `\r ESC[K` + lines + `\n`, then the prompt and the half-typed text again with the cursor
/// where it was, so a push never breaks what is being typed. A line wider than the terminal
/// scrolls sideways to keep the cursor in view instead of wrapping. Pure: tests read the
/// bytes, the app writes them.
///
/// With a `status` line, it sits on the terminal's last line, under the input line: each
/// redraw writes it below and moves back up, and printing clears both lines (`ESC[J`) before
/// the lines above are written, so the status never lands in the scrollback.
public struct Screen: Sendable {
    /// The prompt as plain text (its width is measured from this).
    public var prompt: String
    /// The prompt as written, with colour if any.
    public var styledPrompt: String
    public var columns: Int
    /// The status line as written (colour included; the caller fits it to `columns - 1`), or nil for none.
    public var status: String?

    public init(prompt: String, styledPrompt: String? = nil, columns: Int) {
        self.prompt = prompt
        self.styledPrompt = styledPrompt ?? prompt
        self.columns = columns
    }

    /// The visible part of the line and the cursor's column (0-based).
    public struct Layout: Equatable, Sendable {
        public var label: String
        public var text: String
        public var cursorColumn: Int
        /// Characters whose width was measured to lay the line out: at most about twice the
        /// terminal's width, however long the line (tests hold it to that).
        var measuredCharacters = 0
    }

    public func layout(_ view: LineEditor.View) -> Layout {
        let width = max(columns, 8)
        var label = view.label ?? prompt
        if DisplayWidth.of(label) > width / 2 { label = DisplayWidth.truncated(label, to: width / 2) }
        let labelWidth = DisplayWidth.of(label)
        // One column stays free so the cursor never sits past the edge (no pending wrap).
        let available = width - 1 - labelWidth
        let characters = view.characters
        let cursor = max(0, min(view.cursor, characters.count))
        var measured = 0
        // Back from the cursor as far as fits (one column kept for the cursor itself), then on
        // to the edge: only what is shown is measured, so a long line costs no more than a short one.
        var start = cursor
        var beforeCursor = 0
        while start > 0 {
            let width = DisplayWidth.of(characters[start - 1])
            measured += 1
            if beforeCursor + width > available - 1 { break }
            beforeCursor += width
            start -= 1
        }
        var end = cursor
        var used = beforeCursor
        while end < characters.count {
            let width = DisplayWidth.of(characters[end])
            measured += 1
            if used + width > available { break }
            used += width
            end += 1
        }
        return Layout(label: label, text: String(characters[start..<end]), cursorColumn: labelWidth + beforeCursor,
                      measuredCharacters: measured)
    }

    /// Redraws the input line in place.
    public func redraw(_ view: LineEditor.View) -> String {
        let layout = layout(view)
        let label = view.label == nil && layout.label == prompt ? styledPrompt : layout.label
        let statusBelow = status.map { "\n\r" + Self.clean($0) + "\u{1B}[K\u{1B}[A" } ?? ""
        return "\r" + label + layout.text + "\u{1B}[K" + statusBelow + "\r" + (layout.cursorColumn > 0 ? "\u{1B}[\(layout.cursorColumn)C" : "")
    }

    /// Clears the input line (and the status line under it) from the start of the input line.
    private var clearInput: String { status == nil ? "\r\u{1B}[K" : "\r\u{1B}[J" }

    /// Clears the input and status lines, for leaving the screen.
    public var clearBeforeLeaving: String { "\r\u{1B}[J" }

    /// Prints `lines` above the input line, then redraws it as it was.
    public func print(_ lines: [String], then view: LineEditor.View) -> String {
        guard !lines.isEmpty else { return redraw(view) }
        let body = lines.map(Self.clean).joined(separator: "\n")
        return clearInput + body + "\n" + redraw(view)
    }

    /// Leaves the entered line on screen as typed and starts a fresh input line below it.
    public func commit(_ line: String) -> String {
        clearInput + styledPrompt + Self.clean(line) + "\n"
    }

    /// Carriage returns from the wire would move the cursor home and garble the screen.
    static func clean(_ line: String) -> String {
        guard line.unicodeScalars.contains("\r") else { return line }
        return String(String.UnicodeScalarView(line.unicodeScalars.filter { $0 != "\r" }))
    }
}
