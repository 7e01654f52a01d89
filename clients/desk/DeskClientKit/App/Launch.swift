import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Start-up: settings from flags, environment and config; the user name and password; and
/// which app runs (the chat screen on a terminal, a script otherwise).
public enum Launch {
    /// The settings, or exit: status 2 with a message for a usage error, 0 after `--help`.
    public static func settings(arguments: [String], environment: [String: String]) -> Settings {
        do {
            let settings = try Settings.parse(arguments: arguments, environment: environment) { path in
                guard let data = FileManager.default.contents(atPath: path) else { return nil }
                return String(decoding: data, as: UTF8.self)
            }
            if settings.showsHelp {
                Output.write(Settings.usage + "\n", to: STDOUT_FILENO)
                exit(ExitCode.success.rawValue)
            }
            if settings.showsVersion {
                Output.write(Settings.version + "\n", to: STDOUT_FILENO)
                exit(ExitCode.success.rawValue)
            }
            return settings
        } catch {
            usageFailure(error.description)
        }
    }

    /// Builds the app for `settings`, asking for the user name and password when needed.
    public static func app(settings: Settings, environment: [String: String]) -> DeskApp {
        signal(SIGPIPE, SIG_IGN)
        var settings = settings
        let isTerminal = Terminal.isTerminal(STDIN_FILENO) && Terminal.isTerminal(STDOUT_FILENO)
        let term = environment["TERM"] ?? ""
        let isInteractive = settings.commands.isEmpty && !settings.isJSON && isTerminal && !term.isEmpty && term != "dumb"
        if settings.user == nil && isInteractive {
            guard let user = Terminal.readLine(prompt: "user: ", echo: true)?.trimmingSpaces(), !user.isEmpty else {
                usageFailure("no user name given")
            }
            settings.user = user
        }
        let password = settings.user.map { readPassword(for: $0, settings: settings, environment: environment) }
        let style = Style.decide(isTerminal: Terminal.isTerminal(STDOUT_FILENO), environment: environment, isAllowed: settings.isColorAllowed)
        let queue = DispatchQueue(label: "desk.client")
        if isInteractive {
            let isPrompted = !settings.readsPasswordFromStandardInput && (environment["ORDERDESK_PASSWORD"] ?? "").isEmpty
            return InteractiveApp(settings: settings, password: password, asksAgain: isPrompted, style: style, queue: queue)
        }
        let input: ScriptApp.Input = settings.commands.isEmpty ? .standardInput : .commands(settings.commands)
        return ScriptApp(settings: settings, password: password, style: style, input: input, queue: queue)
    }

    /// `--password-stdin`, then `ORDERDESK_PASSWORD`, then a prompt without echo on a terminal.
    private static func readPassword(for user: String, settings: Settings, environment: [String: String]) -> String {
        if settings.readsPasswordFromStandardInput {
            guard let line = Terminal.readLineUnbuffered(from: STDIN_FILENO) else { usageFailure("--password-stdin: standard input is empty") }
            return line
        }
        if let password = environment["ORDERDESK_PASSWORD"], !password.isEmpty { return password }
        guard Terminal.isTerminal(STDIN_FILENO) else {
            usageFailure("no password for \(user): set ORDERDESK_PASSWORD or use --password-stdin")
        }
        guard let line = askPassword(for: user, settings: settings) else { usageFailure("no password given") }
        return line
    }

    /// The password prompt on the terminal, without echo; nil when given up (Ctrl-C, Ctrl-D).
    static func askPassword(for user: String, settings: Settings) -> String? {
        Terminal.readLine(prompt: "password for \(user)@\(settings.host):\(settings.port): ", echo: false)
    }

    private static func usageFailure(_ message: String) -> Never {
        Output.write("desk: " + message + "\n", to: STDERR_FILENO)
        exit(ExitCode.usage.rawValue)
    }
}
