import Testing
@testable import OrderDeskCore

/// The store gets what changed: an appended note or history entry as its own change, and the
/// order's row without its thread, so no change carries (or keeps shared) a whole thread.
@Suite("Changes as deltas")
struct DeltaTests {
    /// A desk with one order that already has a thread of `notes` notes.
    func fixture(notes: Int) -> DeskFixture {
        var fixture = DeskFixture()
        fixture.capture("SO-1")
        for index in 0..<notes { fixture.run("NOTE SO-1 note \(index)", as: "sam") }
        return fixture
    }

    @Test("NOTE sends the note, one history entry and the order without its thread", arguments: [0, 20, 300])
    func noteIsADelta(notes: Int) {
        var fixture = fixture(notes: notes)
        let outcome = fixture.run("NOTE SO-1 checked stock", as: "ana")
        #expect(outcome.reply?.summary == "order=SO-1 notes=\(notes + 1)")
        var rows = 0, appendedNotes = 0, entries = 0
        for change in outcome.changes {
            switch change {
            case .order(let order):
                rows += 1
                #expect(order.notes.isEmpty && order.history.isEmpty)
            case .note(_, let note):
                appendedNotes += 1
                #expect(note.text == "checked stock")
            case .history: entries += 1
            default: break
            }
        }
        #expect(rows == 1 && appendedNotes == 1 && entries == 1)
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
}
