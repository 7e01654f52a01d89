import Testing
import TestSupport
import OrderDeskCore
@testable import OrderDeskServer

/// Replies and pushes wait in the connection's buffer for the commit of what they tell of
/// (`Connection.hold`, `releaseHeld`): a failed commit turns each held reply into `ERR storage`
/// and drops each held push, and the sessions go on working.
@Suite("End to end: output held for its commit")
struct HeldOutputTests {
    @Test("a failed commit: the reply is ERR storage, the watcher hears nothing, and the next change goes through")
    func failedCommitFailsHeldOutput() throws {
        let store = MemoryStore()
        let desk = try TestDesk(store: store)
        defer { desk.stop() }
        let shop = try desk.client("shop")
        try desk.capture("SO-1", using: shop)
        let cora = try desk.client("cora")
        try cora.ok("WATCH SO-1")
        let ana = try desk.client("ana")
        try ana.ok("CLAIM SO-1")
        _ = try cora.waitForEvent { $0.contains(" claimed ") }
        store.failNextCommits(1)
        let failed = try ana.command("NOTE SO-1 lost with its commit")
        #expect(failed.last?.hasPrefix("ERR storage ") == true, "\(failed)")
        // After the failure the desk is rebuilt from the store: the note is not there, the claim is.
        try ana.ok("NOTE SO-1 kept")
        let event = try cora.waitForEvent { $0.contains(" note ") }
        #expect(event.contains("text=kept"), "the push of the failed note was dropped: \(event)")
        let card = try cora.command("ORDER SO-1")
        #expect(!card.contains { $0.contains("lost with its commit") })
        #expect(card.contains { $0.hasPrefix("* note ") && $0.contains("text=kept") })
    }
}
