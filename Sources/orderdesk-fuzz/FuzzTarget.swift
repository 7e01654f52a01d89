import CFuzzerShim
import OrderDeskCore
import OrderDeskWire
#if canImport(Glibc)
import Glibc
#endif

/// Fuzzes what a peer controls: the line framer, the tokenizer and quoting, the command parser
/// and the client-side server-line classifier. Besides crashes it checks two properties:
/// framing never holds more than the limit, and quoting any token value round-trips.
@main
struct FuzzTarget {
    static func main() {
        guard orderdesk_has_fuzzer() != 0 else {
            let message = "orderdesk-fuzz: built without libFuzzer; see docs/FUZZING.md\n"
            _ = message.withCString { write(2, $0, strlen($0)) }
            exit(2)
        }
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in
            guard let data else { return 0 }
            FuzzTarget.run(Array(UnsafeBufferPointer(start: data, count: size)))
            return 0
        })
    }

    static func run(_ bytes: [UInt8]) {
        var framer = LineFramer(maximumLineLength: 256)
        let parser = CommandParser()
        // Feed in two pieces to exercise lines split across reads.
        let split = bytes.isEmpty ? 0 : Int(bytes[0]) % (bytes.count + 1)
        let frames = framer.append(bytes[..<split]) + framer.append(bytes[split...])
        precondition(framer.bufferedByteCount <= 257, "framer holds more than the limit")
        for case .line(let line) in frames {
            _ = parser.parse(line)
            _ = ServerLine(line)
            if let tokens = try? Tokenizer.tokens(line) {
                for token in tokens {
                    let quoted = "X " + Quoting.field("k", token.value)
                    let again = try? Tokenizer.tokens(quoted)
                    precondition(again?.count == 2 && again?[1].value == token.value, "quoting does not round-trip: \(token.value.debugDescription)")
                }
            }
            _ = try? Tokenizer.freeText(line, from: min(line.utf8.count, Int(bytes.first ?? 0) % 16))
        }
    }
}

/// libFuzzer's entry point, for linkers that bring in libFuzzer's own `main`.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data else { return 0 }
    FuzzTarget.run(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
