import Foundation
import Testing
import TestSupport
import OrderDeskCore
import OrderDeskServer

@Suite("End to end: orderdesk serve --postgres", .serialized, .needsPostgreSQL)
struct PostgresServerTests {
    /// Runs the orderdesk binary to its end with `input` on stdin; returns status, stdout and stderr.
    static func run(_ arguments: [String], input: String = "") throws -> ProcessRun {
        try runToEnd(ServerProcess.executable, arguments, input: input)
    }

    @Test("CAPTURE, NEXT, NOTE and MOVE over TCP survive a restart of the server; user add while it serves, and the user logs in at once")
    func restartKeepsWork() throws {
        let cluster = try PostgresCluster()
        let store = ["--postgres", cluster.conninfo()]
        // An empty database gets users the way an operator adds them.
        for (name, role) in [("shop", "integration"), ("ana", "processor"), ("cora", "service"), ("sam", "sales")] {
            let added = try Self.run(["user", "add", name, "--role", role] + store, input: "\(name)-password\n")
            #expect(added.status == 0, "user add \(name): \(added.errors)")
            #expect(added.output.contains("added user \(name) (\(role)) in PostgreSQL database postgres"))
        }
        var token = ""
        do {
            let server = try ServerProcess(storeArguments: store)
            defer { server.terminate() }
            // user add beside a serving node: through the cluster's log, which the node replays.
            let add = try Self.run(["user", "add", "rita", "--role", "sales"] + store, input: "rita-password\n")
            #expect(add.status == 0 && add.output.contains("added user rita (sales)"), "\(add.errors)")
            let rita = try LineClient(port: server.port)
            try rita.ok("LOGIN rita rita-password")

            let shop = try LineClient(port: server.port)
            try shop.ok("LOGIN shop shop-password")
            try shop.ok("CAPTURE SO-7 customer=\"Acme Corp\" rep=sam po=PO-7 lines=WID-1:2:10.50,GAD-9:1:99.00 priority=high")
            let ana = try LineClient(port: server.port)
            try ana.ok("LOGIN ana ana-password")
            let next = try ana.ok("NEXT")
            #expect(next.hasPrefix("OK order=SO-7 "))
            token = field("token", in: next) ?? ""
            try ana.ok("NOTE SO-7 checked stock, all there")
            try ana.ok("MOVE SO-7 released")
        }
        let server = try ServerProcess(storeArguments: store)
        defer { server.terminate() }
        let cora = try LineClient(port: server.port)
        try cora.ok("LOGIN cora cora-password")
        let card = try cora.command("ORDER SO-7")
        #expect(card.first?.contains("stage=released") == true, "\(card)")
        #expect(card.contains { $0.hasPrefix("* note ") && field("text", in: $0) == "checked stock, all there" })
        #expect(card.contains { $0.hasPrefix("* line ") && $0.contains("GAD-9") })
        #expect(try cora.command("HISTORY SO-7").count > 2)
        // Tokens keep growing across the restart.
        let shop = try LineClient(port: server.port)
        try shop.ok("LOGIN shop shop-password")
        try shop.ok("CAPTURE SO-8 customer=\"Acme Corp\" rep=sam po=PO-8 lines=WID-1:1:1.00")
        let ana = try LineClient(port: server.port)
        try ana.ok("LOGIN ana ana-password")
        let again = try ana.ok("NEXT")
        #expect(Int(field("token", in: again) ?? "") ?? 0 > Int(token) ?? Int.max)
    }

    @Test("--demo seeds an empty database once; --data beside --postgres and backup --postgres are refused")
    func demoAndRefusals() throws {
        let cluster = try PostgresCluster()
        let store = ["--postgres", cluster.conninfo()]
        do {
            let server = try ServerProcess(storeArguments: store, arguments: ["--demo"])
            defer { server.terminate() }
            let ada = try LineClient(port: server.port)
            try ada.ok("LOGIN ada demo")
            #expect(try ada.command("ORDER SO-10001").last?.hasPrefix("OK order=SO-10001") == true)
        }
        let both = try Self.run(["serve", "--port", "0", "--data", temporaryDirectory() + "/x.sqlite"] + store)
        #expect(both.status == 2 && both.errors.contains("exclude each other"))
        let backup = try Self.run(["backup", "--to", temporaryDirectory() + "/copy.sqlite"] + store)
        #expect(backup.status == 2 && backup.errors.contains("not supported on PostgreSQL"), "\(backup.errors)")
    }

    @Test("user add run back to back is never refused: each gives the desk lock back before it exits")
    func userAddBackToBack() throws {
        let cluster = try PostgresCluster()
        let store = ["--postgres", cluster.conninfo()]
        for index in 1...8 {
            let added = try Self.run(["user", "add", "user\(index)", "--role", "sales"] + store, input: "password-\(index)\n")
            #expect(added.status == 0, "user add user\(index): \(added.errors)")
        }
    }
}
