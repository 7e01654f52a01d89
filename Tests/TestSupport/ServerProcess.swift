import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The real `orderdesk` binary run as a child process, for tests that kill it.
public final class ServerProcess {
    public let process = Process()
    public private(set) var port: UInt16 = 0
    private let output = Pipe()

    /// The `orderdesk` executable built beside the test bundle.
    public static var executable: URL {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("orderdesk")
    }

    /// Starts `orderdesk serve --port 0` on `data` and waits (with a deadline) for its port.
    public init(data: String, arguments: [String] = [], timeout: Double = 20) throws {
        process.executableURL = Self.executable
        process.arguments = ["serve", "--port", "0", "--data", data, "--log-level", "error"] + arguments
        process.standardOutput = output
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        var text = ""
        let handle = output.fileHandleForReading
        while !text.contains("\n") {
            guard Date() < deadline, process.isRunning else {
                throw LineClient.Failure(description: "orderdesk did not start: \(text)")
            }
            let chunk = handle.availableData
            if chunk.isEmpty { continue }
            text += String(decoding: chunk, as: UTF8.self)
        }
        guard let range = text.range(of: #":(\d+) "#, options: .regularExpression),
              let number = UInt16(text[range].dropFirst().dropLast()) else {
            throw LineClient.Failure(description: "no port in: \(text)")
        }
        port = number
    }

    /// SIGKILL: no chance to clean up, as in a crash.
    public func kill() {
        Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// SIGTERM, then waits for the exit; returns the exit status.
    @discardableResult
    public func terminate() -> Int32 {
        if process.isRunning {
            Glibc.kill(process.processIdentifier, SIGTERM)
            process.waitUntilExit()
        }
        return process.terminationStatus
    }
}
