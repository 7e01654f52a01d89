import Foundation

/// What a finished child process printed and how it ended.
public struct ProcessRun: Sendable {
    public var status: Int32
    public var output: String
    public var errors: String
}

/// Runs `executable` to its end with `input` on its standard input, reading its standard output
/// and error at once (a child that fills one pipe while the other is read would never end);
/// kills it and throws if it has not finished within `timeout` seconds.
public func runToEnd(_ executable: URL, _ arguments: [String], input: String = "", environment: [String: String]? = nil,
                     timeout: Double = 60) throws -> ProcessRun {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    if let environment { process.environment = environment }
    let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
    process.standardInput = stdin
    process.standardOutput = stdout
    process.standardError = stderr
    try process.run()
    stdin.fileHandleForWriting.write(Data(input.utf8))
    try stdin.fileHandleForWriting.close()
    let output = Locked(Data()), errors = Locked(Data())
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
        throw LineClient.Failure(description: "\(executable.lastPathComponent) \(arguments) did not finish within \(timeout)s")
    }
    process.waitUntilExit()
    return ProcessRun(status: process.terminationStatus, output: String(decoding: output.current, as: UTF8.self),
                      errors: String(decoding: errors.current, as: UTF8.self))
}
