import OrderDeskWire

/// Every way a command can fail. `code` is stable and machine-readable; `message` is for people.
public enum DeskError: Error, Sendable, Equatable {
    /// The first word is not a command.
    case unknownCommand(String, suggestion: String?)
    /// The arguments do not fit the command's syntax.
    case badArguments(usage: String, detail: String)
    /// The line could not be read: bad quoting, control characters, empty.
    case badLine(String)
    /// The line was not valid UTF-8.
    case invalidUTF8
    /// The line was longer than the limit and was discarded.
    case lineTooLong(limit: Int)
    /// A value is over its limit (note length, order lines).
    case tooLarge(what: String, limit: Int)
    /// An amount (a line's quantity times price, or an order's total) is past `Money.maximum`.
    case amountTooLarge(what: String)
    /// The command needs a logged-in user.
    case notLoggedIn
    /// LOGIN on a session that is already logged in.
    case alreadyLoggedIn
    /// Wrong user or password; the same for both, on purpose.
    case loginFailed
    /// PASSWORD with an old password that is not the user's.
    case oldPasswordWrong
    /// The user is disabled: LOGIN with the right password, or REASSIGN to them.
    case userDisabled(String)
    /// The user's role may not use the command.
    case denied(command: String, role: Role)
    /// No order with that number.
    case orderNotFound(String)
    /// A bare number (`ORDER 10089`) that ends more than one order's number.
    case ambiguousOrder(String, candidates: [String])
    /// No user with that name.
    case userNotFound(String)
    /// CAPTURE of a number that exists; orders are never merged.
    case orderExists(String)
    /// USER ADD of a name that exists.
    case userExists(String)
    /// Someone else holds the order.
    case claimedByOther(order: String, holder: String, until: Instant)
    /// The command needs a claim on the order, which the user does not hold.
    case notHolder(order: String)
    /// The order's stage does not allow this (transition table, or a finished order).
    /// `action` names what was refused: `move to shipped`, `claim`, `hold`.
    case illegalMove(order: String, from: Stage, action: String)
    /// The order cannot move on while holds are open.
    case openHolds(order: String, types: [HoldType])
    /// A hold of that type is already open on the order.
    case holdExists(order: String, type: HoldType)
    /// No open hold of that type on the order.
    case noOpenHold(order: String, type: HoldType)
    /// NEXT found no unclaimed order in the queue.
    case queueEmpty(QueueName)
    /// The user named is not one who can hold orders.
    case notAProcessor(String)
    /// The change could not be committed to disk; nothing changed.
    case storageFailed
    /// The server is shutting down and takes no new changes.
    case shuttingDown
    /// The change would leave the desk without an enabled administrator.
    case lastAdmin(String)
    /// Too many failed logins from this address lately: it must wait before trying again.
    case loginThrottled(retryAfterSeconds: Int64)
    /// The server is at a limit it keeps for everyone's sake (password checks waiting, look-ups
    /// in progress); nothing changed, and the same command may succeed in a moment.
    case busy(String)

    /// The stable wire code, as listed in protocol.md.
    public var code: String {
        switch self {
        case .unknownCommand: "unknown-command"
        case .badArguments: "bad-arguments"
        case .badLine: "bad-line"
        case .invalidUTF8: "bad-utf8"
        case .lineTooLong: "line-too-long"
        case .tooLarge, .amountTooLarge: "too-large"
        case .notLoggedIn: "not-logged-in"
        case .alreadyLoggedIn: "already-logged-in"
        case .loginFailed, .oldPasswordWrong: "login-failed"
        case .userDisabled: "disabled"
        case .denied: "denied"
        case .orderNotFound, .userNotFound: "not-found"
        case .ambiguousOrder: "ambiguous"
        case .orderExists, .userExists: "exists"
        case .claimedByOther: "claimed"
        case .notHolder: "not-holder"
        case .illegalMove: "illegal-move"
        case .openHolds: "open-holds"
        case .holdExists: "hold-exists"
        case .noOpenHold: "no-hold"
        case .queueEmpty: "queue-empty"
        case .notAProcessor: "bad-user"
        case .storageFailed: "storage"
        case .shuttingDown: "shutting-down"
        case .lastAdmin: "last-admin"
        case .loginThrottled: "throttled"
        case .busy: "busy"
        }
    }

    /// The human part of the ERR line; fields a program may want come as key=value first.
    /// Messages quote what the client sent, so control characters are written as escapes:
    /// the ERR line stays one line whatever the input.
    public var message: String { Self.oneLine(text) }

    private var text: String {
        switch self {
        case .unknownCommand(let word, let suggestion):
            if let suggestion { return "unknown command \(Quoting.word(word)); did you mean \(suggestion)? (HELP lists commands)" }
            return "unknown command \(Quoting.word(word)); HELP lists commands"
        case .badArguments(let usage, let detail): return "\(detail); usage: \(usage)"
        case .badLine(let detail): return detail
        case .invalidUTF8: return "the line is not valid UTF-8 and was ignored"
        case .lineTooLong(let limit): return "line longer than \(limit) bytes was discarded"
        case .tooLarge(let what, let limit): return "\(what) is over the limit of \(limit)"
        case .amountTooLarge(let what): return "\(what) is over the limit of \(Money.maximum.decimal)"
        case .notLoggedIn: return "log in first: LOGIN <user> <password>"
        case .alreadyLoggedIn: return "this connection is already logged in; QUIT and reconnect to change user"
        case .loginFailed: return "unknown user or wrong password"
        case .oldPasswordWrong: return "the old password is wrong; nothing changed"
        case .userDisabled(let name): return "user=\(Quoting.word(name)) this user is disabled; an administrator can USER ENABLE them"
        case .denied(let command, let role): return "\(command) is not allowed for role \(role.rawValue)"
        case .orderNotFound(let number): return "order=\(number) no such order"
        case .ambiguousOrder(let number, let candidates):
            let shown = candidates.prefix(10).joined(separator: ",") + (candidates.count > 10 ? ",..." : "")
            return "order=\(number) orders=\(shown) \(number) could be any of these; give the whole number"
        case .userNotFound(let name): return "user=\(Quoting.word(name)) no such user"
        case .orderExists(let number): return "order=\(number) an order with this number exists; orders are never merged"
        case .userExists(let name): return "user=\(name) a user with this name exists; USER ROLE changes a role"
        case .claimedByOther(let order, let holder, let until):
            return "order=\(order) holder=\(holder) until=\(until.iso8601) held by \(holder)"
        case .notHolder(let order): return "order=\(order) you do not hold this order; CLAIM it first"
        case .illegalMove(let order, let from, let action): return "order=\(order) stage=\(from.rawValue) cannot \(action) an order that is \(from.rawValue)"
        case .openHolds(let order, let types):
            let list = types.map(\.rawValue).joined(separator: ",")
            return "order=\(order) holds=\(list) release the holds first"
        case .holdExists(let order, let type): return "order=\(order) type=\(type.rawValue) a \(type.rawValue) hold is already open"
        case .noOpenHold(let order, let type): return "order=\(order) type=\(type.rawValue) no open \(type.rawValue) hold"
        case .queueEmpty(let queue): return "queue=\(queue.wireName) nothing to claim"
        case .notAProcessor(let name): return "user=\(Quoting.word(name)) only processors and admins hold orders"
        case .storageFailed: return "the change could not be saved; nothing changed, try again"
        case .shuttingDown: return "the desk is shutting down"
        case .lastAdmin(let name): return "user=\(Quoting.word(name)) is the last admin; make another user admin first"
        case .loginThrottled(let seconds): return "retry-after=\(seconds) too many failed logins from this address; wait \(seconds) s"
        case .busy(let detail): return "\(detail); try again in a moment"
        }
    }

    /// `text` with LF, CR and TAB as `\n`, `\r`, `\t` and other control characters as spaces.
    static func oneLine(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default: if scalar.value < 0x20 || scalar.value == 0x7F { out += " " } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out
    }
}

