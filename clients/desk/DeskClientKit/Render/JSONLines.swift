/// `--json`: one JSON object per line for each reply and each push (docs/CLIENT.md, "Scripting").
///
/// ```
/// {"ok":true,"command":"QUEUE new 1","summary":"queue=new count=9 shown=1","fields":{...},"data":["SO-1 ..."],"records":[{"words":["SO-1"],"fields":{...}}]}
/// {"ok":false,"command":"ORDER SO-9","code":"not-found","message":"order=SO-9 no such order"}
/// {"event":{"id":212,"kind":"note","fields":{"order":"SO-1",...}}}
/// ```
/// Keys come in a fixed order (fields in wire order) so output diffs cleanly.
public enum JSONLines {
    public static func line(for reply: ServerReply) -> String {
        switch reply.outcome {
        case .ok(let summary):
            let records = reply.data.map { line -> String in
                let record = Record(line)
                return object([("words", array(record.words.map(string))), ("fields", fields(record.fields))])
            }
            return object([
                ("ok", "true"), ("command", string(reply.command)), ("summary", string(summary)),
                ("fields", fields(Record(summary).fields)), ("data", array(reply.data.map(string))), ("records", array(records)),
            ])
        case .failure(let code, let message):
            return object([("ok", "false"), ("command", string(reply.command)), ("code", string(code)), ("message", string(message))])
        }
    }

    public static func line(for event: ServerEvent, isReplayed: Bool = false) -> String {
        var members = [("id", String(event.id)), ("kind", string(event.kind)),
                       ("fields", fields(event.fields.keys.sorted().map { ($0, event.fields[$0] ?? "") }))]
        if isReplayed { members.append(("replayed", "true")) }
        return object([("event", object(members))])
    }

    /// A client-side notice (`{"notice":"reconnected",...}`) for things that are not replies.
    public static func notice(_ name: String, _ members: [(String, String)] = []) -> String {
        object([("notice", string(name))] + members.map { ($0.0, string($0.1)) })
    }

    static func fields(_ fields: [(key: String, value: String)]) -> String {
        object(fields.map { ($0.key, string($0.value)) })
    }

    static func object(_ members: [(String, String)]) -> String {
        "{" + members.map { string($0.0) + ":" + $0.1 }.joined(separator: ",") + "}"
    }

    static func array(_ items: [String]) -> String { "[" + items.joined(separator: ",") + "]" }

    /// A JSON string literal: quotes, backslashes and control characters escaped.
    static func string(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
