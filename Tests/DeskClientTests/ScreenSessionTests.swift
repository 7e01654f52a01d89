import Foundation
import OrderDeskCore
import OrderDeskServer
import Testing
import TestSupport
@testable import DeskClientKit

/// End to end: the real `desk` on a pseudo-terminal against a real server.
@Suite("desk on a terminal")
struct ScreenSessionTests {
    @Test("a push lands above a half-typed line, which stays intact with the cursor where it was")
    func halfTypedLineSurvivesPush() throws {
        let desk = try TestDesk()
        defer { desk.stop() }
        try desk.capture("SO-1", using: try desk.client("shop"))
        let terminal = try PseudoTerminalDesk.loggedIn(as: "ana", port: desk.port)

        terminal.type("NOTE SO-1 half")
        terminal.type("\u{1B}[D\u{1B}[D")  // Left twice: the cursor sits before "lf".
        let prompt = "ana> "
        try terminal.waitFor("the cursor to move left") { $0.cursorColumn == prompt.count + "NOTE SO-1 ha".count }
        let bellsBefore = terminal.screen.bells

        try desk.client("ben").ok("NOTE SO-1 @ana can you look at this?")
        try terminal.waitFor("the mention") { $0.contains("ben mentioned you: @ana can you look at this?") }

        let screen = terminal.screen
        #expect(screen.currentLine == prompt + "NOTE SO-1 half")
        #expect(screen.cursorColumn == prompt.count + "NOTE SO-1 ha".count)
        #expect(screen.line(screen.row - 1).contains("ben mentioned you"))
        #expect(screen.line(screen.row - 1).range(of: #"^\d\d:\d\d "#, options: .regularExpression) != nil, "pushes carry a time")
        #expect(screen.bells > bellsBefore, "a mention rings the bell")

        // Typing goes on where the cursor was.
        terminal.type("X\r")
        let ben = try desk.client("ben")
        try waitUntil(timeout: 10, "the note to reach the server") {
            try ben.command("ORDER SO-1").contains { $0.contains("text=haXlf") }
        }
    }

    @Test("--no-bell keeps a mention quiet but still makes it stand out")
    func noBell() throws {
        let desk = try TestDesk()
        defer { desk.stop() }
        try desk.capture("SO-1", using: try desk.client("shop"))
        let terminal = try PseudoTerminalDesk.loggedIn(as: "ana", port: desk.port, extraArguments: ["--no-bell"])
        try desk.client("ben").ok("NOTE SO-1 @ana quiet please")
        try terminal.waitFor("the mention") { $0.contains("ben mentioned you: @ana quiet please") }
        #expect(terminal.screen.bells == 0)
        #expect(terminal.transcript.contains("\u{1B}[1;35m» SO-1 ben mentioned you"), "the ping is bold and coloured")
    }

    @Test("Tab completes a command name, then an order number seen in a reply")
    func tabCompletion() throws {
        let desk = try TestDesk()
        defer { desk.stop() }
        let shop = try desk.client("shop")
        try desk.capture("SO-4242", using: shop)
        try desk.capture("SO-4243", using: shop)
        let terminal = try PseudoTerminalDesk.loggedIn(as: "ana", port: desk.port)
        terminal.type("QUEUE new\r")
        try terminal.waitFor("the queue") { $0.contains("SO-4243") }

        terminal.type("ord\t")
        try terminal.waitFor("the command to complete") { $0.currentLine == "ana> order" && $0.cursorColumn == "ana> order ".count }
        terminal.type("so-4\t")
        try terminal.waitFor("the common part of two numbers") { $0.currentLine == "ana> order SO-424" }
        terminal.type("\t")
        try terminal.waitFor("both candidates listed") { $0.contains("SO-4242  SO-4243") }
        #expect(terminal.screen.currentLine == "ana> order SO-424", "listing candidates keeps the line")
        terminal.type("3\t")
        try terminal.waitFor("the number to complete") { $0.currentLine == "ana> order SO-4243" }
        terminal.type("\r")
        try terminal.waitFor("the order card") { $0.lines.contains { $0.hasPrefix("SO-4243  captured") } }
    }

    @Test("the password never appears on screen or in the history file")
    func passwordStaysSecret() throws {
        let secret = "Tr0ub4dor-and-3"
        let store = MemoryStore()
        var model = Desk(settings: DeskSettings(), snapshot: try store.load(), now: SystemClock.now())
        try store.commit(model.put(User(name: "dora", role: .processor, credential: try Passwords.credential(for: secret, iterations: 1000))).changes)
        let desk = try TestDesk(store: store)
        defer { desk.stop() }
        let home = temporaryDirectory()
        let terminal = try PseudoTerminalDesk.loggedIn(as: "dora", password: secret, port: desk.port, home: home)
        terminal.type("WHOAMI\r")
        try terminal.waitFor("the WHOAMI reply") { $0.contains("user dora") }
        terminal.type("PING\r")
        try terminal.waitFor("the PING reply") { $0.contains("ok  PONG") }
        terminal.type("\u{4}")  // Ctrl-D on an empty line quits.
        #expect(try terminal.waitForExit() == 0)

        #expect(!terminal.transcript.contains(secret))
        let historyPath = home + "/state/orderdesk/history"
        let history = try String(contentsOfFile: historyPath, encoding: .utf8)
        #expect(history == "WHOAMI\nPING\n")
        let mode = try FileManager.default.attributesOfItem(atPath: historyPath)[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }

    @Test("a server restart mid-session: desk reconnects, logs in again and shows the push it missed")
    func survivesServerRestart() throws {
        let store = MemoryStore()
        let first = try TestDesk(store: store)
        let port = first.port
        try first.capture("SO-7", using: try first.client("shop"))
        let terminal = try PseudoTerminalDesk.loggedIn(as: "ana", port: port)
        try first.client("ben").ok("NOTE SO-7 @ana before the restart")
        try terminal.waitFor("a first push, so desk knows an event id") { $0.contains("before the restart") }

        first.stop()
        try terminal.waitFor("the outage notice") { $0.contains("connection lost") }
        // The third attempt comes 2 s after the second fails: time enough to make a push desk misses.
        try terminal.waitFor("two failed attempts") { $0.contains("next try in 2s") }
        var restarted: TestDesk?
        try waitUntil(timeout: 10, "the port to be free again") {
            restarted = try? TestDesk(store: store) { $0.port = port }
            return restarted != nil
        }
        let second = try #require(restarted)
        defer { second.stop() }
        try second.client("ben").ok("NOTE SO-7 @ana while you were away")

        try terminal.waitFor("the reconnect", timeout: 15) { $0.contains("reconnected as ana") }
        try terminal.waitFor("the missed push") { $0.contains("(missed) » SO-7 ben mentioned you: @ana while you were away") }
        try terminal.waitFor("the resume summary") { $0.contains("back online: 1 missed push shown above") }
        terminal.type("ORDER SO-7\r")
        try terminal.waitFor("a reply on the new connection") { $0.lines.contains { $0.hasPrefix("SO-7  captured") } }
        #expect(terminal.screen.currentLine == "ana>")
    }

    @Test("the server gone for good: desk goes on to the desk's next server, logs in there and shows the push it missed")
    func failsOverToTheNextServer() throws {
        let store = MemoryStore()
        let first = try TestDesk(store: store)
        let sparePort = try Self.unusedPort()
        try first.capture("SO-7", using: try first.client("shop"))
        let terminal = try PseudoTerminalDesk.loggedIn(as: "ana", port: first.port,
                                                       extraArguments: ["--servers", "127.0.0.1:\(first.port),127.0.0.1:\(sparePort)"])
        try first.client("ben").ok("NOTE SO-7 @ana before the failover")
        try terminal.waitFor("a first push, so desk knows an event id") { $0.contains("before the failover") }

        first.stop()
        try terminal.waitFor("the outage notice") { $0.contains("connection lost") }
        try terminal.waitFor("the other server tried at once, then the first again") {
            $0.contains("127.0.0.1:\(sparePort): ") && $0.contains("trying 127.0.0.1:\(sparePort) now")
        }
        // Rounds wait 0.5 s, 1 s, 2 s: the round after this one starts 2 s later.
        try terminal.waitFor("two whole rounds failed", timeout: 10) { $0.contains("next try in 2s") }
        let second = try TestDesk(store: store) { $0.port = sparePort }
        defer { second.stop() }
        try second.client("ben").ok("NOTE SO-7 @ana while you were away")

        try terminal.waitFor("the reconnect to the spare", timeout: 15) { $0.contains("reconnected as ana (processor) at 127.0.0.1:\(sparePort)") }
        try terminal.waitFor("the missed push") { $0.contains("(missed) » SO-7 ben mentioned you: @ana while you were away") }
        try terminal.waitFor("the resume summary") { $0.contains("back online: 1 missed push shown above") }
        terminal.type("ORDER SO-7\r")
        try terminal.waitFor("a reply from the spare") { $0.lines.contains { $0.hasPrefix("SO-7  captured") } }
    }

    @Test("a cluster node stops: desk goes on at the other node at once, and pushes from there reach it",
          .enabled(if: PostgresCluster.isAvailable, "needs the PostgreSQL server"))
    func followsAnotherClusterNode() throws {
        let desk = try TestDesk(engine: .cluster)
        defer { desk.stop() }
        let (first, second) = (desk.ports[0], desk.ports[1])
        try desk.capture("SO-7", using: try desk.client("shop"))
        let terminal = try PseudoTerminalDesk.loggedIn(as: "ana", port: first,
                                                       extraArguments: ["--servers", "127.0.0.1:\(first),127.0.0.1:\(second)"])
        let ben = try LineClient(port: second)
        try ben.ok("LOGIN ben ben")
        try ben.ok("NOTE SO-7 @ana from the other node")
        try terminal.waitFor("a push from the other node") { $0.contains("from the other node") }

        desk.server.stop()  // node 0 only; node 1 serves on
        try terminal.waitFor("the reconnect to the other node", timeout: 15) {
            $0.contains("reconnected as ana (processor) at 127.0.0.1:\(second)")
        }
        try ben.ok("NOTE SO-7 @ana after the failover")
        try terminal.waitFor("a push on the new connection") { $0.contains("after the failover") }
        terminal.type("ORDER SO-7\r")
        try terminal.waitFor("a reply from the other node") { $0.lines.contains { $0.hasPrefix("SO-7  captured") } }
    }

    /// A loopback port nothing listens on now (bound, read and closed: another process could
    /// take it meanwhile, which on a test machine does not happen in practice).
    static func unusedPort() throws -> UInt16 {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw TestFailure("socket: \(errno)") }
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0 }
        }
        guard bound else { throw TestFailure("bind: \(errno)") }
        return UInt16(bigEndian: address.sin_port)
    }
}
