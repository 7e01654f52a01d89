/// A whole reply: its data lines and how it ended.
public struct ServerReply: Equatable, Sendable {
    /// How a reply ended.
    public enum Outcome: Equatable, Sendable {
        /// `OK <summary>`.
        case ok(summary: String)
        /// `ERR <code> <message>`.
        case failure(code: String, message: String)
    }

    /// The command line it answers, as sent (never a LOGIN line: see `Session`).
    public var command: String
    /// Data lines without their `* `.
    public var data: [String]
    public var outcome: Outcome

    public init(command: String, data: [String], outcome: Outcome) {
        self.command = command
        self.data = data
        self.outcome = outcome
    }

    public var isOK: Bool {
        if case .ok = outcome { return true }
        return false
    }

    /// The command's name, upper-cased (`ORDER`), or "" for an empty line.
    public var commandName: String {
        String(command.split(separator: " ").first ?? "").uppercased()
    }

    /// The error code of a failed reply.
    public var errorCode: String? {
        if case .failure(let code, _) = outcome { return code }
        return nil
    }

    /// The error code the client uses when the connection drops before the reply came.
    public static let connectionLostCode = "connection-lost"
}
