import Testing
@testable import DeskClientKit

@Suite("Screen")
struct ScreenTests {
    private func view(_ text: String, cursor: Int? = nil) -> LineEditor.View {
        let characters = Array(text)
        return LineEditor.View(label: nil, characters: characters, cursor: cursor ?? characters.count)
    }

    @Test("the cursor column counts wide and combining characters by their width")
    func cursorColumn() {
        let screen = Screen(prompt: "ana> ", columns: 80)
        #expect(screen.layout(view("中文ab", cursor: 2)).cursorColumn == 9)
        #expect(screen.layout(view("e\u{301}x", cursor: 1)).cursorColumn == 6)
        #expect(screen.layout(view("😀😀", cursor: 1)).cursorColumn == 7)
    }

    @Test("a redraw is CR, prompt, text, erase to end of line, then the cursor put back")
    func redrawBytes() {
        let screen = Screen(prompt: "ana> ", styledPrompt: "\u{1B}[1mana\u{1B}[0m> ", columns: 80)
        #expect(screen.redraw(view("中文ab", cursor: 2)) == "\r\u{1B}[1mana\u{1B}[0m> 中文ab\u{1B}[K\r\u{1B}[9C")
        #expect(screen.redraw(LineEditor.View(label: nil, characters: [], cursor: 0)) == "\r\u{1B}[1mana\u{1B}[0m> \u{1B}[K\r\u{1B}[5C")
    }

    @Test("printing above the input line clears it, prints, and redraws the half-typed text")
    func printAbove() {
        let screen = Screen(prompt: "> ", columns: 80)
        let text = screen.print(["14:05 SO-1 ben: hi", "second\r line"], then: view("NOTE SO-1 ha", cursor: 5))
        #expect(text == "\r\u{1B}[K14:05 SO-1 ben: hi\nsecond line\n" + screen.redraw(view("NOTE SO-1 ha", cursor: 5)))
        #expect(text.hasSuffix("\r\u{1B}[7C"))
    }

    @Test("a line wider than the terminal scrolls sideways to keep the cursor in view")
    func horizontalScroll() {
        let screen = Screen(prompt: "> ", columns: 20)
        let long = String(repeating: "abcdefghij", count: 4)
        let atEnd = screen.layout(view(long))
        #expect(atEnd.text.hasSuffix("ghij"))
        #expect(atEnd.cursorColumn <= 19)
        #expect(2 + DisplayWidth.of(atEnd.text) <= 19)
        let atStart = screen.layout(view(long, cursor: 0))
        #expect(atStart.text.hasPrefix("abc"))
        #expect(atStart.cursorColumn == 2)
        let wide = screen.layout(view(String(repeating: "中", count: 20)))
        #expect(2 + DisplayWidth.of(wide.text) <= 19)
        #expect(wide.cursorColumn == 2 + DisplayWidth.of(wide.text))
    }

    @Test("an entered line stays above as typed")
    func commit() {
        let screen = Screen(prompt: "ana> ", columns: 80)
        #expect(screen.commit("PING") == "\r\u{1B}[Kana> PING\n")
    }

    @Test("with a status line: drawn under the input line, the cursor back up; printing clears both first")
    func statusLine() {
        var screen = Screen(prompt: "ana> ", columns: 80)
        screen.status = "● online · no claims"
        #expect(screen.redraw(view("NOTE")) == "\r" + "ana> NOTE\u{1B}[K" + "\n\r● online · no claims\u{1B}[K\u{1B}[A" + "\r\u{1B}[9C")
        #expect(screen.print(["hello"], then: view("")).hasPrefix("\r\u{1B}[Jhello\n"))
        #expect(screen.commit("PING") == "\r\u{1B}[Jana> PING\n")
    }
}
