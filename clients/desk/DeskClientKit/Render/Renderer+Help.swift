/// `help` (the command list) and `help COMMAND` (one command), from the server's HELP.
extension Renderer {
    /// The command list, then the client's own keys.
    public func helpList(_ commands: [CommandHelp]) -> [String] {
        var table = Table(header: [])
        table.maximumWidth = 90
        table.indent = "  "
        table.totalWidthLimit = maximumWidth
        table.rows = commands.map { [Table.Cell($0.name, paint: style.bold), Table.Cell($0.summary)] }
        var out = [style.bold("Commands") + style.dim(" (case does not matter; help NAME shows usage and an example)")]
        out += table.lines(style: style)
        out.append(style.bold("desk") + style.dim("  dashboard: METRICS live (admins) · use SO-…: the current order, whose number may be left out · quit"))
        out.append(style.bold("Keys") + style.dim("  Tab completes commands, order numbers and @names · ↑/↓ history · Ctrl-R search"))
        out.append(style.dim("      Ctrl-A/E start/end · Alt-B/F words · Ctrl-U/K/W cut · Ctrl-Y paste · Ctrl-L clear · Ctrl-D quit"))
        return out
    }

    /// `HELP NAME` reply: usage, summary, roles, example.
    func helpLines(_ reply: ServerReply) -> [String] {
        guard case .ok(let summary) = reply.outcome else { return [] }
        if reply.data.first.map({ Record($0)["command"] != nil }) == true {
            return helpList(CommandHelp.list(from: reply.data))
        }
        var fields: [String: String] = [:]
        for line in reply.data { fields.merge(Record(line).fieldDictionary) { $1 } }
        var out = [style.bold(fields["usage"] ?? summary)]
        if let text = fields["summary"] { out.append("  " + text) }
        if let roles = fields["roles"] { out.append("  " + style.dim("roles    ") + roles.split(separator: ",").joined(separator: ", ")) }
        if let example = fields["example"] { out.append("  " + style.dim("example  ") + example) }
        return out
    }
}
