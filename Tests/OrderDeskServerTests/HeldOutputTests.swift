import Foundation
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

/// A store that cannot be reached (a database restarting): the desk refuses commands with
/// `ERR storage` instead of stopping, and comes back by itself once the store answers again.
@Suite("End to end: the store out of reach")
struct StoreOutageTests {
    @Test("a failed commit and three failed reloads: ERR storage meanwhile (PING still answered), then back with what was committed")
    func recoversByItself() throws {
        let store = MemoryStore()
        let desk = try TestDesk(store: store) { $0.reloadInterval = Milliseconds(200) }
        defer { desk.stop() }
        let shop = try desk.client("shop")
        try desk.capture("SO-1", using: shop)
        let ana = try desk.client("ana")
        try ana.ok("CLAIM SO-1")
        try ana.ok("NOTE SO-1 committed before the outage")
        store.failNextCommits(1)
        store.failNextLoads(3)
        #expect(try ana.command("NOTE SO-1 lost with its commit").last?.hasPrefix("ERR storage ") == true)
        #expect(try ana.command("ORDER SO-1").last?.hasPrefix("ERR storage ") == true, "look-ups too: the desk is not the store's")
        #expect(try ana.command("PING").last == "OK PONG")
        let late = try LineClient(port: desk.port)
        #expect(try late.command("LOGIN ben ben").last?.hasPrefix("ERR storage ") == true)
        try waitUntil(timeout: 10, "the desk to be back") { try ana.command("PING").last == "OK PONG" && (try? ana.ok("ORDER SO-1")) != nil }
        let card = try ana.command("ORDER SO-1")
        #expect(card.contains { $0.contains("committed before the outage") })
        #expect(!card.contains { $0.contains("lost with its commit") })
        #expect(card.contains { $0.hasPrefix("* claim ") && $0.contains("holder=ana") }, "the claim was committed: \(card)")
        try ana.ok("NOTE SO-1 after the outage")
        try late.ok("LOGIN ben ben")
    }

    @Test("a slow reload never holds the desk queue: a newcomer is greeted meanwhile, and the waiting line is answered by the reloaded desk")
    func slowReloadDoesNotBlock() throws {
        let store = SlowReload()
        let desk = try TestDesk(store: store)
        defer { desk.stop() }
        let shop = try desk.client("shop")
        try desk.capture("SO-1", using: shop)
        store.memory.failNextCommits(1)
        store.loadDelay.withLock { $0 = 2.0 }
        #expect(try shop.command("NOTE SO-1 lost with its commit").last?.hasPrefix("ERR storage ") == true)
        try shop.send("ORDER SO-1")  // waits for the reload
        let started = Date()
        let newcomer = try LineClient(port: desk.port)  // accepted and greeted on the desk queue
        #expect(newcomer.greeting.hasPrefix("HELLO "))
        #expect(Date().timeIntervalSince(started) < 1.5, "greeted while the reload still ran")
        let card = try shop.readReply()
        #expect(card.last?.hasPrefix("OK order=SO-1") == true, "\(card)")
        #expect(!card.contains { $0.contains("lost with its commit") })
    }

    @Test("a store that holds something unreadable stops the desk, as before")
    func unreadableStops() throws {
        let store = UnreadableAfterFailure()
        let fatal = Locked<String?>(nil)
        let desk = try TestDesk(store: store) { $0.onFatalError = { message in fatal.withLock { $0 = message } } }
        defer { desk.stop() }
        let shop = try desk.client("shop")
        try desk.capture("SO-1", using: shop)
        store.memory.failNextCommits(1)
        store.isBroken.withLock { $0 = true }
        #expect(try shop.command("NOTE SO-1 lost").last?.hasPrefix("ERR storage ") == true)
        try waitUntil(timeout: 5, "the server to stop") { fatal.current != nil }
        #expect(fatal.current?.contains("unreadable data") == true)
    }
}

/// A MemoryStore whose loads fail with a non-transient error once broken.
private final class UnreadableAfterFailure: DeskStore, @unchecked Sendable {
    let memory = MemoryStore()
    let isBroken = Locked(false)
    func load() throws -> DeskSnapshot {
        if isBroken.current { throw StoreError.corrupt("test") }
        return try memory.load()
    }
    func commit(_ changes: [StoreChange]) throws { try memory.commit(changes) }
    func thread(of order: String) throws -> (notes: [Note], history: [HistoryEntry]) { try memory.thread(of: order) }
    func audit(_ query: AuditQuery) throws -> AuditPage { try memory.audit(query) }
}

/// A MemoryStore whose loads take `loadDelay` seconds once it is set (then it is cleared).
private final class SlowReload: DeskStore, @unchecked Sendable {
    let memory = MemoryStore()
    let loadDelay = Locked(0.0)
    func load() throws -> DeskSnapshot {
        let delay = loadDelay.withLock { value in defer { value = 0 }; return value }
        if delay > 0 { Thread.sleep(forTimeInterval: delay) }
        return try memory.load()
    }
    func commit(_ changes: [StoreChange]) throws { try memory.commit(changes) }
    func thread(of order: String) throws -> (notes: [Note], history: [HistoryEntry]) { try memory.thread(of: order) }
    func audit(_ query: AuditQuery) throws -> AuditPage { try memory.audit(query) }
}
