import Foundation
import OrderDeskServer

/// The engines end-to-end tests run against: SQLite always, PostgreSQL where its server is
/// installed (the PostgreSQL suites say so when it is not).
public enum StoreEngine: String, CaseIterable, Sendable {
    case sqlite
    case postgres
    /// Two nodes of an active-active cluster over one PostgreSQL; a test's sessions alternate
    /// between them (`TestDesk.client`).
    case cluster

    /// The engines this machine can run.
    public static var available: [StoreEngine] { PostgresCluster.isAvailable ? [.sqlite, .postgres, .cluster] : [.sqlite] }

    /// A fresh place for one test's state: a temporary data file, or a throwaway cluster.
    public func makePlace() throws -> StorePlace {
        switch self {
        case .sqlite: StorePlace(path: temporaryDirectory() + "/desk.sqlite")
        case .postgres: StorePlace(cluster: try PostgresCluster())
        case .cluster: StorePlace(cluster: try PostgresCluster(), nodes: 2)
        }
    }
}

/// Where one test's desk keeps its state; `open()` again after a restart sees what was committed.
/// A PostgreSQL place stops its cluster when released.
public final class StorePlace: @unchecked Sendable {  // immutable
    public let path: String?
    public let cluster: PostgresCluster?
    /// Nodes of an active-active cluster a desk on this place runs (0: a single server).
    public let nodes: Int

    init(path: String) {
        self.path = path
        cluster = nil
        nodes = 0
    }

    init(cluster: PostgresCluster, nodes: Int = 0) {
        path = nil
        self.cluster = cluster
        self.nodes = nodes
    }

    /// The arguments `orderdesk serve` takes for this place: `--data PATH` or `--postgres CONNINFO`.
    public var serveArguments: [String] {
        if let cluster { ["--postgres", cluster.conninfo()] + (nodes > 0 ? ["--cluster"] : []) } else { ["--data", path ?? ""] }
    }

    /// Opens a store on this place. A PostgreSQL store released a moment ago may still hold the
    /// desk lock while its server's queues wind down: opening waits for it (within 5 s).
    public func open() throws -> DeskStore {
        guard let cluster else { return try SQLiteStore(path: path ?? "") }
        var node = PostgresStore.Node()
        if nodes > 0 { node.cluster = ClusterIdentity(name: "test") }
        let deadline = Date().addingTimeInterval(5)
        while true {
            do {
                return try PostgresStore(conninfo: cluster.conninfo(), node: node)
            } catch PostgresError.deskInUse where Date() < deadline {
                usleep(10_000)
            }
        }
    }
}
