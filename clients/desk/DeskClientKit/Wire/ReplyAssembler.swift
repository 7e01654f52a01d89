import OrderDeskWire

/// Puts server lines back together into replies and pushes.
///
/// Replies come in the order the commands were sent, each as zero or more `* ` lines and one
/// `OK`/`ERR` line; `EVENT` lines may come between replies (never inside one on this server,
/// but they are passed through wherever they come). `Tag` is whatever the caller needs to
/// route a reply back (a callback, a purpose).
struct ReplyAssembler<Tag> {
    /// Something complete.
    enum Output {
        case reply(ServerReply, Tag)
        case event(ServerEvent)
        case hello([String: String])
        case bye(String)
        /// A line that fits nowhere (a reply nobody asked for, a newer server's line kind).
        case unexpected(String)
    }

    private var waiting: [(command: String, tag: Tag)] = []
    private var data: [String] = []

    /// Commands sent and not answered yet.
    var outstandingCount: Int { waiting.count }

    /// Notes that `command` was sent; its reply will carry `tag`.
    mutating func expect(_ command: String, tag: Tag) {
        waiting.append((command, tag))
    }

    mutating func receive(_ line: String) -> Output? {
        switch ServerLine(line) {
        case .hello(let fields): return .hello(fields)
        case .data(let text):
            guard !waiting.isEmpty else { return .unexpected(line) }
            data.append(text)
            return nil
        case .ok(let summary): return finish(.ok(summary: summary), line: line)
        case .error(let code, let message): return finish(.failure(code: code, message: message), line: line)
        case .event(let id, let kind, let fields): return .event(ServerEvent(id: id, kind: kind, fields: fields))
        case .bye(let reason): return .bye(reason)
        case .unknown(let text): return .unexpected(text)
        }
    }

    /// Gives up on every outstanding command (the connection is gone); returns them in order.
    mutating func abandon() -> [(command: String, tag: Tag)] {
        defer {
            waiting = []
            data = []
        }
        return waiting
    }

    private mutating func finish(_ outcome: ServerReply.Outcome, line: String) -> Output {
        guard !waiting.isEmpty else { return .unexpected(line) }
        let (command, tag) = waiting.removeFirst()
        let reply = ServerReply(command: command, data: data, outcome: outcome)
        data = []
        return .reply(reply, tag)
    }
}
