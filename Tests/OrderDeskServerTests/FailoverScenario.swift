import Foundation
import Testing
import TestSupport
import OrderDeskWire

/// The failover both PostgreSQL modes promise (a standby taking over, another cluster node
/// going on): ana listens on `first` while captures stream to it, `first` is killed, and ana
/// goes on at the next server: RESUME replays in id order, nothing twice and nothing seen
/// before; every acknowledged capture is there and ana heard of it; ids go on growing.
enum FailoverScenario {
    /// Runs it; `next` waits for the next server (a standby's port) and returns its port.
    /// Returns the seconds from the kill to ana's RESUME answered at the next server.
    static func killUnderLoad(_ first: ServerProcess, prefix: String, next: () throws -> UInt16) throws -> Double {
        let ana = try LineClient(port: first.port)
        try ana.ok("LOGIN ana demo")
        try ana.ok("SUBSCRIBE new")
        // Captures one after another until the server dies; each OK is a promise.
        let acknowledged = Locked<[String]>([])
        let writer = Thread {
            guard let shop = try? LineClient(port: first.port), (try? shop.ok("LOGIN shop demo")) != nil else { return }
            for index in 1... {
                let number = "SO-\(prefix)\(index)"
                guard let reply = try? shop.command("CAPTURE \(number) customer=Load rep=sam po=PO-\(index) lines=WID-1:1:1.00", timeout: 5),
                      reply.last?.hasPrefix("OK") == true else { return }
                acknowledged.withLock { $0.append(number) }
            }
        }
        writer.start()
        try waitUntil(timeout: 20, "some captures acknowledged") { acknowledged.current.count >= 40 }
        var live: [String] = []
        while live.count < 20, let event = try? ana.readLine(timeout: 0.2) {
            if ServerLine.eventID(event) != nil { live.append(event) }
        }

        let killed = Date()
        first.kill()
        let port = try next()
        try waitUntil(timeout: 10, "the writer to notice") { !writer.isExecuting }
        // ana's connection died with the server; what was buffered there still counts as seen.
        while let event = try? ana.readLine(timeout: 0.2) { if ServerLine.eventID(event) != nil { live.append(event) } }
        live += ana.events
        let lastSeen = live.compactMap { ServerLine.eventID($0) }.max() ?? 0

        let again = try LineClient(port: port)
        try again.ok("LOGIN ana demo")
        let resumed = try again.command("RESUME \(lastSeen)")
        let served = Date().timeIntervalSince(killed)
        #expect(resumed.last?.hasPrefix("OK resumed=") == true, "\(resumed)")
        let replayed = again.events
        let replayedIDs = replayed.compactMap { ServerLine.eventID($0) }
        #expect(replayedIDs == replayedIDs.sorted() && Set(replayedIDs).count == replayedIDs.count, "replayed in id order, once each")
        #expect(replayedIDs.allSatisfy { $0 > lastSeen }, "nothing seen is replayed")

        let cora = try LineClient(port: port)
        try cora.ok("LOGIN cora demo")
        let heard = live + replayed
        for number in acknowledged.current {
            #expect(try cora.command("CARD \(number)").last?.hasPrefix("OK order=\(number)") == true, "\(number) was acknowledged")
            #expect(heard.contains { $0.contains("order=\(number) ") }, "ana heard of \(number) live or in the replay")
        }
        // The next server goes on where the dead one stopped.
        let shop = try LineClient(port: port)
        try shop.ok("LOGIN shop demo")
        try shop.ok("CAPTURE SO-\(prefix)AFTER customer=Load rep=sam po=PO-A lines=WID-1:1:1.00")
        let event = try again.waitForEvent { $0.contains("order=SO-\(prefix)AFTER ") }
        #expect((ServerLine.eventID(event) ?? 0) > (replayedIDs.last ?? lastSeen), "event ids only grow across the failover")
        return served
    }
}
