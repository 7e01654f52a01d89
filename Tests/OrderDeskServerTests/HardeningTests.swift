import Foundation
import Testing
import TestSupport
import OrderDeskCore
@testable import OrderDeskServer
#if canImport(Glibc)
import Glibc
#endif

@Suite("End to end: limits, slow clients, logins, shutdown", .serialized)
struct HardeningTests {
    @Test("a session that stops reading is disconnected and counted; others keep their latency")
    func slowConsumer() throws {
        let desk = try TestDesk { $0.maximumUnsentBytes = 256 * 1024 }
        defer { desk.stop() }
        let slow = try desk.client("cora")
        let ada = try desk.client("ada")
        // Ask for much more than the socket buffers and the unsent limit hold, and never read it.
        let flood = [String](repeating: "HELP", count: 20_000).joined(separator: "\n")
        try slow.send(flood)
        var latencies: [Double] = []
        for _ in 0..<50 {
            let started = Date()
            #expect(try ada.command("PING").last == "OK PONG")
            latencies.append(Date().timeIntervalSince(started))
        }
        latencies.sort()
        // Bounds loose enough for a loaded 2-core machine, far below a stall (which is forever).
        #expect(latencies[25] < 0.1, "a slow consumer slowed others: median PING \(latencies[25]) s")
        #expect(latencies[49] < 2, "a slow consumer stalled others: worst PING \(latencies[49]) s")
        try waitUntil("the slow session to be dropped") {
            let ops = try ada.command("METRICS").first { $0.hasPrefix("* ops ") } ?? ""
            return field("slow-dropped", in: ops) == "1"
        }
        #expect(slow.waitForClose(timeout: 10), "the server closed the slow session")
    }

    @Test("a connection that sends nothing for the idle timeout is told and closed")
    func idleTimeout() throws {
        let desk = try TestDesk {
            $0.idleTimeout = Milliseconds(300)
            $0.tickInterval = Milliseconds(20)
        }
        defer { desk.stop() }
        let idle = try LineClient(port: desk.port)
        let line = try idle.readLine(timeout: 5)
        #expect(line.hasPrefix("BYE idle-timeout"))
        #expect(idle.waitForClose())
    }

    @Test("one session over the limit gets a clear error before the close")
    func maximumSessions() throws {
        let desk = try TestDesk { $0.maximumSessions = 3 }
        defer { desk.stop() }
        let clients = try (0..<3).map { _ in try LineClient(port: desk.port) }
        #expect(field("max-sessions", in: clients[0].greeting) == "3")
        let refused = try LineClient(port: desk.port, readGreeting: false)
        #expect(try refused.readLine().hasPrefix("BYE too-many-sessions"))
        #expect(refused.waitForClose())
        #expect(try clients[0].command("PING").last == "OK PONG")
    }

    @Test("failed logins slow down the address that makes them, never the account for others")
    func loginThrottle() throws {
        var throttle = LoginThrottle()
        let now = Instant(milliseconds: 1_000_000)
        for _ in 0..<LoginThrottle.freeFailures { throttle.recordFailure(from: "10.0.0.9", name: "ada", now: now) }
        #expect(throttle.delay(for: "10.0.0.9", now: now) == Milliseconds(0))
        #expect(throttle.mayStart(from: "10.0.0.9", now: now))
        throttle.recordFailure(from: "10.0.0.9", name: "ada", now: now)
        #expect(throttle.delay(for: "10.0.0.9", now: now) == Milliseconds(250))
        throttle.recordFailure(from: "10.0.0.9", name: "ada", now: now)
        #expect(throttle.delay(for: "10.0.0.9", now: now) == Milliseconds(500))
        for _ in 0..<40 { throttle.recordFailure(from: "10.0.0.9", name: "ada", now: now) }
        #expect(throttle.delay(for: "10.0.0.9", now: now) == LoginThrottle.maximumDelay)
        // One login at a time from a failing address.
        throttle.started(from: "10.0.0.9")
        #expect(!throttle.mayStart(from: "10.0.0.9", now: now))
        throttle.finished(from: "10.0.0.9")
        #expect(throttle.mayStart(from: "10.0.0.9", now: now))
        // Another address is not touched by any of it, whatever name it logs in as.
        #expect(throttle.delay(for: "10.0.0.1", now: now) == Milliseconds(0))
        throttle.started(from: "10.0.0.1")
        #expect(throttle.mayStart(from: "10.0.0.1", now: now))
        // A correct password does not reset a guessing address; time and UNLOCK do.
        throttle.recordSuccess(from: "10.0.0.9", now: now)
        #expect(throttle.delay(for: "10.0.0.9", now: now) == LoginThrottle.maximumDelay)
        #expect(throttle.delay(for: "10.0.0.9", now: now + LoginThrottle.forgetAfter) == Milliseconds(0))
        #expect(throttle.unlock("ada", now: now) == ["10.0.0.9"], "UNLOCK by name clears the addresses that failed on it")
        #expect(throttle.delay(for: "10.0.0.9", now: now) == Milliseconds(0))
        // IPv6 addresses are throttled by their /64.
        #expect(LoginThrottle.key(for: "2001:db8:1:2::5") == LoginThrottle.key(for: "2001:db8:1:2:ffff::1"))
        #expect(LoginThrottle.key(for: "2001:db8:1:2::5") != LoginThrottle.key(for: "2001:db8:1:3::5"))
        #expect(LoginThrottle.key(for: "::ffff:10.1.2.3") == "10.1.2.3")
    }

    @Test("UNLOCK over the wire clears an address's failures and is audited")
    func unlockCommand() throws {
        let desk = try TestDesk()
        defer { desk.stop() }
        let ada = try desk.client("ada")
        #expect(try ada.ok("UNLOCK ben") == "OK target=ben cleared=0")
        #expect(try ada.command("AUDIT").contains { $0.contains("action=unlock") })
        let ben = try desk.client("ben")
        #expect(try ben.command("UNLOCK ana").last?.hasPrefix("ERR denied") == true)
    }

    @Test("SIGTERM stops cleanly: sessions are told, exit 0, and a restart finds everything")
    func cleanShutdown() throws {
        let data = temporaryDirectory() + "/desk.sqlite"
        try seedStandardUsers(data)
        let server = try ServerProcess(data: data, logLevel: "debug")
        let shop = try LineClient(port: server.port)
        try shop.ok("LOGIN shop shop")
        try shop.ok("CAPTURE SO-1 customer=Acme rep=sam po=P1 lines=A:1:1")
        let wrong = try LineClient(port: server.port)
        #expect(try wrong.command("LOGIN ana hunter2-secret").last?.hasPrefix("ERR login-failed") == true)
        let started = Date()
        let status = server.terminate()
        let elapsed = Date().timeIntervalSince(started)
        #expect(status == 0)
        #expect(elapsed < 5, "shutdown took \(elapsed) s")
        #expect(try shop.readLine().hasPrefix("BYE "))
        let log = server.waitForLog { $0.contains("msg=stopped") }
        #expect(log.contains("msg=stopped"))
        #expect(log.contains("msg=\"login failed\""))
        #expect(!log.contains("hunter2-secret"), "a password reached the log")
        #expect(!log.contains(" shop shop"), "a LOGIN line reached the log")
        let again = try ServerProcess(data: data)
        defer { again.terminate() }
        let check = try LineClient(port: again.port)
        try check.ok("LOGIN shop shop")
        #expect(try check.command("ORDER SO-1").last == "OK order=SO-1")
    }
}

/// Adds `TestDesk.standardUsers` (password = name) to a data file for a server process.
func seedStandardUsers(_ path: String) throws {
    let store = try SQLiteStore(path: path)
    var desk = Desk(settings: DeskSettings(), snapshot: try store.load(), now: SystemClock.now())
    var changes: [StoreChange] = []
    for (name, role) in TestDesk.standardUsers {
        changes += desk.put(User(name: name, role: role, credential: try Passwords.credential(for: name, iterations: 1000))).changes
    }
    try store.commit(changes)
}

@Suite("End to end: managing users")
struct UserManagementTests {
    @Test("an admin adds a user and changes a role; both are audited; others may not")
    func addAndRole() throws {
        let desk = try TestDesk()
        defer { desk.stop() }
        let ada = try desk.client("ada")
        #expect(try ada.ok("USER ADD dana processor correct-horse-1") == "OK user=dana role=processor")
        #expect(try ada.command("USER ADD dana sales another-pass-2").last?.hasPrefix("ERR exists user=dana") == true)
        #expect(try ada.command("USER ADD eve processor short").last?.hasPrefix("ERR bad-arguments") == true)
        let dana = try LineClient(port: desk.port)
        #expect(try dana.command("LOGIN dana correct-horse-1").last?.hasPrefix("OK user=dana role=processor") == true)
        #expect(try ada.ok("USER ROLE dana sales") == "OK user=dana role=sales was=processor")
        #expect(try ada.command("USER ROLE nobody-here sales").last?.hasPrefix("ERR not-found") == true)
        let audit = try ada.command("AUDIT")
        #expect(audit.contains { $0.contains("action=user-add") && $0.contains("dana as processor") })
        #expect(audit.contains { $0.contains("action=user-role") })
        let ben = try desk.client("ben")
        #expect(try ben.command("USER ADD mallory admin letmein-please").last?.hasPrefix("ERR denied") == true)
        #expect(try ben.command("USER ROLE ben admin").last?.hasPrefix("ERR denied") == true)
    }
}
