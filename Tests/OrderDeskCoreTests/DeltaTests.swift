import Testing
@testable import OrderDeskCore

/// The store gets what changed: an appended note or history entry as its own change, a new order
/// without its thread, and afterwards only its state and the holds that changed, so no change
/// carries (or keeps shared) a whole thread or a whole order.
@Suite("Changes as deltas")
struct DeltaTests {
    /// A desk with one order that already has a thread of `notes` notes.
    func fixture(notes: Int) -> DeskFixture {
        var fixture = DeskFixture()
        fixture.capture("SO-1")
        for index in 0..<notes { fixture.run("NOTE SO-1 note \(index)", as: "sam") }
        return fixture
    }

    @Test("NOTE sends the note and one history entry, and no order row", arguments: [0, 20, 300])
    func noteIsADelta(notes: Int) {
        var fixture = fixture(notes: notes)
        let outcome = fixture.run("NOTE SO-1 checked stock", as: "ana")
        #expect(outcome.reply?.summary == "order=SO-1 notes=\(notes + 1)")
        var rows = 0, states = 0, appendedNotes = 0, entries = 0
        for change in outcome.changes {
            switch change {
            case .order: rows += 1
            case .orderState: states += 1
            case .note(_, _, let note):
                appendedNotes += 1
                #expect(note.text == "checked stock")
            case .history: entries += 1
            default: break
            }
        }
        // ana does not hold the order: nothing about its state changed.
        #expect(rows == 0 && states == 0 && appendedNotes == 1 && entries == 1)
        // The desk's own copy has the whole thread back.
        #expect(fixture.desk.orders["SO-1"]?.notes.count == notes + 1)
        #expect(fixture.desk.orders["SO-1"]?.history.count == notes + 2)
    }

    @Test("a refused change leaves the thread where it was (the checks run before the thread is taken)")
    func refusedChangeKeepsTheThread() {
        var fixture = fixture(notes: 5)
        #expect(fixture.run("HOLD SO-1 credit no claim", as: "ana").reply?.errorCode == "not-holder")
        #expect(fixture.run("UNHOLD SO-1 credit none open", as: "ada").reply?.errorCode == "no-hold")
        #expect(fixture.run("MOVE SO-1 shipped", as: "ada").reply?.errorCode == "illegal-move")
        #expect(fixture.run("RELEASE SO-1 not mine", as: "ana").reply?.errorCode == "not-holder")
        #expect(fixture.run("REASSIGN SO-1 sam x", as: "ada").reply?.errorCode == "bad-user")
        #expect(fixture.desk.orders["SO-1"]?.notes.count == 5)
        #expect(fixture.desk.orders["SO-1"]?.history.count == 6)
        #expect(fixture.run("CLAIM SO-1", as: "ana").reply?.isOK == true)
        #expect(fixture.run("HOLD SO-1 credit check", as: "ana").reply?.isOK == true)
        #expect(fixture.desk.orders["SO-1"]?.notes.count == 5)
        #expect(fixture.desk.orders["SO-1"]?.history.count == 8)
    }

    /// The kinds of store change an outcome carries, in order (mailbox and counter rows left out).
    func kinds(_ outcome: Outcome) -> [String] {
        outcome.changes.compactMap { change in
            switch change {
            case .order(let order): order.notes.isEmpty && order.history.isEmpty ? "order" : "order with thread"
            case .orderState: "state"
            case .hold(_, let hold): "hold \(hold.id)"
            case .note: "note"
            case .history: "history"
            default: nil
            }
        }
    }

    @Test("CAPTURE sends the order whole; CLAIM, HOLD, UNHOLD and MOVE send its state and the holds that changed")
    func changesAfterCaptureAreStates() {
        var fixture = DeskFixture()
        #expect(kinds(fixture.run("CAPTURE SO-1 customer=Acme rep=sam po=PO-1 lines=A:1:1", as: "shop")) == ["history", "order"])
        #expect(kinds(fixture.run("CLAIM SO-1", as: "ana")) == ["history", "state"])
        #expect(kinds(fixture.run("HOLD SO-1 credit check", as: "ana")) == ["history", "state", "hold 1"])
        #expect(kinds(fixture.run("HOLD SO-1 pricing check", as: "ana")) == ["history", "state", "hold 2"])
        #expect(kinds(fixture.run("UNHOLD SO-1 credit fine", as: "ana")) == ["history", "state", "hold 1"])
        #expect(kinds(fixture.run("UNHOLD SO-1 pricing fine", as: "ana")) == ["history", "state", "hold 2"])
        #expect(kinds(fixture.run("MOVE SO-1 released", as: "ana")) == ["history", "state"])
        // Reading changes nothing the store keeps.
        #expect(kinds(fixture.run("ORDER SO-1", as: "sam")) == [])
    }
}
