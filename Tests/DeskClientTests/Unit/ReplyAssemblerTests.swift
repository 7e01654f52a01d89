import Testing
@testable import DeskClientKit

@Suite("ReplyAssembler")
struct ReplyAssemblerTests {
    @Test("replies in request order, pushes in between, data lines kept with their reply")
    func assembles() {
        var assembler = ReplyAssembler<Int>()
        assembler.expect("QUEUE new", tag: 1)
        assembler.expect("PING", tag: 2)
        var replies: [(ServerReply, Int)] = []
        var events: [ServerEvent] = []
        for line in ["HELLO orderdesk 1 max-line=8192", "* SO-1 stage=captured", "EVENT 9 note order=SO-1 by=ben text=hi",
                     "* SO-2 stage=captured", "OK queue=new count=2 shown=2", "OK PONG", "OK stray"] {
            switch assembler.receive(line) {
            case .reply(let reply, let tag)?: replies.append((reply, tag))
            case .event(let event)?: events.append(event)
            default: break
            }
        }
        #expect(replies.map(\.1) == [1, 2])
        #expect(replies[0].0 == ServerReply(command: "QUEUE new", data: ["SO-1 stage=captured", "SO-2 stage=captured"], outcome: .ok(summary: "queue=new count=2 shown=2")))
        #expect(replies[1].0.outcome == .ok(summary: "PONG"))
        #expect(events == [ServerEvent(id: 9, kind: "note", fields: ["order": "SO-1", "by": "ben", "text": "hi"])])
        #expect(assembler.outstandingCount == 0)
    }

    @Test("ERR ends a reply; abandon gives back what never got one")
    func errorsAndAbandon() {
        var assembler = ReplyAssembler<String>()
        assembler.expect("ORDER SO-9", tag: "a")
        assembler.expect("WHO", tag: "b")
        guard case .reply(let reply, "a")? = assembler.receive("ERR not-found order=SO-9 no such order") else {
            Issue.record("no reply")
            return
        }
        #expect(reply.errorCode == "not-found")
        #expect(assembler.abandon().map(\.command) == ["WHO"])
        #expect(assembler.outstandingCount == 0)
    }
}
