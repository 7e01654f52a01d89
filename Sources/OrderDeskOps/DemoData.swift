import OrderDeskCore
import OrderDeskServer

/// Demo users of every role and a few hundred realistic orders, so a fresh desk has work in it.
///
/// Built through the desk's own commands at past instants, so the orders carry a true history
/// (captured, claimed, held, released, shipped) and obey every rule. Deterministic: the same
/// seed gives the same desk.
public enum DemoData {
    /// Every demo login uses this password.
    public static let password = "demo"

    public static let users: [(name: String, role: Role, about: String)] = [
        ("ana", .processor, "order processor"), ("ben", .processor, "order processor"), ("cleo", .processor, "order processor"),
        ("sam", .sales, "sales rep"), ("rita", .sales, "sales rep"),
        ("cora", .service, "customer service"),
        ("ada", .admin, "order administrator"),
        ("shop", .integration, "web shop / ERP integration"),
    ]

    static let customers: [(name: String, rep: String)] = [
        ("Acme Corp", "sam"), ("Globex", "sam"), ("Initech", "rita"), ("Umbrella Supply", "rita"), ("Stark Industrial", "sam"),
        ("Wayne Hardware", "rita"), ("Hooli", "sam"), ("Vandelay Imports", "rita"), ("Soylent Foods", "sam"),
        ("Tyrell Parts", "rita"), ("Cyberdyne Retail", "sam"), ("Massive Dynamic", "rita"),
    ]

    static let products: [(sku: String, cents: Int64)] = [
        ("WID-100", 1050), ("WID-200", 2475), ("GAD-9", 9900), ("BOLT-M8", 35), ("NUT-M8", 12), ("PIPE-20", 1899),
        ("VALVE-3", 4520), ("PUMP-1", 38900), ("GEAR-12", 1275), ("BELT-5", 899), ("SEAL-2", 250), ("MOTOR-7", 21900),
    ]

    static let holdReasons: [HoldType: [String]] = [
        .credit: ["over credit limit by 4,200", "account 60 days past due", "new customer, credit check pending"],
        .pricing: ["price below list, needs approval", "discount code expired", "contract price missing for SKU"],
        .inventory: ["backordered at main warehouse", "short 40 units", "SKU discontinued, substitute needed"],
        .address: ["ship-to address incomplete", "PO box not allowed for freight", "missing dock contact"],
        .other: ["customer asked to wait for consolidation", "duplicate suspected, checking with customer"],
    ]

    /// Creates the demo users and `orderCount` orders in `store`, if it holds no users yet.
    /// Returns false (and changes nothing) when the store already has users.
    @discardableResult
    public static func seed(into store: DeskStore, now: Instant, orderCount: Int = 300,
                            iterations: Int = Passwords.defaultIterations, settings: DeskSettings = DeskSettings()) throws -> Bool {
        let snapshot = try store.load()
        guard snapshot.users.isEmpty else { return false }
        var desk = Desk(settings: settings, snapshot: snapshot, now: now)
        var changes: [StoreChange] = []
        for user in users {
            changes += desk.put(User(name: user.name, role: user.role, credential: try Passwords.credential(for: password, iterations: iterations))).changes
        }
        var random = SplitMix64(seed: 42)
        let processors = ["ana", "ben", "cleo"]
        // The processors are at their desks while the past is replayed: a claim of someone
        // offline starts in its grace window and would end minutes later, before the hold or the
        // move that follows it (every command ends the leases due by its instant). The desk value
        // is thrown away after seeding.
        for processor in processors { changes += desk.sessionOpened(user: processor, now: now).outcome.changes }
        for index in 0..<orderCount {
            let customer = customers[random.next(below: customers.count)]
            var lines: [OrderLine] = []
            for _ in 0...random.next(below: 4) {
                let product = products[random.next(below: products.count)]
                lines.append(OrderLine(sku: product.sku, quantity: 1 + random.next(below: 40), unitPrice: Money(cents: product.cents)))
            }
            let priorities: [Priority] = [.normal, .normal, .normal, .high, .high, .low, .urgent]
            // What happens to the order, and so how old it is: most new work is fresh, a few
            // orders have sat long enough to be stuck.
            let fate = random.next(below: 20)
            let minutes: Int
            switch fate {
            case 0..<7: minutes = random.next(below: 10) < 7 ? 5 + random.next(below: 85) : 120 + random.next(below: 28 * 60)
            case 7..<12: minutes = 60 + random.next(below: 3 * 24 * 60)
            case 12..<15: minutes = 120 + random.next(below: 2 * 24 * 60)
            default: minutes = 24 * 60 + random.next(below: 4 * 24 * 60)
            }
            let age = Milliseconds(Int64(minutes) * 60_000)
            let capturedAt = now - age
            let number = "SO-\(10001 + index)"
            let shipDay = capturedAt + Milliseconds(Int64(3 + random.next(below: 10)) * 86_400_000)
            let draft = OrderDraft(number: number, customer: customer.name, rep: customer.rep,
                                   purchaseOrder: "PO-\(4000 + random.next(below: 6000))", currency: "USD", lines: lines,
                                   priority: priorities[random.next(below: priorities.count)],
                                   requestedShipDate: String(shipDay.iso8601.prefix(10)))
            changes += desk.importOrder(draft, by: "shop", capturedAt: capturedAt).changes
            let processor = processors[random.next(below: processors.count)]
            var time = capturedAt + Milliseconds(Int64(1 + random.next(below: 10)) * 60_000)
            func act(_ command: Command, as user: String) {
                guard time < now else { return }
                changes += desk.execute(command, as: user, now: time).changes
                time = time + Milliseconds(Int64(1 + random.next(below: 8)) * 60_000)
            }
            switch fate {
            case 0..<7:
                break  // new work, untouched
            case 7..<12:
                // On hold with a typed exception, handed back to wait for someone.
                let type = HoldType.allCases[random.next(below: HoldType.allCases.count)]
                let reasons = holdReasons[type] ?? ["needs review"]
                act(.claim(order: number), as: processor)
                act(.hold(order: number, type: type, reason: reasons[random.next(below: reasons.count)]), as: processor)
                if random.next(below: 2) == 0 {
                    act(.note(order: number, text: "@\(customer.rep) can you check with \(customer.name)?"), as: processor)
                }
                act(.handBack(order: number, reason: "waiting on \(type.rawValue) resolution"), as: processor)
            case 12..<15:
                act(.claim(order: number), as: processor)
                act(.move(order: number, to: .released, reason: nil), as: processor)
            case 15..<19:
                act(.claim(order: number), as: processor)
                if random.next(below: 3) == 0 {
                    act(.hold(order: number, type: .pricing, reason: "price below list, needs approval"), as: processor)
                    act(.note(order: number, text: "customer agreed the new price"), as: customer.rep)
                    act(.unhold(order: number, type: .pricing, reason: "customer agreed the new price"), as: processor)
                }
                act(.move(order: number, to: .released, reason: nil), as: processor)
                act(.move(order: number, to: .shipped, reason: nil), as: "shop")
            default:
                act(.claim(order: number), as: processor)
                act(.move(order: number, to: .cancelled, reason: "customer cancelled by phone"), as: processor)
            }
        }
        // They leave as the seeding ends: their claims are in the grace window, as after any
        // disconnect, so every node of a cluster loads the same desk whenever it starts.
        for processor in processors { changes += desk.sessionClosed(user: processor, now: now).changes }
        try store.commit(changes)
        return true
    }
}

