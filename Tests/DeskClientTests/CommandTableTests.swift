import DeskClientKit
import Foundation
import OrderDeskCore
import Testing
import TestSupport

/// The desk client keeps no copy of the command table (it must not link OrderDeskCore): it
/// learns names and usage lines from the server's HELP. These tests hold what it offers and
/// what it spells to `CommandSpec.all`.
@Suite("The client's commands agree with the command table", .serialized)
struct CommandTableTests {
    @Test("completion offers exactly the table's commands, each with its usage, as the server's HELP lists them")
    func completionIsTheTable() throws {
        let desk = try TestDesk()
        defer { desk.stop() }
        let client = try LineClient(port: desk.port)
        let data = try client.command("HELP").filter { $0.hasPrefix("* ") }.map { String($0.dropFirst(2)) }
        let listed = CommandHelp.list(from: data)
        var completer = Completer()
        // As InteractiveApp does once logged in.
        completer.commands = Dictionary(listed.map { ($0.name, $0.usage) }, uniquingKeysWith: { first, _ in first })
        #expect(completer.complete("").candidates == CommandSpec.all.map(\.name).sorted())
        for spec in CommandSpec.all {
            #expect(completer.commands[spec.name] == spec.usage, "\(spec.name)")
        }
        // A deprecated alias is accepted by the parser but never offered.
        #expect(completer.complete("RELE").candidates == [])
    }

    /// Upper-case words in the client's sources that are not commands.
    static let notCommands: Set<String> = [
        "TERM", "HOME", "UTC", "SKU", "QTY", "PRICE", "AMOUNT", "COMMAND",
        // The dashboard's section and column headings.
        "QUEUE", "DEPTH", "OLDEST", "STUCK", "CYCLE", "CLEAN", "HOLD", "OPEN", "RESOLVED", "RELEASED", "SERVER",
    ]

    static let clientSources = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../clients/desk").standardized

    @Test("every command name the client spells (a reply it reads, a line it sends) is in the table")
    func spelledNamesAreInTheTable() throws {
        // Names, deprecated aliases, and the sub-commands usage lines spell (`USER ADD`).
        var known = Set(CommandSpec.all.flatMap { [$0.name] + $0.deprecatedAliases })
        for spec in CommandSpec.all {
            known.formUnion(spec.usage.split(separator: " ").map(String.init).filter { $0.allSatisfy { $0.isASCII && $0.isUppercase } })
        }
        var spelled: [String: String] = [:]  // word -> a file that spells it
        let files = FileManager.default.enumerator(atPath: Self.clientSources.path)?.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") } ?? []
        #expect(files.count > 10, "the client's sources were not found at \(Self.clientSources.path)")
        for file in files {
            let text = try String(contentsOf: Self.clientSources.appendingPathComponent(file), encoding: .utf8)
            for word in Self.upperCaseLiterals(in: text) { spelled[word] = file }
        }
        #expect(spelled.keys.contains("RESUME") && spelled.keys.contains("HELP"), "the scan found none of the names the client is known to send")
        for (word, file) in spelled.sorted(by: { $0.key < $1.key }) where !known.contains(word) && !Self.notCommands.contains(word) {
            Issue.record("\(file) spells \"\(word)\", which is no command in CommandSpec.all (if it is not meant as one, add it to notCommands)")
        }
    }

    /// The contents of string literals made only of two or more upper-case ASCII letters.
    static func upperCaseLiterals(in text: String) -> Set<String> {
        var found: Set<String> = []
        for line in text.split(separator: "\n") {
            let pieces = line.split(separator: "\"", omittingEmptySubsequences: false)
            // Odd pieces are inside quotes (escaped quotes do not occur around such words).
            for (index, piece) in pieces.enumerated() where index % 2 == 1 {
                if piece.count >= 2, piece.allSatisfy({ $0.isASCII && $0.isUppercase }) { found.insert(String(piece)) }
            }
        }
        return found
    }
}
