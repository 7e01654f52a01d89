import Foundation

/// Everything `desk` is told at start: flags, then environment, then the config file.
///
/// Precedence: flags win over `ORDERDESK_*` environment variables, which win over the config
/// file (`$XDG_CONFIG_HOME/orderdesk/desk.conf`, default `~/.config/orderdesk/desk.conf`),
/// which wins over the defaults. docs/CLIENT.md lists every flag and key.
public struct Settings: Sendable, Equatable {
    public var host = "127.0.0.1"
    public var port: UInt16 = 7878
    /// `--tls`: speak TLS and verify the server's certificate (against `caFile`, or the system's trust store).
    public var isTLS = false
    public var caFile: String?
    public var user: String?
    /// `-c` commands, run in order, then exit.
    public var commands: [String] = []
    public var isJSON = false
    public var isBellEnabled = true
    public var isColorAllowed = true
    /// The status line under the input line (`--no-status`, `status=off` turn it off).
    public var showsStatusLine = true
    /// `--password-stdin`: the first line of standard input is the password.
    public var readsPasswordFromStandardInput = false
    public var historyPath: String
    public var configPath: String
    public var showsHelp = false
    public var showsVersion = false

    /// Where the id of the last push seen is kept for `user` on this server (beside the history).
    public func lastEventFile(for user: String) -> LastEventFile {
        LastEventFile(folder: (historyPath as NSString).deletingLastPathComponent, user: user, host: host, port: port)
    }

    /// Reads `arguments` (without the program name), `environment`, and the config file via `readFile`.
    public static func parse(arguments: [String], environment: [String: String],
                             readFile: (String) -> String?) throws(UsageError) -> Settings {
        let home = environment["HOME"] ?? "."
        let configHome = nonEmpty(environment["XDG_CONFIG_HOME"]) ?? home + "/.config"
        let stateHome = nonEmpty(environment["XDG_STATE_HOME"]) ?? home + "/.local/state"
        var settings = Settings(historyPath: stateHome + "/orderdesk/history", configPath: configHome + "/orderdesk/desk.conf")
        let flags = try Flags(arguments)
        if let path = flags.values["config"] { settings.configPath = path }

        if let text = readFile(settings.configPath) {
            try settings.apply(ConfigFile(text: text, path: settings.configPath))
        } else if flags.values["config"] != nil {
            throw UsageError("cannot read the config file \(settings.configPath)")
        }
        if let host = nonEmpty(environment["ORDERDESK_HOST"]) { settings.host = host }
        if let port = nonEmpty(environment["ORDERDESK_PORT"]) { settings.port = try parsePort(port, source: "ORDERDESK_PORT") }
        if let user = nonEmpty(environment["ORDERDESK_USER"]) { settings.user = user }

        if let host = flags.values["host"] { settings.host = host }
        if let port = flags.values["port"] { settings.port = try parsePort(port, source: "--port") }
        if let user = flags.values["user"] { settings.user = user }
        if flags.switches.contains("tls") { settings.isTLS = true }
        if let ca = flags.values["ca"] {
            settings.caFile = ca
            settings.isTLS = true
        }
        settings.commands = flags.commands
        settings.isJSON = flags.switches.contains("json")
        if flags.switches.contains("no-bell") { settings.isBellEnabled = false }
        if flags.switches.contains("no-color") { settings.isColorAllowed = false }
        if flags.switches.contains("no-status") { settings.showsStatusLine = false }
        settings.readsPasswordFromStandardInput = flags.switches.contains("password-stdin")
        settings.showsHelp = flags.switches.contains("help")
        settings.showsVersion = flags.switches.contains("version")
        return settings
    }

    private mutating func apply(_ file: ConfigFile) throws(UsageError) {
        for entry in file.entries {
            let place = "\(file.path):\(entry.line)"
            switch entry.key {
            case "host": host = entry.value
            case "port": port = try Self.parsePort(entry.value, source: place)
            case "tls": isTLS = try Self.parseSwitch(entry.value, source: place)
            case "ca":
                caFile = entry.value
                isTLS = true
            case "user": user = entry.value
            case "bell": isBellEnabled = try Self.parseSwitch(entry.value, source: place)
            case "color": isColorAllowed = try Self.parseSwitch(entry.value, source: place)
            case "status": showsStatusLine = try Self.parseSwitch(entry.value, source: place)
            default: throw UsageError("\(place): unknown setting \(entry.key) (known: host, port, tls, ca, user, bell, color, status)")
            }
        }
    }

    static func parsePort(_ text: String, source: String) throws(UsageError) -> UInt16 {
        guard let port = UInt16(text), port > 0 else { throw UsageError("\(source): \(text) is not a port (1-65535)") }
        return port
    }

    static func parseSwitch(_ text: String, source: String) throws(UsageError) -> Bool {
        switch text.lowercased() {
        case "on", "yes", "true", "1": return true
        case "off", "no", "false", "0": return false
        default: throw UsageError("\(source): \(text) is not on or off")
        }
    }

    private static func nonEmpty(_ text: String?) -> String? {
        guard let text, !text.isEmpty else { return nil }
        return text
    }

    /// The text of `desk --help`.
    public static let usage = """
        usage: desk [--host HOST] [--port PORT] [--user NAME] [options]
               desk --user NAME -c "COMMAND" [-c "COMMAND"...] [--json]
               desk --user NAME [--json] < commands.txt

          --host HOST        server address (default 127.0.0.1; env ORDERDESK_HOST)
          --port PORT        server port (default 7878; env ORDERDESK_PORT)
          --tls              speak TLS; the server's certificate must be trusted and for HOST
          --ca FILE          trust the CA certificates in FILE (PEM) instead of the system's (implies --tls)
          --user NAME        log in as NAME (env ORDERDESK_USER; asked for when missing)
          -c, --command CMD  run CMD, print the reply, exit (repeatable)
          --json             print one JSON object per reply and push
          --password-stdin   read the password from the first line of standard input
          --no-bell          never ring the terminal bell for pings
          --no-color         never colour output
          --no-status        no status line under the input line
          --config PATH      config file (default $XDG_CONFIG_HOME/orderdesk/desk.conf)
          -h, --help         this text;  --version  the version

        The password comes from ORDERDESK_PASSWORD, --password-stdin, or a prompt without echo.
        Exit codes: 0 ok, 1 error reply, 2 usage, 3 cannot connect, 4 login failed or denied,
        5 not found, 6 the server's TLS certificate was refused. docs/CLIENT.md has the rest.
        """

    public static let version = "desk 1"
}

/// A mistake in flags, environment or config file; exit status 2.
public struct UsageError: Error, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The command line split into values, switches and `-c` commands.
private struct Flags {
    var values: [String: String] = [:]
    var switches: Set<String> = []
    var commands: [String] = []

    static let valued: Set<String> = ["host", "port", "user", "config", "command", "ca"]
    static let switchNames: Set<String> = ["tls", "json", "no-bell", "no-color", "no-status", "password-stdin", "help", "version"]
    static let short: [String: String] = ["-c": "command", "-u": "user", "-h": "help"]

    init(_ arguments: [String]) throws(UsageError) {
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            var name: String
            var inlineValue: String?
            if let long = Self.short[argument] {
                name = long
            } else if argument.hasPrefix("--") {
                name = String(argument.dropFirst(2))
                if let equals = name.firstIndex(of: "=") {
                    inlineValue = String(name[name.index(after: equals)...])
                    name = String(name[..<equals])
                }
            } else {
                throw UsageError("unexpected argument \(argument); commands go after -c (desk --help)")
            }
            if Self.switchNames.contains(name) {
                guard inlineValue == nil else { throw UsageError("--\(name) takes no value") }
                switches.insert(name)
                continue
            }
            guard Self.valued.contains(name) else { throw UsageError("unknown option \(argument) (desk --help)") }
            let value: String
            if let inlineValue {
                value = inlineValue
            } else {
                guard index < arguments.count else { throw UsageError("\(argument) needs a value") }
                value = arguments[index]
                index += 1
            }
            if name == "command" { commands.append(value) } else { values[name] = value }
        }
    }
}
