import Testing
import OrderDeskCore

@Suite("Parser: AUDIT paging and filters")
struct AuditQueryParserTests {
    @Test("AUDIT reads a limit, then before=, user= and action= in any order", arguments: [
        ("AUDIT", AuditQuery()),
        ("AUDIT 20", AuditQuery(limit: 20)),
        ("audit 5 before=42 user=ada action=Reassign", AuditQuery(limit: 5, before: 42, user: "ada", action: "reassign")),
        ("AUDIT action=unlock user=root", AuditQuery(user: "root", action: "unlock")),
    ])
    func parses(line: String, query: AuditQuery) throws {
        #expect(try CommandParser().parse(line).get() == .session(.audit(query)))
    }

    @Test("bad AUDIT arguments are refused with the usage", arguments: [
        "AUDIT 0", "AUDIT 1001", "AUDIT before=x", "AUDIT before=-1", "AUDIT user=a user=b", "AUDIT limit=5", "AUDIT 5 6",
    ])
    func refuses(line: String) {
        guard case .failure(let error) = CommandParser().parse(line) else {
            Issue.record("\(line) parsed")
            return
        }
        #expect(error.code == "bad-arguments")
    }
}
