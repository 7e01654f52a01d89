/// One line the server sends, classified by its first word (protocol.md, "Lines from the server").
public enum ServerLine: Equatable, Sendable {
    /// `HELLO orderdesk <version> key=value...`: the greeting, first line of every connection.
    case hello(fields: [String: String])
    /// `* ...`: a data line of the reply in progress.
    case data(String)
    /// `OK ...`: the last line of a successful reply.
    case ok(String)
    /// `ERR <code> <message>`: the last line of a failed reply.
    case error(code: String, message: String)
    /// `EVENT <id> <kind> key=value...`: a push, never part of a reply.
    case event(id: UInt64, kind: String, fields: [String: String])
    /// `BYE <reason>`: the server is closing this connection.
    case bye(String)
    /// Anything else (a newer server's line kind).
    case unknown(String)

    /// True for the lines that end a reply.
    public var endsReply: Bool {
        switch self {
        case .ok, .error: true
        default: false
        }
    }

    /// Classifies one line.
    public init(_ line: String) {
        if line.hasPrefix("* ") || line == "*" {
            self = .data(String(line.dropFirst(2)))
        } else if line == "OK" || line.hasPrefix("OK ") {
            self = .ok(String(line.dropFirst(3)))
        } else if line.hasPrefix("ERR ") {
            let rest = line.dropFirst(4)
            let code = rest.prefix { $0 != " " }
            self = .error(code: String(code), message: String(rest.dropFirst(code.count + 1)))
        } else if line.hasPrefix("EVENT ") {
            let tokens = (try? Tokenizer.tokens(String(line.dropFirst(6)))) ?? []
            guard tokens.count >= 2, tokens[0].key == nil, let id = UInt64(tokens[0].value), tokens[1].key == nil else {
                self = .unknown(line)
                return
            }
            self = .event(id: id, kind: tokens[1].value, fields: Self.fields(tokens.dropFirst(2)))
        } else if line.hasPrefix("HELLO ") {
            self = .hello(fields: Self.fields(((try? Tokenizer.tokens(String(line.dropFirst(6)))) ?? [])[...]))
        } else if line == "BYE" || line.hasPrefix("BYE ") {
            self = .bye(String(line.dropFirst(4)))
        } else {
            self = .unknown(line)
        }
    }

    /// The id of an `EVENT <id> ...` line, without parsing the rest.
    public static func eventID(_ line: String) -> UInt64? {
        guard line.hasPrefix("EVENT ") else { return nil }
        return UInt64(line.dropFirst(6).prefix { $0 != " " })
    }

    /// The `key=value` fields among `tokens`; plain words are skipped.
    public static func fields(_ tokens: ArraySlice<Token>) -> [String: String] {
        var fields: [String: String] = [:]
        for token in tokens {
            if let key = token.key { fields[key] = token.value }
        }
        return fields
    }
}
