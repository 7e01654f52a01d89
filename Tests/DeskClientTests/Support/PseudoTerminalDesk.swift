import Foundation
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// The real `desk` binary on a pseudo-terminal: tests type keys into it and read its screen
/// through `VirtualScreen`, as a person would.
final class PseudoTerminalDesk {
    let process = Process()
    private let master: Int32
    private(set) var screen: VirtualScreen
    /// Every byte `desk` wrote, as text.
    private(set) var transcript = ""

    init(arguments: [String], environment: [String: String], columns: Int = 100, rows: Int = 40) throws {
        var master: Int32 = -1
        var slave: Int32 = -1
        var size = winsize(ws_row: UInt16(rows), ws_col: UInt16(columns), ws_xpixel: 0, ws_ypixel: 0)
        guard openpty(&master, &slave, nil, nil, &size) == 0 else {
            throw TestFailure( "openpty: \(String(cString: strerror(errno)))")
        }
        self.master = master
        screen = VirtualScreen(columns: columns)
        let terminal = FileHandle(fileDescriptor: slave, closeOnDealloc: false)
        process.executableURL = DeskBinary.url
        process.arguments = arguments
        process.environment = environment
        process.standardInput = terminal
        process.standardOutput = terminal
        process.standardError = terminal
        do {
            try process.run()
        } catch {
            close(slave)
            close(master)
            throw error
        }
        close(slave)
        _ = fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK)
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        close(master)
    }

    /// Starts `desk --user NAME` and answers the password prompt.
    static func loggedIn(as user: String, password: String? = nil, port: UInt16, home: String = temporaryDirectory(),
                         extraArguments: [String] = [], columns: Int = 100, rows: Int = 40) throws -> PseudoTerminalDesk {
        let desk = try PseudoTerminalDesk(arguments: ["--user", user] + extraArguments, environment: DeskBinary.environment(port: port, home: home),
                                          columns: columns, rows: rows)
        try desk.waitFor("the password prompt") { $0.contains("password for \(user)@") }
        desk.type((password ?? user) + "\r")
        try desk.waitFor("the greeting") { $0.contains("logged in as \(user)") }
        try desk.waitFor("the prompt") { $0.currentLine == "\(user)>" || $0.currentLine == "\(user)> " }
        return desk
    }

    /// Resizes the terminal and tells `desk`, as a terminal window does (the pty is not its
    /// controlling terminal, so the kernel would not send SIGWINCH itself).
    func resize(columns: Int, rows: Int) {
        pump()
        var size = winsize(ws_row: UInt16(rows), ws_col: UInt16(columns), ws_xpixel: 0, ws_ypixel: 0)
        _ = ioctl(master, UInt(TIOCSWINSZ), &size)
        screen.columns = columns
        kill(process.processIdentifier, SIGWINCH)
    }

    /// Writes keys as a terminal would send them.
    func type(_ text: String) {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { buffer -> Int in
                guard let base = buffer.baseAddress else { return 0 }
                return write(master, base + offset, buffer.count - offset)
            }
            if written > 0 { offset += written } else if errno != EAGAIN && errno != EINTR { return }
        }
    }

    /// Reads whatever `desk` has written so far into the screen.
    func pump() {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = read(master, &buffer, buffer.count)
            guard count > 0 else { return }
            let bytes = Array(buffer[..<count])
            transcript += String(decoding: bytes, as: UTF8.self)
            screen.feed(bytes)
        }
    }

    /// Waits until `condition` holds for the screen, failing after `timeout` seconds with the screen in the message.
    func waitFor(_ what: String, timeout: Double = 10, _ condition: (VirtualScreen) -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            pump()
            if condition(screen) { return }
            guard Date() < deadline else {
                throw TestFailure( "timed out waiting for \(what); screen:\n" + screen.lines.suffix(25).joined(separator: "\n"))
            }
            var poller = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
            _ = poll(&poller, 1, 20)
        }
    }

    /// Waits for `desk` to exit; returns its status.
    func waitForExit(timeout: Double = 10) throws -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning {
            pump()
            guard Date() < deadline else { throw TestFailure( "desk did not exit within \(timeout)s") }
            usleep(10_000)
        }
        pump()
        return process.terminationStatus
    }
}
