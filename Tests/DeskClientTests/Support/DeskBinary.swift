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
    struct Run {
        var status: Int32
        var output: String
        var errors: String
    }

    /// Runs `desk` with pipes for standard input, output and error; kills it after `timeout` seconds.
    static func run(_ arguments: [String], input: String = "", environment: [String: String], timeout: Double = 20) throws -> Run {
        let process = Process()
        process.executableURL = url
        process.arguments = arguments
        process.environment = environment
        let stdin = Pipe()
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        let output = Locked(Data())
        let errors = Locked(Data())
        let group = DispatchGroup()
        for (pipe, sink) in [(stdout, output), (stderr, errors)] {
            group.enter()
            Thread {
                let data = pipe.fileHandleForReading.readDataToEndOfFile()
                sink.withLock { $0 = data }
                group.leave()
            }.start()
        }
        if group.wait(timeout: .now() + timeout) == .timedOut {
            process.terminate()
            throw TestFailure( "desk \(arguments) did not finish within \(timeout)s")
        }
        process.waitUntilExit()
        return Run(status: process.terminationStatus, output: String(decoding: output.current, as: UTF8.self),
                   errors: String(decoding: errors.current, as: UTF8.self))
    }
}

/// Why a test helper gave up.
struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
