import Foundation
import Testing
import OrderDeskCore

/// The fuzzer's properties over its seed corpus and the inputs that once looked risky; a
/// crashing input found by `docs/fuzz/run.sh` is added here before it is fixed.
@Suite("Fuzz regressions")
struct FuzzRegressionTests {
    static let seedDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../docs/fuzz/seeds").standardized

    @Test("every seed satisfies the input properties")
    func seeds() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.seedDirectory.path)
        #expect(names.count >= 10)
        for name in names {
            let data = try Data(contentsOf: Self.seedDirectory.appendingPathComponent(name))
            InputChecks.check(Array(data))
        }
    }

    @Test("edge inputs", arguments: [
        [UInt8](repeating: 0x22, count: 600) + [0x0A],  // a line of quotes past the limit
        Array("NOTE SO-1 \"\\\"\\\\\\n\"\r\r\n".utf8),
        Array("k=\"\" =\"x\" \"\"\n".utf8),
        [0xFF, 0xFE, 0x0A, 0x0D, 0x0A, 0x0A],
        Array("CAPTURE SO-1 lines=::,:::,\n".utf8),
        Array("EVENT 18446744073709551616 x\nEVENT 1\n".utf8),
    ])
    func edges(bytes: [UInt8]) {
        InputChecks.check(bytes)
    }
}
