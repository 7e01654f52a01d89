import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The real `orderdesk` binary run as a child process, for tests that kill it.
public final class ServerProcess: @unchecked Sendable {  // immutable after init but for Process, which may be signalled from any thread
    public let process = Process()
    public private(set) var port: UInt16 = 0
    /// The TLS port, when the server has one.
    public private(set) var tlsPort: UInt16 = 0
    private let output = Pipe()
    private let errors = Pipe()
    private let errorText = Locked("")
    /// Standard output read so far.
    private var outputText = ""

    /// The `orderdesk` executable built beside the test bundle.
    public static var executable: URL {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("orderdesk")
    }

    /// Starts `orderdesk serve --port 0` on `data` and waits (with a deadline) for its port.
    /// With `descriptorLimit`, the server runs under `ulimit -n` of that many descriptors.
    public convenience init(data: String, logLevel: String = "error", arguments: [String] = [], descriptorLimit: Int? = nil, timeout: Double = 20) throws {
        try self.init(storeArguments: ["--data", data], logLevel: logLevel, arguments: arguments, descriptorLimit: descriptorLimit, timeout: timeout)
    }

    /// Starts `orderdesk serve --port 0` with `storeArguments` (`--data PATH`, `--postgres CONNINFO`)
    /// and, unless `waitsForPort` is false (a standby listens only once it takes over: then call
    /// `waitForPort`), waits for its port.
    public init(storeArguments: [String], logLevel: String = "error", arguments: [String] = [], descriptorLimit: Int? = nil, timeout: Double = 20,
                waitsForPort: Bool = true) throws {
        let serve = ["serve", "--port", "0"] + storeArguments + ["--log-level", logLevel] + arguments
        if let descriptorLimit {
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "ulimit -n \(descriptorLimit) && exec \"$0\" \"$@\"", Self.executable.path] + serve
        } else {
            process.executableURL = Self.executable
            process.arguments = serve
        }
        process.standardOutput = output
        process.standardError = errors
        let collected = errorText
        errors.fileHandleForReading.readabilityHandler = { handle in
            let chunk = handle.availableData
            collected.withLock { $0 += String(decoding: chunk, as: UTF8.self) }
        }
        try process.run()
        guard waitsForPort else { return }
        do {
            try waitForPort(timeout: timeout)
        } catch {
            // A server that did not start in time must not outlive the test.
            kill()
            throw error
        }
    }

    /// Reads standard output until the `orderdesk listening ...` line (a standby prints another
    /// line first), within `timeout` seconds, and takes the ports from it.
    public func waitForPort(timeout: Double = 20) throws {
        let deadline = Date().addingTimeInterval(timeout)
        let handle = output.fileHandleForReading
        // Only whole lines count: the last one may still be arriving.
        func listeningLine() -> String? {
            guard let end = outputText.lastIndex(of: "\n") else { return nil }
            return outputText[..<end].split(separator: "\n").first { $0.hasPrefix("orderdesk listening") }.map(String.init)
        }
        while listeningLine() == nil {
            guard Date() < deadline, process.isRunning else {
                throw LineClient.Failure(description: "orderdesk did not start: \(outputText) \(standardError)")
            }
            // Wait for output at most until the deadline (availableData alone would block past it).
            var ready = pollfd(fd: handle.fileDescriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&ready, 1, Int32(max(1, min(200, deadline.timeIntervalSinceNow * 1000)))) > 0 else { continue }
            let chunk = handle.availableData
            if chunk.isEmpty { continue }
            outputText += String(decoding: chunk, as: UTF8.self)
        }
        guard let text = listeningLine() else { throw LineClient.Failure(description: "no listening line in: \(outputText)") }
        guard let range = text.range(of: #":(\d+) "#, options: .regularExpression),
              let number = UInt16(text[range].dropFirst().dropLast()) else {
            throw LineClient.Failure(description: "no port in: \(text)")
        }
        port = number
        if let range = text.range(of: #"tls on [^ ]+:(\d+)"#, options: .regularExpression),
           let colon = text[range].lastIndex(of: ":"), let number = UInt16(text[range][text.index(after: colon)...]) {
            tlsPort = number
        }
    }

    /// What the server wrote to standard error so far (its log).
    public var standardError: String { errorText.current }

    /// Waits (with a deadline) until the log satisfies `condition`: the log arrives through a
    /// pipe, so a line the server wrote a moment ago may not be here yet. Returns the log.
    @discardableResult
    public func waitForLog(timeout: Double = 5, _ condition: (String) -> Bool) -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while !condition(standardError) && Date() < deadline { usleep(5_000) }
        return standardError
    }

    /// SIGKILL: no chance to clean up, as in a crash.
    public func kill() {
        Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// SIGTERM, then waits for the exit; returns the exit status.
    @discardableResult
    public func terminate() -> Int32 { signalOnce(SIGTERM) }

    /// Sends `signal` once and waits for the exit; returns the exit status (the server takes its
    /// stop signals with sigwait from before it announces the port, so once is enough).
    @discardableResult
    public func signalOnce(_ signal: Int32) -> Int32 {
        if process.isRunning { Glibc.kill(process.processIdentifier, signal) }
        process.waitUntilExit()
        return process.terminationStatus
    }
}
