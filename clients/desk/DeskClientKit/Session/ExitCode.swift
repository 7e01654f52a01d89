/// The exit codes of `desk` (docs/CLIENT.md, "Exit codes").
public enum ExitCode: Int32, Sendable {
    case success = 0
    /// The server answered ERR with a code not listed below.
    case errorReply = 1
    /// Bad flags, a bad config file, no password where one is needed.
    case usage = 2
    /// No connection to the server, or it dropped during a script.
    case cannotConnect = 3
    /// Login failed, or the role may not use the command (`denied`, `not-logged-in`).
    case notAllowed = 4
    /// The order or user does not exist.
    case notFound = 5
    /// `--tls`: the server's certificate was not trusted, or not for the host dialled.
    case certificateRefused = 6

    /// The status for a reply that ended in `ERR code`.
    public init(errorCode code: String) {
        switch code {
        case "not-found": self = .notFound
        case "login-failed", "denied", "not-logged-in", "disabled": self = .notAllowed
        case ServerReply.connectionLostCode: self = .cannotConnect
        default: self = .errorReply
        }
    }
}
