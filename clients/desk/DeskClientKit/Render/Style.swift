/// ANSI colours and emphasis, or plain text when colour is off.
///
/// Colour is on only when output goes to a terminal, `NO_COLOR` is not set, `TERM` is not
/// `dumb` and `--no-color` was not given (`Style.decide`). With colour off no escape byte is
/// ever written.
public struct Style: Sendable, Equatable {
    public var isEnabled: Bool

    public init(isEnabled: Bool) { self.isEnabled = isEnabled }

    public static let plain = Style(isEnabled: false)

    /// Whether to colour output: `isTerminal` is whether stdout is a terminal.
    public static func decide(isTerminal: Bool, environment: [String: String], isAllowed: Bool) -> Style {
        let noColor = !(environment["NO_COLOR"] ?? "").isEmpty
        let term = environment["TERM"] ?? ""
        return Style(isEnabled: isAllowed && isTerminal && !noColor && !term.isEmpty && term != "dumb")
    }

    public func bold(_ text: String) -> String { paint("1", text) }
    public func dim(_ text: String) -> String { paint("2", text) }
    public func red(_ text: String) -> String { paint("31", text) }
    public func green(_ text: String) -> String { paint("32", text) }
    public func yellow(_ text: String) -> String { paint("33", text) }
    public func blue(_ text: String) -> String { paint("34", text) }
    public func magenta(_ text: String) -> String { paint("35", text) }
    public func cyan(_ text: String) -> String { paint("36", text) }

    private func paint(_ code: String, _ text: String) -> String {
        guard isEnabled, !text.isEmpty else { return text }
        return "\u{1B}[" + code + "m" + text + "\u{1B}[0m"
    }
}

extension Style {
    /// Bold magenta: a ping addressed to the user (mention, lease, reassignment, message).
    public func ping(_ text: String) -> String {
        guard isEnabled, !text.isEmpty else { return text }
        return "\u{1B}[1;35m" + text + "\u{1B}[0m"
    }
}
