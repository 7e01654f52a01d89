import Testing
import TestSupport

@Suite("End to end: bad input gets a clear error and changes nothing", .serialized)
struct BadInputTests {
    @Test("each kind of bad input has its error code, and the connection stays usable")
    func badInput() throws {
        let desk = try TestDesk()
        defer { desk.stop() }
        let shop = try desk.client("shop")
        try desk.capture("SO-1", using: shop)
        let ana = try desk.client("ana")
        let cases: [(String, String)] = [
            ("FROBNICATE", "ERR unknown-command"),
            ("NEXTT", "ERR unknown-command"),
            ("CLAIM", "ERR bad-arguments"),
            ("HOLD SO-1 weather rain", "ERR bad-arguments"),
            ("CLAIM SO-404", "ERR not-found"),
            ("MOVE SO-1 shipped", "ERR illegal-move"),
            ("REASSIGN SO-1 ben because", "ERR denied"),
            ("NOTE SO-1 \"never closed", "ERR bad-line"),
            ("LOGIN ana ana", "ERR already-logged-in"),
        ]
        for (line, expected) in cases {
            let reply = try ana.command(line)
            #expect(reply.count == 1)
            #expect(reply.last?.hasPrefix(expected + " ") == true, "\(line) -> \(reply)")
        }
        try ana.sendRaw([0x4E, 0x4F, 0x54, 0x45, 0x20, 0xC3, 0x28, 0x0A])
        #expect(try ana.readReply().last?.hasPrefix("ERR bad-utf8 ") == true)
        try ana.sendRaw(Array(repeating: UInt8(ascii: "A"), count: 20_000) + [0x0A])
        #expect(try ana.readReply().last?.hasPrefix("ERR line-too-long ") == true)
        #expect(try ana.command("PING").last == "OK PONG", "the connection is usable after an overlong line")
        let card = try ana.command("ORDER SO-1")
        #expect(card.contains("* claim holder=nobody"), "nothing changed")
        #expect(card.first { $0.hasPrefix("* note") } == nil)
    }

    @Test("commands other than LOGIN, PING, HELP and QUIT need a login")
    func loginRequired() throws {
        let desk = try TestDesk()
        defer { desk.stop() }
        let client = try LineClient(port: desk.port)
        #expect(client.greeting.hasPrefix("HELLO orderdesk 1 "))
        #expect(field("max-line", in: client.greeting) == "8192")
        #expect(try client.command("QUEUE new").last?.hasPrefix("ERR not-logged-in") == true)
        #expect(try client.command("PING").last == "OK PONG")
        #expect(try client.command("HELP").last?.hasPrefix("OK commands=") == true)
        #expect(try client.command("LOGIN ana wrong").last?.hasPrefix("ERR login-failed") == true)
        #expect(try client.command("LOGIN nobody wrong").last == (try client.command("LOGIN ana wrong").last),
                "the same error for an unknown user and a wrong password")
        #expect(try client.command("LOGIN ana ana").last?.hasPrefix("OK user=ana role=processor") == true)
    }

    @Test("lines sent while a login is being checked are answered after it, in order")
    func pipelinedAfterLogin() throws {
        let desk = try TestDesk()
        defer { desk.stop() }
        let client = try LineClient(port: desk.port)
        try client.send("LOGIN ana ana\nWHOAMI\nPING")
        #expect(try client.readReply().last?.hasPrefix("OK user=ana") == true)
        #expect(try client.readReply().last?.hasPrefix("OK user=ana role=processor claims=0") == true)
        #expect(try client.readReply().last == "OK PONG")
    }

    @Test("QUIT says goodbye and closes")
    func quit() throws {
        let desk = try TestDesk()
        defer { desk.stop() }
        let client = try desk.client("ana")
        #expect(try client.command("QUIT").last == "OK bye")
        #expect(client.waitForClose())
    }

    // Issue 11: RELEASE handed an order back, while in order work "release" means MOVE ... released.
    @Test("HANDBACK hands an order back; RELEASE still works as its deprecated alias but HELP lists only HANDBACK")
    func handBack() throws {
        let desk = try TestDesk()
        defer { desk.stop() }
        let shop = try desk.client("shop")
        try desk.capture("SO-1", using: shop)
        let sam = try desk.client("sam")
        let ana = try desk.client("ana")
        try ana.ok("CLAIM SO-1")
        #expect(try ana.command("HANDBACK SO-1 waiting for the customer").last == "OK order=SO-1 queue=new")
        let told = try sam.waitForEvent { $0.contains(" handed-back ") }
        #expect(field("by", in: told) == "ana")
        try ana.ok("CLAIM SO-1")
        #expect(try ana.command("RELEASE SO-1 old scripts").last == "OK order=SO-1 queue=new")
        #expect(try ana.command("HISTORY SO-1").filter { $0.contains("action=handed-back") }.count == 2)
        let help = try ana.command("HELP")
        #expect(help.contains { $0.contains("command=HANDBACK ") })
        #expect(!help.contains { $0.contains("command=RELEASE ") })
        #expect(try ana.command("HELP release").last == "OK HANDBACK")
    }

    // Issue 11: customer service types the number the caller reads out, without its prefix.
    @Test("ORDER and CARD find SO-10089 from 10089 for a logged-in user; a stranger learns nothing")
    func bareNumber() throws {
        let desk = try TestDesk()
        defer { desk.stop() }
        let shop = try desk.client("shop")
        try desk.capture("SO-10089", using: shop)
        let cora = try desk.client("cora")
        #expect(try cora.command("ORDER 10089").last == "OK order=SO-10089")
        let card = try cora.command("CARD 10089")
        #expect(card.last == "OK order=SO-10089")
        #expect(card.first?.hasPrefix("* card order=SO-10089 ") == true)
        #expect(card.contains { $0.hasPrefix("* people text=") })
        let stranger = try LineClient(port: desk.port)
        #expect(try stranger.command("ORDER 10089").last?.hasPrefix("ERR not-logged-in") == true)
    }
}
