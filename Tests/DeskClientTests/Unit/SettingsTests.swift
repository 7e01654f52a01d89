import Foundation
import Testing
@testable import DeskClientKit

@Suite("Settings")
struct SettingsTests {
    private func parse(_ arguments: [String], environment: [String: String] = ["HOME": "/home/ana"],
                       files: [String: String] = [:]) throws(UsageError) -> Settings {
        try Settings.parse(arguments: arguments, environment: environment) { files[$0] }
    }

    @Test("defaults, and the XDG paths under HOME")
    func defaults() throws {
        let settings = try parse([])
        #expect(settings.host == "127.0.0.1")
        #expect(settings.port == 7878)
        #expect(settings.user == nil)
        #expect(settings.isBellEnabled)
        #expect(settings.historyPath == "/home/ana/.local/state/orderdesk/history")
        #expect(settings.configPath == "/home/ana/.config/orderdesk/desk.conf")
        let xdg = try parse([], environment: ["HOME": "/h", "XDG_STATE_HOME": "/s", "XDG_CONFIG_HOME": "/c"])
        #expect(xdg.historyPath == "/s/orderdesk/history")
        #expect(xdg.configPath == "/c/orderdesk/desk.conf")
    }

    @Test("flags win over the environment, which wins over the config file")
    func precedence() throws {
        let files = ["/c/orderdesk/desk.conf": "# desk\nhost = desk.example\nport=9000\nuser=ben\nbell=off\n"]
        let fromFile = try parse([], environment: ["XDG_CONFIG_HOME": "/c"], files: files)
        #expect(fromFile.host == "desk.example")
        #expect(fromFile.port == 9000)
        #expect(fromFile.user == "ben")
        #expect(!fromFile.isBellEnabled)
        let environment = ["XDG_CONFIG_HOME": "/c", "ORDERDESK_HOST": "env.example", "ORDERDESK_PORT": "9100"]
        let fromEnvironment = try parse([], environment: environment, files: files)
        #expect(fromEnvironment.host == "env.example")
        #expect(fromEnvironment.port == 9100)
        let fromFlags = try parse(["--host", "flag.example", "--port=9200", "--user", "cleo"], environment: environment, files: files)
        #expect(fromFlags.host == "flag.example")
        #expect(fromFlags.port == 9200)
        #expect(fromFlags.user == "cleo")
    }

    // Regression: the example config in docs/CLIENT.md was refused (its trailing `#` comments).
    @Test("the config file example in docs/CLIENT.md is accepted as documented")
    func documentedExample() throws {
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../docs/CLIENT.md")
        let text = try String(contentsOf: docs.standardizedFileURL, encoding: .utf8)
        let start = try #require(text.range(of: "```text\n# ~/.config/orderdesk/desk.conf\n"))
        let end = try #require(text[start.upperBound...].range(of: "```"))
        let example = String(text[start.lowerBound..<end.lowerBound].dropFirst("```text\n".count))
        let settings = try parse([], files: ["/home/ana/.config/orderdesk/desk.conf": example])
        #expect(settings.host == "desk.internal" && settings.port == 7878 && settings.user == "ana")
        #expect(!settings.isBellEnabled && settings.isColorAllowed)
        let hashes = try parse([], files: ["/home/ana/.config/orderdesk/desk.conf": "user=ana#1  # a comment\nbell=on\t# tab before\n"])
        #expect(hashes.user == "ana#1", "a # inside a value stays")
        #expect(hashes.isBellEnabled)
    }

    @Test("-c repeats, switches switch")
    func commandsAndSwitches() throws {
        let settings = try parse(["-c", "PING", "--command", "WHO", "--json", "--no-bell", "--no-color", "--password-stdin"])
        #expect(settings.commands == ["PING", "WHO"])
        #expect(settings.isJSON && !settings.isBellEnabled && !settings.isColorAllowed && settings.readsPasswordFromStandardInput)
    }

    static let mistakes: [([String], [String: String], String)] = [
        (["--port", "0"], [:], "--port: 0 is not a port"),
        (["--port"], [:], "--port needs a value"),
        (["--frob"], [:], "unknown option --frob"),
        (["QUEUE"], [:], "unexpected argument QUEUE"),
        (["--json=yes"], [:], "--json takes no value"),
        (["--config", "/nowhere"], [:], "cannot read the config file /nowhere"),
        ([], ["/home/ana/.config/orderdesk/desk.conf": "colour=off\n"], "desk.conf:1: unknown setting colour"),
        ([], ["/home/ana/.config/orderdesk/desk.conf": "\n\nport\n"], "desk.conf:3: expected key=value"),
        ([], ["/home/ana/.config/orderdesk/desk.conf": "bell=maybe\n"], "maybe is not on or off"),
        (["--servers", "a:7878,,b"], [:], "--servers: an empty server"),
        (["--servers", "a:0"], [:], "--servers: 0 is not a port"),
        (["--servers", "::1"], [:], "put an IPv6 address in brackets"),
        (["--servers", "[::1"], [:], "has no closing ]"),
        (["--servers", ":7878"], [:], "has no host"),
        (["--servers", "a,b", "--host", "c"], [:], "leave out --host and --port"),
    ]

    @Test("--servers, ORDERDESK_SERVERS and servers= list the desk's servers; --host or --port name one")
    func serverLists() throws {
        let listed = try parse(["--servers", "desk-a:7878, desk-b:7979,[::1],10.0.0.9"])
        #expect(listed.servers == [Endpoint(host: "desk-a", port: 7878), Endpoint(host: "desk-b", port: 7979),
                                   Endpoint(host: "::1", port: 7878), Endpoint(host: "10.0.0.9", port: 7878)])
        #expect(listed.host == "desk-a" && listed.port == 7878, "the first is where the password prompt and last-event file point")
        #expect(listed.servers.map(\.description) == ["desk-a:7878", "desk-b:7979", "[::1]:7878", "10.0.0.9:7878"])
        let fromFile = try parse([], files: ["/home/ana/.config/orderdesk/desk.conf": "servers=a:1,b:2\n"])
        #expect(fromFile.servers == [Endpoint(host: "a", port: 1), Endpoint(host: "b", port: 2)])
        let fromEnvironment = try parse([], environment: ["HOME": "/home/ana", "ORDERDESK_SERVERS": "c:3,d:4"],
                                        files: ["/home/ana/.config/orderdesk/desk.conf": "servers=a:1,b:2\n"])
        #expect(fromEnvironment.servers == [Endpoint(host: "c", port: 3), Endpoint(host: "d", port: 4)])
        let oneServer = try parse(["--host", "e"], environment: ["HOME": "/home/ana", "ORDERDESK_SERVERS": "c:3,d:4"])
        #expect(oneServer.servers == [Endpoint(host: "e", port: 3)], "--host replaces the list (the port stays as given)")
        #expect(try parse([]).servers == [Endpoint(host: "127.0.0.1", port: 7878)])
    }

    @Test("usage errors say what is wrong", arguments: mistakes)
    func usageErrors(arguments: [String], files: [String: String], message: String) {
        #expect {
            _ = try parse(arguments, files: files)
        } throws: { error in
            (error as? UsageError)?.description.contains(message) == true
        }
    }

    @Test("colour only on a terminal, without NO_COLOR, with a TERM that is not dumb")
    func colourDecision() {
        let term = ["TERM": "xterm-256color"]
        #expect(Style.decide(isTerminal: true, environment: term, isAllowed: true).isEnabled)
        #expect(!Style.decide(isTerminal: false, environment: term, isAllowed: true).isEnabled)
        #expect(!Style.decide(isTerminal: true, environment: ["TERM": "xterm", "NO_COLOR": "1"], isAllowed: true).isEnabled)
        #expect(!Style.decide(isTerminal: true, environment: ["TERM": "dumb"], isAllowed: true).isEnabled)
        #expect(!Style.decide(isTerminal: true, environment: [:], isAllowed: true).isEnabled)
        #expect(!Style.decide(isTerminal: true, environment: term, isAllowed: false).isEnabled)
    }

    @Test("exit codes from error codes")
    func exitCodes() {
        #expect(ExitCode(errorCode: "not-found") == .notFound)
        #expect(ExitCode(errorCode: "denied") == .notAllowed)
        #expect(ExitCode(errorCode: "login-failed") == .notAllowed)
        #expect(ExitCode(errorCode: "connection-lost") == .cannotConnect)
        #expect(ExitCode(errorCode: "illegal-move") == .errorReply)
    }
}
