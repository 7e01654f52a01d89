import Dispatch
import Foundation
import Testing
import TestSupport
import OrderDeskCore
@testable import OrderDeskServer

/// The group commit's hand-off (`CommitPipeline`): the store queue takes what gathered during a
/// commit the moment that commit ends, without waiting for the desk queue; and after a failed
/// commit nothing computed on top of it is ever committed.
@Suite("Commit pipeline")
struct CommitPipelineTests {
    /// A store whose commits wait for the test's word, and that records each batch.
    final class GatedStore: DeskStore, @unchecked Sendable {  // guarded by `state`
        struct State {
            var batches: [[StoreChange]] = []
            /// Commits that have begun (and may wait at their gate).
            var started = 0
            var gates: [DispatchSemaphore] = []
            var failures: Set<Int> = []
        }
        let state = Locked(State())
        /// Commit number `index` (from 0) waits until `open(index)`.
        func gate(_ index: Int) -> DispatchSemaphore {
            state.withLock {
                while $0.gates.count <= index { $0.gates.append(DispatchSemaphore(value: 0)) }
                return $0.gates[index]
            }
        }
        func open(_ index: Int) { gate(index).signal() }
        func load() throws -> DeskSnapshot { DeskSnapshot() }
        func commit(_ changes: [StoreChange]) throws {
            let index = state.withLock {
                $0.started += 1
                return $0.batches.count
            }
            gate(index).wait()
            let fails = state.withLock {
                $0.batches.append(changes)
                return $0.failures.contains(index)
            }
            if fails { throw CocoaError(.fileWriteUnknown) }
        }
        func thread(of order: String) throws -> (notes: [Note], history: [HistoryEntry]) { ([], []) }
        func audit(_ query: AuditQuery) throws -> AuditPage { AuditPage(records: [], total: 0, hasMore: false) }
        func isTransient(_ error: Error) -> Bool { false }
        func hasLostDesk(_ error: Error) -> Bool { false }
    }

    static func change(_ token: UInt64) -> StoreChange { .counters(DeskCounters(nextToken: token)) }

    /// A pipeline over a fresh gated store whose commits numbered `failures` fail; `outcomes`
    /// records what waiting actions and `onFailure` were told, in order.
    static func makePipeline(failing failures: Set<Int> = []) -> (GatedStore, DispatchQueue, CommitPipeline, Locked<[String]>) {
        let store = GatedStore()
        store.state.withLock { $0.failures = failures }
        let deskQueue = DispatchQueue(label: "test.desk")
        let pipeline = CommitPipeline(store: store, deskQueue: deskQueue, storeQueue: DispatchQueue(label: "test.store"))
        let outcomes = Locked<[String]>([])
        pipeline.onFailure = { _ in outcomes.withLock { $0.append("failure") } }
        return (store, deskQueue, pipeline, outcomes)
    }

    @Test("changes that gather during a commit go out as one batch while the desk queue is still busy")
    func nextBatchStartsWithoutTheDeskQueue() throws {
        let (store, deskQueue, pipeline, _) = Self.makePipeline()
        let settled = Locked<[UInt64]>([])
        pipeline.onSettled = { sequence, _ in settled.withLock { $0.append(sequence) } }
        deskQueue.sync { pipeline.submit([Self.change(1)]) }
        try waitUntil(timeout: 10) { store.state.current.started == 1 }
        // Commit 0 is under way (its gate is shut); two more change sets gather meanwhile.
        deskQueue.sync {
            pipeline.submit([Self.change(2)])
            pipeline.submit([Self.change(3), Self.change(4)])
        }
        let deskBusy = DispatchSemaphore(value: 0)
        deskQueue.async { deskBusy.wait() }  // the desk queue is busy from here on
        store.open(0)
        store.open(1)
        try waitUntil(timeout: 10, "the second commit ran while the desk queue was busy") { store.state.current.batches.count == 2 }
        #expect(store.state.current.batches == [[Self.change(1)], [Self.change(2), Self.change(3), Self.change(4)]])
        #expect(settled.current.isEmpty, "the desk queue hears of commits only when it runs again")
        deskBusy.signal()
        try waitUntil(timeout: 10) { settled.current == [1, 3] }
        #expect(deskQueue.sync { pipeline.isSettled })
    }

    @Test("after a failed commit, what was submitted on top of it is failed back, never committed, and the next change commits")
    func failureHaltsLaterBatches() throws {
        let (store, deskQueue, pipeline, outcomes) = Self.makePipeline(failing: [0])
        deskQueue.sync {
            pipeline.submit([Self.change(1)])
            pipeline.whenDurable { ok in outcomes.withLock { $0.append("first \(ok)") } }
        }
        try waitUntil(timeout: 10) { store.state.current.started == 1 }
        deskQueue.sync {
            pipeline.submit([Self.change(2)])
            pipeline.whenDurable { ok in outcomes.withLock { $0.append("second \(ok)") } }
        }
        store.open(0)
        try waitUntil(timeout: 10) { outcomes.current.count == 3 }
        #expect(outcomes.current == ["first false", "second false", "failure"])
        #expect(store.state.current.batches == [[Self.change(1)]], "the change set made on top of the failed one never reached the store")
        store.open(1)
        deskQueue.sync {
            pipeline.submit([Self.change(3)])
            pipeline.whenDurable { ok in outcomes.withLock { $0.append("third \(ok)") } }
        }
        try waitUntil(timeout: 10) { outcomes.current.count == 4 }
        #expect(outcomes.current.last == "third true")
        #expect(store.state.current.batches == [[Self.change(1)], [Self.change(3)]])
    }

    @Test("what a waiting action submits while a failure is told is failed back too, never committed")
    func submitsDuringFailureFail() throws {
        let (store, deskQueue, pipeline, outcomes) = Self.makePipeline(failing: [0])
        deskQueue.sync {
            pipeline.submit([Self.change(1)])
            pipeline.whenDurable { ok in
                outcomes.withLock { $0.append("first \(ok)") }
                // As a session closed at its failed QUIT does: its grace windows are new changes.
                pipeline.submit([Self.change(9)])
                pipeline.whenDurable { ok in outcomes.withLock { $0.append("nested \(ok)") } }
            }
        }
        store.open(0)
        try waitUntil(timeout: 10) { outcomes.current.count == 3 }
        #expect(outcomes.current == ["first false", "nested false", "failure"])
        store.open(1)
        deskQueue.sync { pipeline.submit([Self.change(3)]) }
        try waitUntil(timeout: 10) { store.state.current.batches.count == 2 }
        #expect(store.state.current.batches == [[Self.change(1)], [Self.change(3)]], "the change made while the failure was told never reached the store")
        try waitUntil(timeout: 10, "the pipeline settled") { deskQueue.sync { pipeline.isSettled } }
    }
}
