import Foundation
import Testing
import TestSupport
import OrderDeskCore
import OrderDeskServer

/// Issue 11: users over the wire. Disabling ends sessions and hands claims back; passwords are
/// reset by admins and changed by their owners; the last login is kept; all of it audited.
@Suite("End to end: users over the wire", .serialized)
struct UserAdminTests {
    @Test("USER DISABLE ends the user's sessions, hands back their claims with the reason, and keeps them out until USER ENABLE")
    func disable() throws {
        let path = temporaryDirectory() + "/desk.sqlite"
        do {
            let desk = try TestDesk(store: try SQLiteStore(path: path))
            defer { desk.stop() }
            let shop = try desk.client("shop")
            try desk.capture("SO-1", using: shop)
            try desk.capture("SO-2", using: shop)
            let sam = try desk.client("sam")
            let ben = try desk.client("ben")
            let benAgain = try desk.client("ben")
            try ben.ok("CLAIM SO-1")
            try ben.ok("CLAIM SO-2")
            let ada = try desk.client("ada")
            #expect(try ada.command("USER DISABLE ben left the company").last == "OK user=ben disabled=yes handed-back=2")
            for session in [ben, benAgain] {
                let lines = linesUntilClosed(session)
                #expect(lines.contains("BYE disabled your account was disabled by an administrator"), "\(lines)")
            }
            let told = try sam.waitForEvent { $0.contains(" reassigned ") && $0.contains("order=SO-1") }
            #expect(field("from", in: told) == "ben" && field("to", in: told) == "nobody" && field("reason", in: told) == "left the company")
            #expect(try ada.command("QUEUE new").last == "OK queue=new count=2 shown=2")
            #expect(try ada.command("ORDER SO-1").contains("* claim holder=nobody"))
            let login = try LineClient(port: desk.port)
            #expect(try login.command("LOGIN ben ben").last?.hasPrefix("ERR disabled user=ben ") == true)
            #expect(try login.command("LOGIN ben wrong").last?.hasPrefix("ERR login-failed") == true, "a wrong password says nothing more")
            #expect(try ada.command("REASSIGN SO-1 ben back").last?.hasPrefix("ERR disabled user=ben") == true)
            let users = try ada.command("USERS")
            #expect(users.contains { $0.hasPrefix("* user=ben ") && $0.contains(" disabled=yes ") && $0.contains("online=no") })
            #expect(users.contains { $0.hasPrefix("* user=ada ") && $0.contains(" disabled=no ") && field("last-login", in: $0) != "never" })
            #expect(users.contains { $0.hasPrefix("* user=cleo ") && field("last-login", in: $0) == "never" })
            let audit = try ada.command("AUDIT action=user-disable")
            #expect(audit.first?.contains("detail=\"ben: left the company (handed back SO-1,SO-2)\"") == true, "\(audit)")
            #expect(try ada.command("USER DISABLE ada me").last?.hasPrefix("ERR last-admin user=ada") == true)
            #expect(try ada.command("USER DISABLE nobody x").last?.hasPrefix("ERR not-found user=nobody") == true)
        }
        // Kept across a restart (schema version 3): still disabled, the last login remembered.
        let desk = try TestDesk(store: try SQLiteStore(path: path))
        defer { desk.stop() }
        let ada = try desk.client("ada")
        let login = try LineClient(port: desk.port)
        #expect(try login.command("LOGIN ben ben").last?.hasPrefix("ERR disabled") == true)
        #expect(try ada.command("USER ENABLE ben").last == "OK user=ben disabled=no")
        #expect(try login.command("LOGIN ben ben").last?.hasPrefix("OK user=ben ") == true)
        #expect(try ada.command("AUDIT action=user-enable").first?.contains("detail=ben") == true)
    }

    @Test("PASSWORD changes your own password given the old one; USER PASSWORD resets anyone's; both audited")
    func passwords() throws {
        let desk = try TestDesk()
        defer { desk.stop() }
        let ana = try desk.client("ana")
        #expect(try ana.command("PASSWORD wrong-one new-secret-9").last?.hasPrefix("ERR login-failed the old password is wrong") == true)
        #expect(try ana.command("PASSWORD ana short").last?.hasPrefix("ERR bad-arguments") == true)
        #expect(try ana.command("PASSWORD ana new-secret-9").last == "OK user=ana password=changed")
        let fresh = try LineClient(port: desk.port)
        #expect(try fresh.command("LOGIN ana ana").last?.hasPrefix("ERR login-failed") == true)
        let again = try LineClient(port: desk.port)
        #expect(try again.command("LOGIN ana new-secret-9").last?.hasPrefix("OK user=ana ") == true)

        let ada = try desk.client("ada")
        #expect(try ana.command("USER PASSWORD ben reset-pass-1").last?.hasPrefix("ERR denied") == true)
        #expect(try ada.command("USER PASSWORD ben reset-pass-1").last == "OK user=ben password=reset")
        #expect(try ada.command("USER PASSWORD nobody reset-pass-1").last?.hasPrefix("ERR not-found") == true)
        let ben = try LineClient(port: desk.port)
        #expect(try ben.command("LOGIN ben reset-pass-1").last?.hasPrefix("OK user=ben ") == true)
        let audit = try ada.command("AUDIT")
        #expect(audit.contains { $0.contains("action=user-password") && $0.contains("by=ada") && $0.contains("ben password reset") })
        #expect(audit.contains { $0.contains("action=password-change") && $0.contains("by=ana") })
        #expect(!audit.contains { $0.contains("reset-pass-1") || $0.contains("new-secret-9") }, "no password is ever written down")
    }
}

/// Every line `client` reads until the server closes the connection (or 5 s pass).
private func linesUntilClosed(_ client: LineClient) -> [String] {
    var lines: [String] = []
    let deadline = Date().addingTimeInterval(5)
    while deadline.timeIntervalSinceNow > 0, let line = try? client.readLine(timeout: deadline.timeIntervalSinceNow) { lines.append(line) }
    return lines
}
