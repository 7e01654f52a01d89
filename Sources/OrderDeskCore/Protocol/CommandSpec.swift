/// One row of the command table: a command's wire name, what HELP and usage errors say about
/// it, who may use it, and how its arguments parse.
///
/// The rows (`CommandSpec+Table.swift`) are the only place a command's name is spelled: the
/// parser finds the row by the line's first word and calls its `parse`; `Command.name` and
/// `SessionCommand.name` come from their row; HELP lists the rows; the desk and the server
/// check roles with `allows`. The client learns names and usage from HELP, and a test holds
/// protocol.md's role table to these rows.
public struct CommandSpec: Sendable {
    public let name: String
    public let usage: String
    public let summary: String
    public let example: String
    /// Roles allowed; nil means anyone, even before login.
    public let roles: Set<Role>?
    /// Old names the parser still accepts for this command, for existing scripts. HELP lists
    /// only `name`; completion offers only `name`.
    public let deprecatedAliases: [String]
    /// Reads the arguments after the name into a command. The parser checks afterwards that
    /// nothing is left over.
    let parse: @Sendable (inout Arguments) throws(DeskError) -> ParsedCommand

    init(name: String, usage: String, summary: String, example: String, roles: Set<Role>?, deprecatedAliases: [String] = [],
         parse: @escaping @Sendable (inout Arguments) throws(DeskError) -> ParsedCommand) {
        self.name = name
        self.usage = usage
        self.summary = summary
        self.example = example
        self.roles = roles
        self.deprecatedAliases = deprecatedAliases
        self.parse = parse
    }

    /// True when a user of `role` may run this command.
    public func allows(_ role: Role) -> Bool { roles?.contains(role) ?? true }

    /// The command called `name` (upper-case), or of which `name` is a deprecated alias.
    public static func named(_ name: String) -> CommandSpec? {
        all.first { $0.name == name } ?? all.first { $0.deprecatedAliases.contains(name) }
    }
}
