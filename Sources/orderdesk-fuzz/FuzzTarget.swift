import CFuzzerShim
import OrderDeskCore
import OrderDeskWire
#if canImport(Glibc)
import Glibc
#endif

/// Fuzzes what a peer controls, in two modes chosen by the input's first byte:
///
/// - `0xDE`: desk mode (`DeskScript`): the rest is a script of (user, clock advance, line) steps
///   run against a `Desk`, with `DeskChecks` judging every step;
/// - anything else: parser mode (`InputChecks`): the line framer, the tokenizer and quoting,
///   the command parser and the client-side server-line classifier.
///
/// A crash, a failed precondition or an AddressSanitizer report is a finding (docs/FUZZING.md).
@main
struct FuzzTarget {
    /// The first byte that selects desk mode.
    static let deskMode: UInt8 = 0xDE

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
        if bytes.first == deskMode {
            // Read per input, not kept in a global: the callback is a C function pointer.
            DeskScript().run(bytes.dropFirst())
        } else {
            InputChecks.check(bytes)
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
