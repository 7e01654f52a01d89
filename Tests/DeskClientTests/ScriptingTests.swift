import Foundation
import Testing
import TestSupport
@testable import DeskClientKit

/// End to end: `desk -c`, piped commands and `--json`, with their exit codes.
@Suite("desk in scripts")
struct ScriptingTests {
    /// A server with SO-1 captured.
    private static func deskWithOrder() throws -> TestDesk {
        let desk = try TestDesk()
        try desk.capture("SO-1", using: try desk.client("shop"))
        return desk
    }

    @Test("piped commands print readable text with no escape codes, even with TERM set")
    func pipedOutputHasNoEscapes() throws {
        let desk = try Self.deskWithOrder()
        defer { desk.stop() }
        let environment = DeskBinary.environment(port: desk.port, extra: ["ORDERDESK_PASSWORD": "ana"])
        let run = try DeskBinary.run(["--user", "ana"], input: "QUEUE new\nORDER SO-1\n\n# a comment\nORDER SO-404\nWHO\n", environment: environment)
        #expect(!run.output.contains("\u{1B}") && !run.errors.contains("\u{1B}"))
        #expect(run.output.contains("ORDER  STAGE     PRIORITY  CUSTOMER   REP  PO"))
        #expect(run.output.contains("SO-1  captured  normal  Acme Corp"))
        #expect(run.output.contains("USER  ROLE"))
        #expect(run.errors.contains("error not-found: no such order (order SO-404)"))
        #expect(run.status == ExitCode.notFound.rawValue, "the first failure sets the status")
    }

    // Regression: free text starting with a quoted word (`NOTE SO-1 "rush" per customer`) was ERR bad-line.
    @Test("free text that starts with a quote reaches the server exactly as typed")
    func quotedFreeText() throws {
        let desk = try Self.deskWithOrder()
        defer { desk.stop() }
        let environment = DeskBinary.environment(port: desk.port, extra: ["ORDERDESK_PASSWORD": "ana"])
        let run = try DeskBinary.run(["--user", "ana", "--json", "-c", "NOTE SO-1 \"rush\" per customer", "-c", "ORDER SO-1"], environment: environment)
        #expect(run.status == 0, "\(run.output) \(run.errors)")
        #expect(run.output.contains(#""ok":true,"command":"NOTE SO-1 \"rush\" per customer""#), "the command as given")
        #expect(run.output.contains(#""by":"ana","text":"\"rush\" per customer""#), "\(run.output)")
    }

    @Test("--servers: a script goes on to the next server when the first does not answer, and names them when none does")
    func serverList() throws {
        let desk = try Self.deskWithOrder()
        defer { desk.stop() }
        let dead = try ScreenSessionTests.unusedPort()
        let environment = DeskBinary.environment(port: desk.port, extra: ["ORDERDESK_PASSWORD": "ana"])
        let run = try DeskBinary.run(["--user", "ana", "--servers", "127.0.0.1:\(dead),127.0.0.1:\(desk.port)", "-c", "ORDER SO-1"],
                                     environment: environment)
        #expect(run.status == 0, "\(run.output) \(run.errors)")
        #expect(run.output.hasPrefix("SO-1  captured  normal  Acme Corp\n"))
        let none = try DeskBinary.run(["--user", "ana", "--servers", "127.0.0.1:\(dead),127.0.0.1:\(dead)", "-c", "PING"], environment: environment)
        #expect(none.status == ExitCode.cannotConnect.rawValue)
        #expect(none.errors.contains("no server answered; the last, 127.0.0.1:\(dead): "), "\(none.errors)")
    }

    @Test("-c runs one command and exits 0")
    func oneCommand() throws {
        let desk = try Self.deskWithOrder()
        defer { desk.stop() }
        let environment = DeskBinary.environment(port: desk.port, extra: ["ORDERDESK_PASSWORD": "ana"])
        let run = try DeskBinary.run(["--user", "ana", "-c", "ORDER SO-1"], environment: environment)
        #expect(run.status == 0)
        #expect(run.output.hasPrefix("SO-1  captured  normal  Acme Corp\n"))
        #expect(run.output.contains("  claim     nobody\n"))
        #expect(run.errors.isEmpty)
    }

    @Test("--json prints one object per reply, and the documented error object")
    func json() throws {
        let desk = try Self.deskWithOrder()
        defer { desk.stop() }
        let environment = DeskBinary.environment(port: desk.port, extra: ["ORDERDESK_PASSWORD": "ana"])
        let missing = try DeskBinary.run(["--user", "ana", "--json", "-c", "ORDER SO-404"], environment: environment)
        #expect(missing.output == #"{"ok":false,"command":"ORDER SO-404","code":"not-found","message":"order=SO-404 no such order"}"# + "\n")
        #expect(missing.status == 5)

        let queue = try DeskBinary.run(["--user", "ana", "--json", "-c", "QUEUE new", "-c", "PING"], environment: environment)
        #expect(queue.status == 0)
        let objects = try queue.output.split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        }
        #expect(objects.count == 2)
        #expect(objects[0]["ok"] as? Bool == true)
        #expect(objects[0]["summary"] as? String == "queue=new count=1 shown=1")
        let records = try #require(objects[0]["records"] as? [[String: Any]])
        #expect(records.first?["words"] as? [String] == ["SO-1"])
        #expect((records.first?["fields"] as? [String: String])?["customer"] == "Acme Corp")
        #expect(objects[1]["summary"] as? String == "PONG")
    }

    @Test("--json prints pushes as event objects")
    func jsonEvents() throws {
        let desk = try Self.deskWithOrder()
        defer { desk.stop() }
        try desk.client("ben").ok("MSG ana the customer called")  // Kept until ana logs in.
        let environment = DeskBinary.environment(port: desk.port, extra: ["ORDERDESK_PASSWORD": "ana"])
        let run = try DeskBinary.run(["--user", "ana", "--json", "-c", "PING"], environment: environment)
        #expect(run.status == 0)
        let event = try #require(run.output.split(separator: "\n").first { $0.hasPrefix(#"{"event":"#) })
        #expect(event.contains(#""kind":"message","fields":{"at":"#))
        #expect(event.contains(#""from":"ben","text":"the customer called"}}}"#))
    }

    @Test("--password-stdin reads the password from the first line, then the commands")
    func passwordFromStandardInput() throws {
        let desk = try Self.deskWithOrder()
        defer { desk.stop() }
        let run = try DeskBinary.run(["--user", "ana", "--password-stdin"], input: "ana\nWHOAMI\n",
                                     environment: DeskBinary.environment(port: desk.port))
        #expect(run.status == 0)
        #expect(run.output.contains("user ana"))
        #expect(!run.output.contains("ana\nWHOAMI"))
    }

    /// (arguments, password, expected exit status, text expected on standard error)
    static let failures: [([String], String?, ExitCode, String)] = [
        (["--user", "ana", "-c", "ORDER SO-404"], "ana", .notFound, "not-found"),
        (["--user", "ana", "-c", "USERS"], "ana", .notAllowed, "denied"),
        (["--user", "ana", "-c", "PING"], "wrong", .notAllowed, "login-failed"),
        (["--user", "ana", "-c", "CLAIM SO-1", "-c", "MOVE SO-1 shipped"], "ana", .errorReply, "illegal-move"),
        (["--user", "ana", "--bogus"], "ana", .usage, "unknown option --bogus"),
        (["--user", "ana", "--port", "x"], "ana", .usage, "not a port"),
        (["--user", "ana", "-c", "PING"], nil, .usage, "set ORDERDESK_PASSWORD or use --password-stdin"),
        (["-c", "PING"], nil, .success, ""),
    ]

    @Test("exit codes", arguments: failures)
    func exitCodes(arguments: [String], password: String?, expected: ExitCode, message: String) throws {
        let desk = try Self.deskWithOrder()
        defer { desk.stop() }
        let environment = DeskBinary.environment(port: desk.port, extra: password.map { ["ORDERDESK_PASSWORD": $0] } ?? [:])
        let run = try DeskBinary.run(arguments, environment: environment)
        #expect(run.status == expected.rawValue, "stdout: \(run.output) stderr: \(run.errors)")
        #expect(message.isEmpty ? run.errors.isEmpty : run.errors.contains(message))
    }

    @Test("no server: exit 3")
    func cannotConnect() throws {
        // A port that was just free: bind, note it, close.
        let desk = try TestDesk()
        let port = desk.port
        desk.stop()
        let run = try DeskBinary.run(["--user", "ana", "-c", "PING"], environment: DeskBinary.environment(port: port, extra: ["ORDERDESK_PASSWORD": "ana"]))
        #expect(run.status == ExitCode.cannotConnect.rawValue)
        #expect(run.errors.contains("cannot connect to 127.0.0.1:\(port)"))
    }
}
