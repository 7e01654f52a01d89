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
        InputChecks.check(bytes)
    }
}

/// libFuzzer's entry point, for linkers that bring in libFuzzer's own `main`.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data else { return 0 }
    FuzzTarget.run(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
