import Foundation
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// The `desk` executable built beside the test bundle (in `.build` or `.build-client`).
enum DeskBinary {
    static var url: URL {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("desk")
    }

    /// An environment for a `desk` run: a fresh home, state and config folder, no colour
    /// switches inherited from whoever runs the tests.
    static func environment(port: UInt16, home: String = temporaryDirectory(), extra: [String: String] = [:]) -> [String: String] {
        var environment = [
            "HOME": home, "XDG_STATE_HOME": home + "/state", "XDG_CONFIG_HOME": home + "/config",
            "PATH": "/usr/bin:/bin", "TERM": "xterm-256color", "TZ": "UTC", "ORDERDESK_PORT": String(port),
        ]
        if let libraryPath = ProcessInfo.processInfo.environment["LD_LIBRARY_PATH"] { environment["LD_LIBRARY_PATH"] = libraryPath }
        environment.merge(extra) { $1 }
        return environment
    }

    /// What a finished run printed and how it ended.
    typealias Run = ProcessRun

    /// Runs `desk` with pipes for standard input, output and error; kills it after `timeout` seconds.
    static func run(_ arguments: [String], input: String = "", environment: [String: String], timeout: Double = 20) throws -> Run {
        try runToEnd(url, arguments, input: input, environment: environment, timeout: timeout)
    }
}

/// Why a test helper gave up.
struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
