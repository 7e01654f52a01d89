import Testing
import DeskClientKit

@Suite("History file keeps no passwords")
struct HistoryFileSecretsTests {
    @Test("USER ADD carries another user's password and is never stored", arguments: ["USER ADD dana processor s3cret-pass", "user add dana sales x12345678"])
    func userAdd(line: String) {
        #expect(!HistoryFile.isStorable(line, secret: "mine"))
    }

    @Test("USER ROLE has no password and is kept")
    func userRole() {
        #expect(HistoryFile.isStorable("USER ROLE dana sales", secret: "mine"))
    }
}
