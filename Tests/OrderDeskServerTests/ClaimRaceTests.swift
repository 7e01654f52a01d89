import Foundation
import Testing
import TestSupport
import OrderDeskCore

/// Many sessions race NEXT, CLAIM, HANDBACK, TOUCH, HOLD/UNHOLD and REASSIGN on a handful of
/// orders while short leases expire; the server's own serial history is then checked.
@Suite("End to end: no double claims", .serialized)
struct ClaimRaceTests {
    @Test("no order ever has two holders, tokens only grow, and an expired holder cannot change the order", arguments: StoreEngine.available)
    func race(_ engine: StoreEngine) throws {
        var settings = DeskSettings()
        settings.leaseDuration = Milliseconds(120)
        settings.leaseWarning = Milliseconds(30)
        settings.graceWindow = Milliseconds(100)
        let processors = (1...8).map { "p\($0)" }
        let desk = try TestDesk(engine: engine, settings: settings, users: TestDesk.standardUsers + processors.map { ($0, .processor) }) {
            $0.tickInterval = Milliseconds(5)
        }
        defer { desk.stop() }
        let shop = try desk.client("shop")
        let orders = (1...5).map { "SO-\($0)" }
        for number in orders { try desk.capture(number, using: shop) }

        let replies = Locked<[(user: String, command: String, reply: String)]>([])
        let deadline = Date().addingTimeInterval(2)
        let workers = processors + ["ada"]
        let clients = try workers.map { try desk.client($0) }
        runOnThreads(workers.count) { index in
            let user = workers[index]
            let client = clients[index]
            var random = SystemRandomNumberGenerator()
            while Date() < deadline {
                let order = orders.randomElement(using: &random) ?? "SO-1"
                let command: String
                if user == "ada" {
                    let target = Int.random(in: 0...8, using: &random)
                    command = "REASSIGN \(order) \(target == 0 ? "nobody" : processors[target - 1]) shuffle"
                } else {
                    switch Int.random(in: 0..<7, using: &random) {
                    case 0: command = "NEXT"
                    case 1: command = "CLAIM \(order)"
                    case 2: command = "HANDBACK \(order) done for now"
                    case 3: command = "TOUCH \(order)"
                    case 4: command = "HOLD \(order) other race check"
                    case 5: command = "UNHOLD \(order) other race over"
                    default: command = "NOTE \(order) still here"
                    }
                }
                guard let reply = try? client.command(command).last else { return }
                replies.withLock { $0.append((user, command, reply)) }
            }
        }

        // Client side: every token was issued to one holder only.
        var holderOfToken: [String: String] = [:]
        var tokenConflicts: [String] = []
        for entry in replies.current where entry.reply.hasPrefix("OK") && !entry.command.hasPrefix("REASSIGN") {
            guard let token = field("token", in: entry.reply), let order = field("order", in: entry.reply) else { continue }
            let key = order + "#" + token
            if let holder = holderOfToken[key], holder != entry.user { tokenConflicts.append(key) }
            holderOfToken[key] = entry.user
        }
        #expect(tokenConflicts.isEmpty, "tokens shared by two holders: \(tokenConflicts)")

        // Server side: walk each order's history, which the serial desk queue wrote in order.
        let checker = try desk.client("ada")
        var checked = 0
        var violations: [String] = []
        for order in orders {
            var holder: String?
            var lastToken = 0
            for line in try checker.command("HISTORY \(order)").dropLast() {
                checked += 1
                let actor = field("by", in: line) ?? ""
                let action = field("action", in: line) ?? ""
                let detail = field("detail", in: line) ?? ""
                func token(_ text: String) -> Int? {
                    guard let range = text.range(of: #"token (\d+)"#, options: .regularExpression) else { return nil }
                    return Int(text[range].dropFirst(6))
                }
                switch action {
                case "claimed":
                    if let holder { violations.append("\(order): \(actor) claimed while \(holder) held it") }
                    holder = actor
                    if let value = token(detail) {
                        if value <= lastToken { violations.append("\(order): token \(value) after \(lastToken)") }
                        lastToken = value
                    }
                case "reassigned":
                    let target = detail.split(separator: " ").dropFirst(2).first.map { String($0).trimmingCharacters(in: CharacterSet(charactersIn: ":")) }
                    holder = target == "nobody" ? nil : target
                    if let value = token(detail) {
                        if value <= lastToken { violations.append("\(order): token \(value) after \(lastToken)") }
                        lastToken = value
                    }
                case "handed-back", "lease-expired":
                    if holder == nil { violations.append("\(order): \(action) with no holder") }
                    holder = nil
                case "hold", "unhold":
                    if actor != holder && actor != "ada" { violations.append("\(order): \(actor) changed holds while \(holder ?? "nobody") held it") }
                default:
                    break
                }
            }
        }
        #expect(violations.isEmpty, "\(violations.prefix(10))")
        let expired = replies.current.count { $0.reply.hasPrefix("ERR not-holder") || $0.reply.hasPrefix("ERR claimed") }
        print("claim race: \(replies.current.count) replies, \(checked) history entries checked, \(expired) refused changes, \(holderOfToken.count) claims")
        #expect(checked > 100)
    }
}
