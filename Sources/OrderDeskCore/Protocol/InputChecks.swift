import OrderDeskWire

/// Properties that must hold for any bytes a peer sends; the fuzzer (orderdesk-fuzz) and the
/// regression tests run every input through `check`, which traps when one is broken (with
/// `fatalError`, whose message optimized fuzz builds print too, unlike `precondition`'s).
public enum InputChecks {
    /// Frames `bytes` (split at a point the input chooses), parses every line, and checks that
    /// the framer stays within its limit, that quoting round-trips every token, and that the
    /// ERR line for a line that does not parse is one line.
    public static func check(_ bytes: [UInt8], maximumLineLength: Int = 256) {
        var framer = LineFramer(maximumLineLength: maximumLineLength)
        let parser = CommandParser()
        let split = bytes.isEmpty ? 0 : Int(bytes[0]) % (bytes.count + 1)
        let frames = framer.append(bytes[..<split]) + framer.append(bytes[split...])
        if framer.bufferedByteCount > maximumLineLength + 1 { fatalError("framer holds more than the limit") }
        for case .line(let line) in frames {
            if case .failure(let error) = parser.parse(line) {
                let wire = Reply.failure(error).wireText
                if wire.utf8.dropLast().contains(where: { $0 < 0x20 || $0 == 0x7F }) { fatalError("ERR line is not one line: \(wire.debugDescription)") }
            }
            _ = ServerLine(line)
            if let tokens = try? Tokenizer.tokens(line) {
                for token in tokens {
                    let again = try? Tokenizer.tokens("X " + Quoting.field("k", token.value))
                    if again?.count != 2 || again?[1].value != token.value { fatalError("quoting does not round-trip: \(token.value.debugDescription)") }
                }
            }
            _ = try? Tokenizer.freeText(line, from: min(line.utf8.count, Int(bytes.first ?? 0) % 16))
        }
    }
}
