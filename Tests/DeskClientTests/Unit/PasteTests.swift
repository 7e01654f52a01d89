import Testing
@testable import DeskClientKit

/// Pasting: a bracketed paste is text for the line being edited, never commands, and a long
/// one costs work in proportion to its length.
@Suite("Paste")
struct PasteTests {
    private static func bracketed(_ text: String) -> [UInt8] {
        KeyDecoder.pasteStart + Array(text.utf8) + KeyDecoder.pasteEnd
    }

    @Test("a bracketed paste is one key, line breaks and controls included, even split across reads")
    func decoderGathersPaste() {
        var decoder = KeyDecoder()
        let bytes = Array("x".utf8) + Self.bracketed("NOTE a\r\nb\u{1B}[A") + Array("y\r".utf8)
        var keys: [Key] = []
        // One byte per read: the markers themselves are split too.
        for byte in bytes { keys += decoder.feed([byte]) }
        #expect(keys == [.text("x"), .paste("NOTE a\r\nb\u{1B}[A"), .text("y"), .enter])
        #expect(!decoder.isPasting && !decoder.hasPending)
    }

    @Test("a paste whose end never comes is ended on demand with what arrived")
    func unfinishedPaste() {
        var decoder = KeyDecoder()
        #expect(decoder.feed(KeyDecoder.pasteStart + Array("half".utf8)) == [])
        #expect(decoder.isPasting)
        #expect(decoder.flush() == [], "the ESC timeout does not cut a paste")
        #expect(decoder.endPaste() == [.paste("half")])
        #expect(decoder.feed(Array("a".utf8)) == [.text("a")])
    }

    @Test("pasted lines join into the line being edited with ' / '; nothing is entered", arguments: [
        ("one line\n", "one line"),
        ("  keep  my spacing", "  keep  my spacing"),
        ("rush\nAway from the office until Monday.\n", "rush / Away from the office until Monday."),
        ("a\r\n\r\n  b  \r c", "a / b / c"),
        ("tab\there\u{7}", "tab here"),
        ("\n\n", ""),
    ])
    func pasteBecomesOneLine(pasted: String, inserted: String) {
        var editor = LineEditor()
        _ = editor.handle(.text("NOTE SO-1 "))
        let batch = editor.handle([.paste(pasted)])
        #expect(batch.effects.isEmpty, "a paste never submits")
        #expect(editor.text == "NOTE SO-1 " + inserted)
        #expect(editor.cursor == editor.characters.count)
    }

    @Test("a paste goes in at the cursor, and a combining mark pasted alone joins the letter before it")
    func pasteAtCursor() {
        var editor = LineEditor()
        _ = editor.handle(.text("ab"))
        _ = editor.handle(.left)
        _ = editor.handle(.paste("X\nY"))
        #expect(editor.text == "aX / Yb")
        #expect(editor.cursor == 6)
        var accent = LineEditor()
        _ = accent.handle(.text("e"))
        _ = accent.handle(.paste("\u{301}"))
        #expect(accent.characters == ["e\u{301}"])
    }

    // Regression: pasting 8,000 characters froze desk for ~9 s (a full redraw and a quadratic
    // layout per character). Work is counted, not timed.
    @Test("8,000 pasted characters: one key, one redraw, and a layout that measures only what is shown")
    func longPasteIsLinear() {
        let text = String(repeating: "0123456789 abcdefghi\n", count: 400)  // 8,400 characters, 400 lines
        let bytes = Self.bracketed(text)
        var decoder = KeyDecoder()
        var editor = LineEditor()
        let screen = Screen(prompt: "ana> ", columns: 80)
        var redraws = 0
        var submits = 0
        var measured = 0
        var index = 0
        while index < bytes.count {
            // Reads of 64 bytes, as a terminal might deliver them.
            let chunk = bytes[index..<min(bytes.count, index + 64)]
            index += 64
            let batch = editor.handle(decoder.feed(chunk))
            submits += batch.effects.filter { if case .submit = $0 { true } else { false } }.count
            if batch.needsRedraw {
                redraws += 1
                measured += screen.layout(editor.view).measuredCharacters
            }
        }
        #expect(submits == 0)
        #expect(redraws == 1)
        #expect(editor.characters.count == 400 * 20 + 399 * 3)
        #expect(measured <= 2 * 80, "the layout measures about a screen's width, not the whole line")
        let layout = screen.layout(editor.view)
        #expect(DisplayWidth.of(layout.text) + 5 <= 79)
        #expect(layout.text.hasSuffix("abcdefghi"))
    }

    @Test("typing 8,000 characters one read each: a redraw per read, each measuring a bounded amount")
    func longTypingIsLinear() {
        var editor = LineEditor()
        let screen = Screen(prompt: "ana> ", columns: 80)
        var measured = 0
        var widest = 0
        for index in 0..<8000 {
            let batch = editor.handle([.text(String(index % 10))])
            #expect(batch.needsRedraw)
            let work = screen.layout(editor.view).measuredCharacters
            measured += work
            widest = max(widest, work)
        }
        #expect(widest <= 2 * 80)
        #expect(measured <= 8000 * 2 * 80, "linear in the characters typed; the old layout measured ~32 million for one redraw of this line")
        // The cursor in the middle of the long line: still bounded.
        for _ in 0..<4000 { _ = editor.handle(.left) }
        #expect(screen.layout(editor.view).measuredCharacters <= 2 * 80)
    }
}
