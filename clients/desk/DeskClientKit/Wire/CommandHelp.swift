/// One command as the server's `HELP` lists it: `* command=NAME usage=".." summary=".."`.
public struct CommandHelp: Equatable, Sendable {
    public var name: String
    public var usage: String
    public var summary: String

    public init(name: String, usage: String, summary: String) {
        self.name = name
        self.usage = usage
        self.summary = summary
    }

    /// The commands in a `HELP` reply's data lines; lines of another shape are skipped.
    public static func list(from data: [String]) -> [CommandHelp] {
        data.compactMap { line in
            let record = Record(line)
            guard let name = record["command"] else { return nil }
            return CommandHelp(name: name.uppercased(), usage: record["usage"] ?? name, summary: record["summary"] ?? "")
        }
    }
}
