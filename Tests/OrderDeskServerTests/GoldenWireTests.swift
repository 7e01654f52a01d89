import Foundation
import Testing
import TestSupport
import OrderDeskCore
import OrderDeskWire
import OrderDeskServer

/// The wire frozen byte for byte: a scripted session against a real server, compared with
/// `Fixtures/golden-wire.txt`. Any change to a reply, data line, event or greeting fails it;
/// a change meant to be made is recorded again with `ORDERDESK_GOLDEN_RECORD=1 swift test
/// --filter GoldenWireTests` and the new file is reviewed and committed with the change (and
/// protocol.md, in the same commit).
///
/// protocol.md's examples come from the demo desk (random orders, wall-clock times, the
/// password `demo`), so they cannot be replayed as they stand. The script replays their
/// shapes instead, on a `TestDesk` (memory store, users whose password is their name) with a
/// manual clock, so times, ages, ids and tokens are the same on every run. How it maps:
/// - §1 overview and §7 claims/changes: shop CAPTUREs SO-20042, ana CLAIMs it (lower case, as
///   in the example), HOLDs it with an @sam reason, sam NOTEs, ana UNHOLDs and MOVEs it released.
/// - §7 session: a wrong LOGIN, LOGIN with claims (summary lines), PING, HELP and HELP NEXT, WHOAMI, USERS.
/// - §7 look-ups: ORDER (the card of §8 with holds, claim, watchers, notes), QUEUE, FIND, HISTORY.
/// - §7 CAPTURE and its `exists` error; CLAIM `claimed`, RELEASE, TOUCH, REASSIGN (to a user,
///   to nobody, and `bad-user`), HOLD `hold-exists`, MOVE `open-holds` / `illegal-move` / `denied`,
///   NOTE with mentions, WATCH / UNWATCH.
/// - §7 notifications: INBOX (paged with before=), READ, RESUME, SUBSCRIBE / UNSUBSCRIBE.
/// - §7 stuck, presence, chat, administration: THRESHOLD (short thresholds so the script
///   reaches every step), THRESHOLDS, STUCK, WHO, AWAY / BACK, MSG (online, away, offline then
///   pushed at login), JOIN / SAY / ROOMS / LEAVE, USER ADD / USER ROLE, UNLOCK, AUDIT, METRICS.
/// - §9 leases and §10 escalation: the clock moves past the lease warning and the lease end, a
///   QUIT starts a grace window that runs out, and an order sits in `new` past all three thresholds.
/// - §11: every event kind is received at least once (`everyEventKindIsSeen` checks that).
/// - §12: unknown-command (with a suggestion), bad-line, bad-arguments, not-logged-in, denied,
///   already-logged-in, not-found, claimed, not-holder, no-hold, queue-empty.
/// Normalized, because they depend on timing rather than on the wire: METRICS' `ops` line
/// values `commits`, `commit-p50-ms` and `commit-p99-ms` (how many group commits the run
/// happened to make, and how long they took). Nothing else.
@Suite("Golden wire: the protocol frozen byte for byte", .serialized)
struct GoldenWireTests {
    /// One step of the script.
    enum Step {
        /// Opens a connection for `name` and records its greeting.
        case connect(String)
        /// Sends a line on `name`'s connection and records every line up to the reply's end.
        case send(String, String)
        /// Moves the manual clock on by this many seconds, then runs the desk's tick.
        case advance(Int64)
        /// Waits until the server has started `order`'s grace window (a disconnect is noticed asynchronously).
        case awaitGrace(String)
    }

    static let goldenPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/golden-wire.txt").path

    /// The script; see the type's comment for how it maps to protocol.md.
    static let script: [Step] = [
        .connect("shop"), .connect("ana"), .connect("sam"), .connect("ada"), .connect("cora"),
        // Before login (§6) and bad lines (§2, §4, §12).
        .send("ana", "WHOAMI"), .send("ana", "PING"), .send("ana", "HELP next"), .send("ana", "LOGIN ana wrong"),
        .send("ana", "LOGIN ana ana"), .send("ana", "LOGIN ana ana"),
        .send("shop", "LOGIN shop shop"), .send("sam", "LOGIN sam sam"), .send("ada", "LOGIN ada ada"), .send("cora", "LOGIN cora cora"),
        .send("ana", "NEXTT"), .send("ana", "FROB"), .send("ana", "NOTE SO-1 he said \"hi there"), .send("ana", "QUEUE"),
        .send("cora", "NEXT"), .send("ana", "ORDER SO-404"),
        .send("ana", "HELP"),
        // Subscriptions first, so later queue events reach them.
        .send("cora", "SUBSCRIBE new"), .send("cora", "SUBSCRIBE stuck"),
        // §1: the overview session.
        .send("shop", "CAPTURE SO-20042 customer=\"Acme Corp\" rep=sam po=PO-7781 lines=WID-100:2:10.50 priority=high"),
        .advance(1),
        .send("ana", "CLAIM so-20042"),
        .send("ana", "HOLD SO-20042 pricing list price changed, @sam please confirm"),
        .send("sam", "NOTE SO-20042 customer agreed the new price"),
        .send("ana", "UNHOLD SO-20042 pricing customer agreed the new price"),
        .send("ana", "MOVE SO-20042 released"),
        .send("shop", "MOVE SO-20042 shipped"),
        .send("ana", "ORDER SO-20042"),
        .send("ana", "HISTORY SO-20042"),
        // §7 capture, claims and changes.
        .send("shop", "CAPTURE SO-20001 customer=\"Acme Corp\" rep=sam po=PO-7781 lines=WID-1:2:10.50,GAD-9:1:99.00 priority=high ship=2026-12-01"),
        .send("shop", "CAPTURE SO-20001 customer=\"Acme Corp\" rep=sam po=PO-7781 lines=WID-1:2:10.50"),
        .send("shop", "CAPTURE SO-20002 customer=Globex rep=rita po=PO-1 lines=NUT-M8:37:0.12 priority=urgent"),
        .send("shop", "CAPTURE SO-20003 customer=\"Wayne Hardware\" rep=rita po=PO-2 lines=BOLT-1:10:1.99"),
        .send("shop", "CAPTURE SO-20004 customer=Initech rep=nobody po=PO-3 lines=BOLT-1:1:1.00"),
        .send("ana", "QUEUE new 2"),
        .send("ana", "FIND acme limit=2"),
        .send("ana", "NEXT"),
        .send("ada", "CLAIM SO-20002"),
        .send("ana", "CLAIM SO-20001"),
        .send("ana", "HOLD SO-20001 pricing again"),
        .send("ana", "HOLD SO-20001 pricing again"),
        .send("ana", "UNHOLD SO-20001 credit nothing"),
        .send("ana", "MOVE SO-20001 released"),
        .send("ana", "MOVE SO-20001 shipped"),
        .send("shop", "MOVE SO-20002 released"),
        .send("ana", "TOUCH SO-20001"),
        .send("ana", "NOTE SO-20001 @ana @cora @nobody @sam. see SO-20002"),
        .send("cora", "WATCH SO-20001"), .send("cora", "UNWATCH SO-20001"), .send("cora", "WATCH SO-20001"),
        .send("ana", "WHOAMI"),
        .send("ana", "HANDBACK SO-20002 waiting for the credit team"),
        .send("ana", "RELEASE SO-20003 nothing held"),
        .send("ana", "RELEASE SO-20001 waiting for the pricing team"),
        .send("ada", "REASSIGN SO-20001 ana ben is out sick"),
        .send("ada", "REASSIGN SO-20001 sam x"),
        .send("ada", "REASSIGN SO-20001 nobody force release"),
        .send("ada", "REASSIGN SO-20003 ana take this one"),
        .send("ana", "CLAIM SO-20001"),
        .send("ana", "UNHOLD SO-20001 pricing customer agreed the new price"),
        .send("ana", "MOVE SO-20001 cancelled"),
        .send("ana", "MOVE SO-20001 cancelled customer withdrew"),
        .send("ana", "NEXT credit"),
        .send("ana", "NEXT released"),
        // §7 notifications.
        .send("ana", "INBOX unread 2"),
        .send("ana", "INBOX 2 before=8"),
        .send("ana", "READ 1 2 3"),
        .send("ana", "READ all"),
        .send("ana", "RESUME 5"),
        .send("cora", "UNSUBSCRIBE new"),
        // §7 presence and chat.
        .send("ana", "WHO"),
        .send("sam", "AWAY at lunch until 2"),
        .send("ana", "MSG sam can you look at SO-20003?"),
        .send("sam", "BACK"),
        .send("ana", "MSG rita are you there?"),
        .send("ana", "JOIN Pricing"), .send("sam", "JOIN pricing"),
        .send("ana", "SAY pricing SO-20003 needs a look"),
        .send("cora", "SAY pricing hello"),
        .send("ana", "ROOMS"), .send("sam", "LEAVE pricing"),
        // §7 administration.
        .send("ada", "USERS"),
        .send("ada", "USER ADD dana processor correct-horse-1"),
        .send("ada", "USER ROLE dana sales"),
        .send("ada", "USER ROLE ada sales"),
        .send("ada", "UNLOCK ben"),
        .send("ada", "USER DISABLE dana left the team"),
        .send("ada", "USER ENABLE dana"),
        .send("ada", "USER PASSWORD dana battery-staple-2"),
        .send("sam", "PASSWORD wrong-old new-horse-4"),
        .send("sam", "PASSWORD sam correct-horse-3"),
        .send("ana", "USERS"),
        // §9 leases: ana holds SO-20003 (REASSIGN above); the warning, then the end.
        .send("ana", "CLAIM SO-20003"),
        .advance(300), .advance(300), .advance(180),
        .advance(120),
        .send("ana", "HOLD SO-20003 credit too late"),
        // §10 escalation: short thresholds, an order sits in new past all three with a holder.
        .send("ada", "THRESHOLD new warning=60s stuck=120s admins=180s"),
        .send("ana", "THRESHOLDS"),
        .send("shop", "CAPTURE SO-20005 customer=Umbrella rep=sam po=PO-5 lines=WID-1:1:5.00 priority=low"),
        .send("ana", "CLAIM SO-20005"),
        .advance(60), .advance(60), .advance(60),
        .send("ada", "STUCK"),
        .send("ada", "STUCK rep=sam limit=1"),
        .send("ada", "AUDIT 2 action=threshold"),
        .send("ada", "AUDIT 2 user=ada"),
        .send("ada", "METRICS"),
        // Offline delivery and the grace window: rita gets her message at login; ana QUITs holding a claim.
        .connect("rita"), .send("rita", "LOGIN rita rita"), .send("rita", "INBOX"),
        .send("ana", "QUIT"),
        .awaitGrace("SO-20005"),
        .send("cora", "ORDER SO-20005"),
        .send("cora", "CARD SO-20005"),
        .send("cora", "CARD 20005"),
        .send("cora", "READ SO-20005"),
        .advance(60),
        .send("cora", "ORDER SO-20005"),
        .send("cora", "QUIT"),
    ]

    /// Runs the script; returns the transcript, one line per wire line: `name> ` for a line
    /// sent, `name< ` for a line received, in the order each connection received them.
    static func runScript(store: DeskStore = MemoryStore()) throws -> String {
        // Only the script moves time: the server's own tick (every 200 ms of real time) would fire
        // steps already due, e.g. after THRESHOLD, at a moment that depends on the machine's load.
        let desk = try TestDesk(store: store, clock: ManualClock()) {
            $0.log = Log(level: .error)
            $0.tickInterval = Milliseconds(3_600_000)
        }
        defer { desk.stop() }
        var clients: [(name: String, client: LineClient)] = []
        var transcript = ""
        func client(_ name: String) -> LineClient { clients.first { $0.name == name }!.client }
        /// Records lines on `client` until the end of a reply.
        func readReply(_ name: String, _ client: LineClient, record: Bool = true) throws {
            while true {
                let line = try client.readLine()
                if record { transcript += "\(name)< \(normalized(line))\n" }
                switch ServerLine(line) {
                case .ok, .error: return
                default: continue
                }
            }
        }
        /// After each step every connection answers a PING, so the pushes a step caused are
        /// recorded in that step (pushes are written in commit order, before the PING's reply).
        func synchronize() throws {
            for (name, client) in clients {
                try client.send("PING")
                while true {
                    let line = try client.readLine()
                    if line == "OK PONG" { break }
                    transcript += "\(name)< \(normalized(line))\n"
                }
            }
        }
        for step in script {
            switch step {
            case .connect(let name):
                let connection = try LineClient(port: desk.port)
                clients.append((name, connection))
                transcript += "\(name)< \(connection.greeting)\n"
            case .send(let name, let line):
                transcript += "\(name)> \(line)\n"
                let connection = client(name)
                try connection.send(line)
                try readReply(name, connection)
                if line == "QUIT" {
                    #expect(connection.waitForClose())
                    clients.removeAll { $0.name == name }
                }
            case .advance(let seconds):
                transcript += "-- clock +\(seconds)s\n"
                desk.clock?.advance(.seconds(seconds))
                #expect(desk.server.tickNow(), "the tick came durable within 30 s")
            case .awaitGrace(let order):
                let (name, watcher) = clients[0]
                try waitUntil("grace window of \(order)") {
                    try watcher.send("ORDER \(order)")
                    var lines: [String] = []
                    while true {
                        let line = try watcher.readLine()
                        if case .event = ServerLine(line) { transcript += "\(name)< \(normalized(line))\n"; continue }
                        lines.append(line)
                        if line.hasPrefix("OK") || line.hasPrefix("ERR") { break }
                    }
                    return lines.contains { $0.hasPrefix("* claim ") && $0.contains(" grace-until=") }
                }
            }
            try synchronize()
        }
        return transcript
    }

    /// Blanks the values that depend on timing, not on the wire (see the type's comment).
    static func normalized(_ line: String) -> String {
        guard line.hasPrefix("* ops ") else { return line }
        return line.split(separator: " ", omittingEmptySubsequences: false).map { word -> String in
            for key in ["commits=", "commit-p50-ms=", "commit-p99-ms="] where word.hasPrefix(key) { return key + "#" }
            return String(word)
        }.joined(separator: " ")
    }

    @Test("the scripted session's wire equals the golden transcript, byte for byte")
    func transcriptMatches() throws {
        let transcript = try Self.runScript()
        if ProcessInfo.processInfo.environment["ORDERDESK_GOLDEN_RECORD"] == "1" {
            try transcript.write(toFile: Self.goldenPath, atomically: true, encoding: .utf8)
            return
        }
        try Self.expectGolden(transcript, actualName: "golden-wire.actual.txt")
    }

    /// The same script over each durable engine: SQLite, and PostgreSQL (issue 12: the same
    /// protocol, replies and events, byte for byte, whichever store a node runs on).
    @Test("over SQLite and over PostgreSQL the wire is the same golden transcript, byte for byte", arguments: StoreEngine.available)
    func transcriptMatchesOnEngine(_ engine: StoreEngine) throws {
        let place = try engine.makePlace()
        let transcript = try withExtendedLifetime(place) { try Self.runScript(store: place.open()) }
        try Self.expectGolden(transcript, actualName: "golden-wire.\(engine.rawValue).actual.txt")
    }

    /// Records an issue naming the first line where `transcript` leaves the golden one.
    static func expectGolden(_ transcript: String, actualName: String) throws {
        let golden = try String(contentsOfFile: Self.goldenPath, encoding: .utf8)
        if transcript != golden {
            let actualPath = NSTemporaryDirectory() + actualName
            try? transcript.write(toFile: actualPath, atomically: true, encoding: .utf8)
            let actual = transcript.split(separator: "\n", omittingEmptySubsequences: false)
            let expected = golden.split(separator: "\n", omittingEmptySubsequences: false)
            let first = zip(actual, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(actual.count, expected.count)
            Issue.record("""
                the wire changed at line \(first + 1) (whole transcript in \(actualPath)):
                expected: \(first < expected.count ? String(expected[first]) : "<end>")
                actual:   \(first < actual.count ? String(actual[first]) : "<end>")
                """)
        }
    }

    @Test("the golden transcript holds every event kind of protocol.md §11 and every command")
    func everyEventKindIsSeen() throws {
        let golden = try String(contentsOfFile: Self.goldenPath, encoding: .utf8)
        let kinds = Set(golden.split(separator: "\n").compactMap { line -> String? in
            let words = line.split(separator: " ")
            guard words.count > 3, words[1] == "EVENT" else { return nil }
            return String(words[3])
        })
        let expectedKinds: Set<String> = ["captured", "claimed", "handed-back", "reassigned", "hold", "unhold", "note", "mention",
                                          "stage", "lease-warning", "lease-expired", "queue", "stuck-warning", "stuck",
                                          "escalated", "message", "away", "say"]
        #expect(expectedKinds.subtracting(kinds).isEmpty, "missing event kinds: \(expectedKinds.subtracting(kinds).sorted())")
        let sent = Set(golden.split(separator: "\n").compactMap { line -> String? in
            guard let marker = line.range(of: "> ") else { return nil }
            return line[marker.upperBound...].split(separator: " ").first.map { $0.uppercased() }
        })
        let commands = Set(try ProtocolDocument.roleTableCommands())
        #expect(commands.subtracting(sent).isEmpty, "commands the script never sends: \(commands.subtracting(sent).sorted())")
    }
}

/// protocol.md, read by the tests that keep the document and the server in step.
enum ProtocolDocument {
    static let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("protocol.md").path

    /// Every command name in section 6's table of commands and roles, in the table's order.
    static func roleTableCommands() throws -> [String] { try roleTable().map(\.name) }

    /// Section 6's table of commands and roles: each command with the roles ticked for it
    /// (sorted, comma-separated), or `anyone`.
    static func roleTable() throws -> [(name: String, roles: String)] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let columns = ["processor", "sales", "service", "admin", "integration"]  // P S Sv A I
        var rows: [(name: String, roles: String)] = []
        var inTable = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("| command | P | S | Sv | A | I |") { inTable = true; continue }
            guard inTable else { continue }
            guard line.hasPrefix("|") else { break }
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).dropFirst().map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 1 + columns.count else { continue }
            let ticks = cells[1...columns.count]
            let roles = ticks.first == "anyone" ? "anyone"
                : zip(columns, ticks).filter { $0.1 == "✓" }.map(\.0).sorted().joined(separator: ",")
            // The cell holds `NAME` spans and, after them, prose in parentheses.
            for part in cells[0].split(separator: "`") {
                let name = part.trimmingCharacters(in: .whitespaces)
                if !name.isEmpty, name.allSatisfy({ $0.isUppercase && $0.isLetter }) { rows.append((name, roles)) }
            }
        }
        return rows
    }
}

@Suite("protocol.md and the server agree on the commands", .serialized)
struct ProtocolCommandTableTests {
    @Test("the role table of protocol.md is read (a guard against a parser that finds nothing)")
    func tableIsRead() throws {
        let names = try ProtocolDocument.roleTableCommands()
        #expect(names.count > 30)
        #expect(names.contains("LOGIN") && names.contains("METRICS") && names.contains("MOVE"))
    }

    @Test("protocol.md's role table is the command table: the same commands, each with the same roles")
    func roleTableIsTheCommandTable() throws {
        let documented = Dictionary(try ProtocolDocument.roleTable().map { ($0.name, $0.roles) }, uniquingKeysWith: { first, _ in first })
        let table = Dictionary(CommandSpec.all.map { spec in
            (spec.name, spec.roles.map { $0.map(\.rawValue).sorted().joined(separator: ",") } ?? "anyone")
        }, uniquingKeysWith: { first, _ in first })
        #expect(try ProtocolDocument.roleTable().count == CommandSpec.all.count, "a command listed twice, in protocol.md or in the table")
        #expect(Set(documented.keys) == Set(table.keys),
                "only in protocol.md: \(Set(documented.keys).subtracting(table.keys).sorted()); only in CommandSpec.all: \(Set(table.keys).subtracting(documented.keys).sorted())")
        for (name, roles) in table.sorted(by: { $0.key < $1.key }) {
            guard let written = documented[name] else { continue }
            #expect(written == roles, "\(name): protocol.md says \(written), the command table \(roles)")
        }
    }

    @Test("every command in protocol.md's role table is answered, never with unknown-command")
    func everyDocumentedCommandIsKnown() throws {
        let desk = try TestDesk()
        defer { desk.stop() }
        let ada = try desk.client("ada")
        let names = try ProtocolDocument.roleTableCommands()
        for name in names where name != "QUIT" {
            let reply = try ada.command(name)
            #expect(reply.last?.hasPrefix("ERR unknown-command") == false, "\(name) -> \(reply.last ?? "")")
        }
        // QUIT last, on its own connection: it closes it.
        let quitter = try desk.client("cora")
        #expect(try quitter.command("QUIT").last == "OK bye")
    }

    @Test("HELP lists exactly the commands of protocol.md's role table")
    func helpMatchesTheTable() throws {
        let desk = try TestDesk()
        defer { desk.stop() }
        let client = try LineClient(port: desk.port)
        let listed = try client.command("HELP").dropLast().compactMap { field("command", in: $0) }
        let documented = try ProtocolDocument.roleTableCommands()
        #expect(Set(listed).subtracting(documented).isEmpty, "in HELP, not in protocol.md: \(Set(listed).subtracting(documented).sorted())")
        #expect(Set(documented).subtracting(listed).isEmpty, "in protocol.md, not in HELP: \(Set(documented).subtracting(listed).sorted())")
    }
}
