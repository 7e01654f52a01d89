import Foundation

/// Everything `desk` is told at start: flags, then environment, then the config file.
///
/// Precedence: flags win over `ORDERDESK_*` environment variables, which win over the config
/// file (`$XDG_CONFIG_HOME/orderdesk/desk.conf`, default `~/.config/orderdesk/desk.conf`),
/// which wins over the defaults. docs/CLIENT.md lists every flag and key.
public struct Settings: Sendable, Equatable {
    public var host = "127.0.0.1"
    public var port: UInt16 = 7878
    /// `--servers a:7878,b:7878`: the desk's servers, tried in turn when a connection drops or
    /// cannot be made. Empty unless given; then `host` and `port` are the first of them.
    public var alternates: [Endpoint] = []
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
        if nonEmpty(environment["ORDERDESK_HOST"]) != nil || nonEmpty(environment["ORDERDESK_PORT"]) != nil { settings.alternates = [] }
        if let host = nonEmpty(environment["ORDERDESK_HOST"]) { settings.host = host }
        if let port = nonEmpty(environment["ORDERDESK_PORT"]) { settings.port = try parsePort(port, source: "ORDERDESK_PORT") }
        if let user = nonEmpty(environment["ORDERDESK_USER"]) { settings.user = user }
        if let list = nonEmpty(environment["ORDERDESK_SERVERS"]) { try settings.setServers(list, source: "ORDERDESK_SERVERS") }

        // --host and --port name one server, whatever a list elsewhere said.
        if flags.values["host"] != nil || flags.values["port"] != nil { settings.alternates = [] }
        if let host = flags.values["host"] { settings.host = host }
        if let port = flags.values["port"] { settings.port = try parsePort(port, source: "--port") }
        if let user = flags.values["user"] { settings.user = user }
        if let list = flags.values["servers"] {
            guard flags.values["host"] == nil, flags.values["port"] == nil else { throw UsageError("--servers names every server; leave out --host and --port") }
            try settings.setServers(list, source: "--servers")
        }
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
            case "servers": try setServers(entry.value, source: place)
            case "bell": isBellEnabled = try Self.parseSwitch(entry.value, source: place)
            case "color": isColorAllowed = try Self.parseSwitch(entry.value, source: place)
            case "status": showsStatusLine = try Self.parseSwitch(entry.value, source: place)
            default: throw UsageError("\(place): unknown setting \(entry.key) (known: host, port, servers, tls, ca, user, bell, color, status)")
            }
        }
    }

    /// The servers to try, in order: the first is `host:port`.
    public var servers: [Endpoint] { [Endpoint(host: host, port: port)] + alternates }

    /// Reads `a:7878,b:7878` (a port may be left out: 7878; an IPv6 address goes in brackets,
    /// `[::1]:7878`) into `host`, `port` and `alternates`.
    mutating func setServers(_ list: String, source: String) throws(UsageError) {
        var endpoints: [Endpoint] = []
        for item in list.split(separator: ",", omittingEmptySubsequences: false).map({ $0.trimmingCharacters(in: .whitespaces) }) {
            guard !item.isEmpty else { throw UsageError("\(source): an empty server in \(list)") }
            endpoints.append(try Endpoint.parse(item, source: source))
        }
        guard let first = endpoints.first else { throw UsageError("\(source): no server given") }
        guard endpoints.count <= 16 else { throw UsageError("\(source): at most 16 servers") }
        host = first.host
        port = first.port
        alternates = Array(endpoints.dropFirst())
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
          --servers LIST     the desk's servers, HOST[:PORT],...: when one drops, desk goes to the
                             next and catches up (env ORDERDESK_SERVERS)
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

/// One server's address.
public struct Endpoint: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: UInt16

    public init(host: String, port: UInt16) {
        self.host = host
        self.port = port
    }

    /// `host:port`, with an IPv6 address in brackets.
    public var description: String { (host.contains(":") ? "[\(host)]" : host) + ":" + String(port) }

    /// `host`, `host:port`, `[v6]` or `[v6]:port`; the port defaults to 7878.
    static func parse(_ text: String, source: String) throws(UsageError) -> Endpoint {
        var host = text
        var portText: String?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw UsageError("\(source): \(text) has no closing ]") }
            host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else { throw UsageError("\(source): \(text) is not [address]:port") }
                portText = String(rest.dropFirst())
            }
        } else if let colon = text.lastIndex(of: ":") {
            guard text.firstIndex(of: ":") == colon else { throw UsageError("\(source): \(text): put an IPv6 address in brackets, [::1]:7878") }
            host = String(text[..<colon])
            portText = String(text[text.index(after: colon)...])
        }
        guard !host.isEmpty, !host.contains(where: { $0.isWhitespace }) else { throw UsageError("\(source): \(text) has no host") }
        return Endpoint(host: host, port: try portText.map { p throws(UsageError) in try Settings.parsePort(p, source: source) } ?? 7878)
    }
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

    static let valued: Set<String> = ["host", "port", "servers", "user", "config", "command", "ca"]
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
