import Testing
@testable import DeskClientKit

@Suite("JSONLines")
struct JSONLinesTests {
    @Test("a reply: summary, its fields, raw data and parsed records")
    func okReply() {
        let reply = ServerReply(command: "QUEUE new 1", data: ["SO-1 customer=\"Acme Corp\" total=1.00"], outcome: .ok(summary: "queue=new count=9 shown=1"))
        #expect(JSONLines.line(for: reply) == #"{"ok":true,"command":"QUEUE new 1","summary":"queue=new count=9 shown=1","fields":{"queue":"new","count":"9","shown":"1"},"data":["SO-1 customer=\"Acme Corp\" total=1.00"],"records":[{"words":["SO-1"],"fields":{"customer":"Acme Corp","total":"1.00"}}]}"#)
    }

    @Test("an error reply")
    func errorReply() {
        let reply = ServerReply(command: "ORDER SO-9", data: [], outcome: .failure(code: "not-found", message: "order=SO-9 no such order"))
        #expect(JSONLines.line(for: reply) == #"{"ok":false,"command":"ORDER SO-9","code":"not-found","message":"order=SO-9 no such order"}"#)
    }

    @Test("an event, fields sorted by key; replays marked")
    func event() {
        let event = ServerEvent(id: 212, kind: "note", fields: ["order": "SO-1", "by": "sam", "text": "line one\nsaid \"ok\"\u{1}"])
        #expect(JSONLines.line(for: event) == #"{"event":{"id":212,"kind":"note","fields":{"by":"sam","order":"SO-1","text":"line one\nsaid \"ok\"\u0001"}}}"#)
        #expect(JSONLines.line(for: event, isReplayed: true).hasSuffix(#","replayed":true}}"#))
    }
}
