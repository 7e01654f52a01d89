import Testing
@testable import DeskClientKit

@Suite("DisplayWidth")
struct DisplayWidthTests {
    static let characters: [(Character, Int)] = [
        ("a", 1), ("~", 1), ("é", 1), ("e\u{301}", 1), ("中", 2), ("한", 2), ("ア", 2), ("ｱ", 1), ("Ａ", 2),
        ("😀", 2), ("👍🏽", 2), ("👨‍👩‍👧", 2), ("🇫🇷", 2), ("❤", 1), ("❤️", 2), ("\u{200B}", 0), ("\u{301}", 0), ("\u{7}", 0),
    ]

    @Test("columns per grapheme cluster", arguments: characters)
    func width(of character: Character, columns: Int) {
        #expect(DisplayWidth.of(character) == columns)
    }

    @Test("a string's width is the sum of its clusters")
    func stringWidth() {
        #expect(DisplayWidth.of("ab中😀e\u{301}") == 7)
        #expect(DisplayWidth.of("") == 0)
    }

    @Test("cutting and padding count columns, not characters")
    func truncateAndPad() {
        #expect(DisplayWidth.truncated("中文字", to: 4) == "中…")
        #expect(DisplayWidth.truncated("中文", to: 4) == "中文")
        #expect(DisplayWidth.truncated("abcdef", to: 4) == "abc…")
        #expect(DisplayWidth.padded("中", to: 4) == "中  ")
        #expect(DisplayWidth.padded("中", to: 4, alignRight: true) == "  中")
    }
}
