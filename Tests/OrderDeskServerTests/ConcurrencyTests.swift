import Dispatch
import Foundation
import Testing
import TestSupport

@Suite("End to end: racing processors", .serialized)
struct ConcurrencyTests {
    @Test("many processors racing NEXT on a small queue: every order is claimed by exactly one")
    func nextRace() throws {
        let desk = try TestDesk(users: TestDesk.standardUsers + (1...12).map { ("p\($0)", .processor) })
        defer { desk.stop() }
        let shop = try desk.client("shop")
        let orderCount = 40
        for index in 1...orderCount { try desk.capture("SO-\(index)", using: shop) }

        let clients = try (1...12).map { try desk.client("p\($0)") }
        let claims = Locked<[String: [String]]>([:])
        let failures = Locked<[String]>([])
        runOnThreads(clients.count) { index in
            let client = clients[index]
            while true {
                do {
                    let reply = try client.command("NEXT")
                    guard let last = reply.last, last.hasPrefix("OK") else {
                        if reply.last?.hasPrefix("ERR queue-empty") != true {
                            failures.withLock { $0.append(reply.joined()) }
                        }
                        return
                    }
                    let order = field("order", in: last) ?? "?"
                    claims.withLock { $0[order, default: []].append("p\(index + 1)") }
                } catch {
                    failures.withLock { $0.append("\(error)") }
                    return
                }
            }
        }
        #expect(failures.current.isEmpty)
        #expect(claims.current.count == orderCount)
        #expect(claims.current.values.allSatisfy { $0.count == 1 }, "double claims: \(claims.current.filter { $0.value.count > 1 })")
    }
}
