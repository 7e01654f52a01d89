import Testing
@testable import DeskClientKit

@Suite("KeyDecoder")
struct KeyDecoderTests {
    private static func escape(_ text: String) -> [UInt8] { [0x1B] + Array(text.utf8) }

    static let table: [([UInt8], [Key])] = [
        (Array("ab".utf8), [.text("ab")]),
        ([0x0D], [.enter]), ([0x0A], [.enter]), ([0x09], [.tab]), ([0x7F], [.backspace]), ([0x08], [.backspace]),
        ([0x01], [.control("a")]), ([0x05], [.control("e")]), ([0x12], [.control("r")]), ([0x17], [.control("w")]),
        (escape("[A"), [.up]), (escape("[B"), [.down]), (escape("[C"), [.right]), (escape("[D"), [.left]),
        (escape("[H"), [.home]), (escape("[F"), [.end]), (escape("OH"), [.home]), (escape("OF"), [.end]),
        (escape("OA"), [.up]), (escape("[1~"), [.home]), (escape("[7~"), [.home]), (escape("[4~"), [.end]),
        (escape("[8~"), [.end]), (escape("[3~"), [.delete]),
        (escape("[1;5C"), [.wordRight]), (escape("[1;5D"), [.wordLeft]), (escape("[1;3D"), [.wordLeft]), (escape("[1;2C"), [.right]),
        (escape("b"), [.alt("b")]), (escape("f"), [.alt("f")]), (escape("d"), [.alt("d")]), ([0x1B, 0x7F], [.altBackspace]),
        (escape("[200~") + Array("a\r".utf8) + escape("[201~"), [.paste("a\r")]), (escape("[201~"), [.unknown]),
        (Array("é中😀".utf8), [.text("é中😀")]),
        (Array("a".utf8) + escape("[D") + Array("b".utf8), [.text("a"), .left, .text("b")]),
        ([0xFF, 0x61], [.text("a")]),
        (escape("OP"), [.function(1)]), (escape("OQ"), [.function(2)]), (escape("OS"), [.function(4)]),
        (escape("[12~"), [.function(2)]), (escape("[15~"), [.function(5)]), (escape("[17~"), [.function(6)]),
        (escape("[21~"), [.function(10)]), (escape("[24~"), [.function(12)]), (escape("[16~"), [.unknown]),
    ]

    @Test("bytes to keys", arguments: table)
    func decodes(bytes: [UInt8], keys: [Key]) {
        var decoder = KeyDecoder()
        #expect(decoder.feed(bytes) == keys)
        #expect(!decoder.hasPending)
    }

    @Test("a sequence split across reads waits for its end")
    func splitSequence() {
        var decoder = KeyDecoder()
        #expect(decoder.feed([0x1B]) == [])
        #expect(decoder.hasPending)
        #expect(decoder.feed(Array("[1;5".utf8)) == [])
        #expect(decoder.feed(Array("D".utf8)) == [.wordLeft])
    }

    @Test("a UTF-8 character split across reads comes out whole")
    func splitCharacter() {
        var decoder = KeyDecoder()
        let bytes = Array("中".utf8)
        #expect(decoder.feed(bytes[..<2]) == [])
        #expect(decoder.feed(bytes[2...]) == [.text("中")])
    }

    @Test("a lone ESC is a key once flushed")
    func loneEscape() {
        var decoder = KeyDecoder()
        #expect(decoder.feed([0x1B]) == [])
        #expect(decoder.flush() == [.escape])
        #expect(!decoder.hasPending)
    }
}
