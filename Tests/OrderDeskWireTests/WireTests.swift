import Testing
@testable import OrderDeskWire

@Suite("Line framing")
struct LineFramerTests {
    @Test("LF and CRLF end lines; the CR is dropped")
    func lineEnds() {
        var framer = LineFramer(maximumLineLength: 16)
        #expect(framer.append(Array("PING\nHELP\r\n".utf8)) == [.line("PING"), .line("HELP")])
    }

    @Test("reading a buffer at once frames exactly as byte by byte: random streams, random reads, limits 1 to 8")
    func contiguousMatchesByteByByte() {
        var random = SplitMix(seed: 0x5EED)
        // Few distinct bytes, so line ends, CRs, limits and invalid UTF-8 meet often.
        let alphabet: [UInt8] = [0x0A, 0x0A, 0x0D, 0x0D, 0x41, 0x42, 0xC3, 0xA9, 0xFF]
        for _ in 0..<3_000 {
            let limit = Int(random.next() % 8) + 1
            let stream = (0..<Int(random.next() % 40)).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] }
            var whole = LineFramer(maximumLineLength: limit), single = LineFramer(maximumLineLength: limit)
            var wholeFrames: [LineFramer.Frame] = [], singleFrames: [LineFramer.Frame] = []
            var start = 0
            while start < stream.count {
                let end = min(stream.count, start + Int(random.next() % 7) + 1)
                let read = Array(stream[start..<end])
                wholeFrames += read.withUnsafeBufferPointer { whole.appendContiguous($0) }
                singleFrames += single.appendByteByByte(read)
                #expect(whole.bufferedByteCount == single.bufferedByteCount)
                #expect(whole.bufferedByteCount <= limit + 1, "never more than the limit and a CR held")
                start = end
            }
            #expect(wholeFrames == singleFrames, "limit \(limit), stream \(stream)")
        }
    }

    /// SplitMix64, so the test's streams are the same on every run.
    struct SplitMix {
        var state: UInt64
        init(seed: UInt64) { state = seed }
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    @Test("a line split across reads is joined")
    func splitAcrossReads() {
        var framer = LineFramer(maximumLineLength: 16)
        #expect(framer.append(Array("PI".utf8)) == [])
        #expect(framer.append(Array("NG\n".utf8)) == [.line("PING")])
    }

    @Test("an overlong line is reported once at its newline and the next line still works")
    func overlong() {
        var framer = LineFramer(maximumLineLength: 8)
        #expect(framer.append(Array("0123456789".utf8)) == [])
        #expect(framer.bufferedByteCount == 0)
        #expect(framer.append(Array("abcdef\nPING\n".utf8)) == [.tooLong, .line("PING")])
    }

    @Test("a line of exactly the limit, with or without CR, passes")
    func exactlyAtLimit() {
        var framer = LineFramer(maximumLineLength: 4)
        #expect(framer.append(Array("ABCD\nABCD\r\nABCDE\n".utf8)) == [.line("ABCD"), .line("ABCD"), .tooLong])
    }

    @Test("invalid UTF-8 is reported and dropped")
    func invalidUTF8() {
        var framer = LineFramer(maximumLineLength: 16)
        #expect(framer.append([0x41, 0xFF, 0x42, 0x0A, 0x43, 0x0A]) == [.invalidUTF8, .line("C")])
    }

    @Test("multi-byte UTF-8 split between reads is kept whole")
    func utf8Split() {
        var framer = LineFramer(maximumLineLength: 16)
        let bytes = Array("é\n".utf8)
        #expect(framer.append(bytes[..<1]) == [])
        #expect(framer.append(bytes[1...]) == [.line("é")])
    }
}

@Suite("Tokenizing and quoting")
struct TokenizerTests {
    @Test("words, fields and quoted strings", arguments: [
        ("NOTE SO-1 hi", [nil, nil, nil], ["NOTE", "SO-1", "hi"]),
        ("CAPTURE customer=\"Acme Corp\" rep=sam", [nil, "customer", "rep"], ["CAPTURE", "Acme Corp", "sam"]),
        ("A \"x \\\"y\\\" \\\\ \\n\"", [nil, nil], ["A", "x \"y\" \\ \n"]),
        ("  spaced   out  ", [nil, nil], ["spaced", "out"]),
        ("k=", ["k"], [""]),
    ] as [(String, [String?], [String])])
    func tokens(line: String, keys: [String?], values: [String]) throws {
        let tokens = try Tokenizer.tokens(line)
        #expect(tokens.map(\.key) == keys)
        #expect(tokens.map(\.value) == values)
    }

    @Test("malformed quoting is refused", arguments: [
        ("NOTE \"open", TokenizeError.unterminatedQuote),
        ("NOTE \"bad \\q\"", .badEscape),
        ("NOTE \"x\"y", .unterminatedQuote),
        ("NOTE a\u{01}b", .controlCharacter),
    ])
    func malformed(line: String, error: TokenizeError) {
        #expect(throws: error) { try Tokenizer.tokens(line) }
    }

    @Test("quoting round-trips through the tokenizer", arguments: ["plain", "two words", "", "a=b", "quote \" and \\ back", "tab\tnew\nline", "naïve café 東京"])
    func roundTrip(text: String) throws {
        let line = "X " + Quoting.field("k", text)
        let tokens = try Tokenizer.tokens(line)
        #expect(tokens.count == 2)
        #expect(tokens[1].key == "k")
        #expect(tokens[1].value == text)
    }

    @Test("free text is the rest of the line, or one quoted string")
    func freeText() throws {
        #expect(try Tokenizer.freeText("NOTE SO-1  hello there  ", from: 10) == "hello there")
        #expect(try Tokenizer.freeText("NOTE SO-1 \"a \\\"b\\\"\"", from: 9) == "a \"b\"")
        #expect(throws: TokenizeError.unterminatedQuote) { try Tokenizer.freeText("NOTE SO-1 \"a\" b", from: 9) }
    }

    @Test("server lines are classified by their first word")
    func serverLines() {
        #expect(ServerLine("OK order=SO-1") == .ok("order=SO-1"))
        #expect(ServerLine("ERR not-found order=SO-9 no such order") == .error(code: "not-found", message: "order=SO-9 no such order"))
        #expect(ServerLine("* line sku=A") == .data("line sku=A"))
        #expect(ServerLine("EVENT 7 note order=SO-1 by=ana text=\"hi there\"") == .event(id: 7, kind: "note", fields: ["order": "SO-1", "by": "ana", "text": "hi there"]))
        #expect(ServerLine("OKAY") == .unknown("OKAY"))
    }
}
