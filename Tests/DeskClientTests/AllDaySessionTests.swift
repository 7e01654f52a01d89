import Foundation
import OrderDeskCore
import OrderDeskServer
import Testing
import TestSupport
@testable import DeskClientKit

/// End to end, issue 11: a desk people keep open all day. The real `desk` on a
/// pseudo-terminal against a real server.
@Suite("desk all day")
struct AllDaySessionTests {
    // Regression: desk never sent PING, so the server dropped it after `idle-timeout` of no typing.
    @Test("idle past the server's idle timeout three times: desk stays connected and the screen does not change")
    func staysConnectedWhileIdle() throws {
        let server = try ServerProcess(data: temporaryDirectory() + "/desk.sqlite", logLevel: "info",
                                       arguments: ["--demo", "--idle-timeout", "2"])
        defer { server.terminate() }
        let terminal = try PseudoTerminalDesk.loggedIn(as: "ana", password: "demo", port: server.port)
        let before = terminal.screen.lines

        // A connection that sends nothing is closed after 2 s: three in a row are 6 s of idling.
        for _ in 0..<3 {
            let silent = try LineClient(port: server.port)
            #expect(silent.greeting.contains("idle-timeout=2"))
            #expect(silent.waitForClose(timeout: 10), "the server's idle timeout is in force")
        }
        terminal.pump()
        #expect(terminal.screen.lines == before, "keep-alive is silent: no PONG, no reconnect, no reprinted claims")
        let closes = server.standardError.split(separator: "\n").filter { $0.contains("msg=\"session closed\"") }
        #expect(closes.count == 3)
        #expect(!closes.contains { $0.contains("user=ana") }, "desk's own session was never closed")

        terminal.type("WHOAMI\r")
        try terminal.waitFor("the WHOAMI reply on the same connection") { $0.contains("user ana") }
        let text = terminal.screen.lines.joined(separator: "\n")
        #expect(!text.contains("reconnected") && !text.contains("connection lost"), "\(text)")
    }
}
