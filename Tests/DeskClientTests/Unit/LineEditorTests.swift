import Testing
@testable import DeskClientKit

@Suite("LineEditor")
struct LineEditorTests {
    /// An editor after typing `text`.
    private func editor(_ text: String, history: [String] = []) -> LineEditor {
        var editor = LineEditor(history: history)
        _ = editor.handle(.text(text))
        return editor
    }

    @Test("inserting in the middle, moving, home and end")
    func insertAndMove() {
        var editor = editor("hello")
        #expect(editor.handle(.left) == .redraw)
        _ = editor.handle(.left)
        _ = editor.handle(.text("X"))
        #expect(editor.text == "helXlo")
        #expect(editor.cursor == 4)
        _ = editor.handle(.control("a"))
        #expect(editor.cursor == 0)
        #expect(editor.handle(.left) == .none)
        _ = editor.handle(.end)
        #expect(editor.cursor == 6)
        _ = editor.handle(.home)
        _ = editor.handle(.control("e"))
        #expect(editor.cursor == 6)
    }

    @Test("word moves stop at letters and digits, like readline")
    func wordMoves() {
        var editor = editor("NOTE SO-10042 hello")
        var stops: [Int] = []
        for _ in 0..<4 {
            _ = editor.handle(.alt("b"))
            stops.append(editor.cursor)
        }
        #expect(stops == [14, 8, 5, 0])
        stops = []
        for _ in 0..<4 {
            _ = editor.handle(.wordRight)
            stops.append(editor.cursor)
        }
        #expect(stops == [4, 7, 13, 19])
    }

    @Test("backspace and delete; the bell at either end")
    func deleting() {
        var editor = editor("abc")
        #expect(editor.handle(.delete) == .bell)
        #expect(editor.handle(.backspace) == .redraw)
        #expect(editor.text == "ab")
        _ = editor.handle(.home)
        #expect(editor.handle(.backspace) == .bell)
        #expect(editor.handle(.delete) == .redraw)
        #expect(editor.text == "b")
        #expect(editor.handle(.control("d")) == .redraw)
        #expect(editor.text == "")
        #expect(editor.handle(.control("d")) == .endOfInput)
    }

    @Test("Ctrl-W cuts a whole order number, Ctrl-U and Ctrl-K cut to the ends, Ctrl-Y pastes")
    func killAndYank() {
        var editor = editor("ORDER SO-10042")
        _ = editor.handle(.control("w"))
        #expect(editor.text == "ORDER ")
        _ = editor.handle(.control("y"))
        #expect(editor.text == "ORDER SO-10042")
        _ = editor.handle(.wordLeft)
        _ = editor.handle(.control("k"))
        #expect(editor.text == "ORDER SO-")
        _ = editor.handle(.control("u"))
        #expect(editor.text == "")
        #expect(editor.cursor == 0)
        _ = editor.handle(.control("y"))
        #expect(editor.text == "ORDER SO-")
    }

    @Test("Up and Down walk the history and give the draft back")
    func history() {
        var editor = editor("draft", history: ["QUEUE new", "ORDER SO-1"])
        _ = editor.handle(.up)
        #expect(editor.text == "ORDER SO-1")
        _ = editor.handle(.up)
        #expect(editor.text == "QUEUE new")
        #expect(editor.handle(.up) == .bell)
        _ = editor.handle(.down)
        _ = editor.handle(.down)
        #expect(editor.text == "draft")
        #expect(editor.handle(.down) == .bell)
    }

    @Test("remember skips a repeat of the newest entry and keeps the limit")
    func remember() {
        var editor = LineEditor(history: [], historyLimit: 2)
        editor.remember("A")
        editor.remember("A")
        editor.remember("B")
        editor.remember("C")
        #expect(editor.history == ["B", "C"])
    }

    @Test("Enter submits and empties the line")
    func submit() {
        var editor = editor("PING")
        #expect(editor.handle(.enter) == .submit("PING"))
        #expect(editor.text == "")
        #expect(editor.cursor == 0)
    }

    @Test("Ctrl-C clears a line, and on an empty line asks to interrupt")
    func interrupt() {
        var editor = editor("half")
        #expect(editor.handle(.control("c")) == .redraw)
        #expect(editor.text == "")
        #expect(editor.handle(.control("c")) == .interrupt)
    }

    @Test("Ctrl-R finds older matches, Enter runs the match")
    func reverseSearch() {
        var editor = LineEditor(history: ["QUEUE new", "ORDER SO-1", "NOTE SO-1 hi", "WHO"])
        _ = editor.handle(.control("r"))
        _ = editor.handle(.text("so-1"))
        #expect(editor.view.label == "(search)`so-1': ")
        #expect(String(editor.view.characters) == "NOTE SO-1 hi")
        #expect(editor.view.cursor == 5)
        #expect(editor.handle(.control("r")) == .redraw)
        #expect(String(editor.view.characters) == "ORDER SO-1")
        #expect(editor.handle(.control("r")) == .bell)
        #expect(String(editor.view.characters) == "ORDER SO-1")
        #expect(editor.handle(.enter) == .submit("ORDER SO-1"))
    }

    @Test("Ctrl-R: a failing query says so; Ctrl-G gives the line back; an arrow takes the match for editing")
    func reverseSearchEnds() {
        var editor = LineEditor(history: ["ORDER SO-1"])
        _ = editor.handle(.text("typed"))
        _ = editor.handle(.control("r"))
        #expect(editor.handle(.text("zzz")) == .bell)
        #expect(editor.view.label == "(failing search)`zzz': ")
        _ = editor.handle(.control("g"))
        #expect(editor.view.label == nil)
        #expect(editor.text == "typed")
        _ = editor.handle(.control("r"))
        _ = editor.handle(.text("order"))
        #expect(editor.handle(.end) == .redraw)
        #expect(editor.view.label == nil)
        #expect(editor.text == "ORDER SO-1")
        #expect(editor.cursor == 10)
    }

    @Test("a combining accent typed alone joins its letter; backspace removes both")
    func combiningCharacters() {
        var editor = editor("e")
        _ = editor.handle(.text("\u{301}"))
        #expect(editor.characters.count == 1)
        #expect(editor.text == "e\u{301}")
        #expect(editor.cursor == 1)
        _ = editor.handle(.backspace)
        #expect(editor.text == "")
    }

    @Test("an emoji family is one character to the cursor")
    func emojiSequence() {
        var editor = editor("a👨‍👩‍👧b")
        #expect(editor.characters.count == 3)
        _ = editor.handle(.left)
        _ = editor.handle(.backspace)
        #expect(editor.text == "ab")
    }

    @Test("Tab: one candidate completes with a space, several complete their common part, then list")
    func completion() {
        let completer: (String) -> Completion = { before in
            let start = (before.lastIndex(of: " ").map { before.distance(from: before.startIndex, to: $0) + 1 }) ?? 0
            let word = String(before.dropFirst(start))
            return Completion(start: start, candidates: ["SO-4242", "SO-4243", "WHO"].filter { $0.hasPrefix(word.uppercased()) })
        }
        var editor = editor("wh")
        #expect(editor.handle(.tab, completer: completer) == .redraw)
        #expect(editor.text == "WHO ")
        editor = self.editor("ORDER S")
        _ = editor.handle(.tab, completer: completer)
        #expect(editor.text == "ORDER SO-424")
        #expect(editor.handle(.tab, completer: completer) == .showCandidates(["SO-4242", "SO-4243"]))
        editor = self.editor("ORDER X")
        #expect(editor.handle(.tab, completer: completer) == .bell)
        #expect(editor.handle(.tab) == .bell, "no completer, no completion")
    }
}
