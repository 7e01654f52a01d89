import Foundation
import OrderDeskServer

/// The engines end-to-end tests run against: SQLite always, PostgreSQL where its server is
/// installed (the PostgreSQL suites say so when it is not).
public enum StoreEngine: String, CaseIterable, Sendable {
    case sqlite
    case postgres

    /// The engines this machine can run.
    public static var available: [StoreEngine] { PostgresCluster.isAvailable ? [.sqlite, .postgres] : [.sqlite] }

    /// A fresh place for one test's state: a temporary data file, or a throwaway cluster.
    public func makePlace() throws -> StorePlace {
        switch self {
        case .sqlite: StorePlace(path: temporaryDirectory() + "/desk.sqlite")
        case .postgres: StorePlace(cluster: try PostgresCluster())
        }
    }
}

/// Where one test's desk keeps its state; `open()` again after a restart sees what was committed.
/// A PostgreSQL place stops its cluster when released.
public final class StorePlace: @unchecked Sendable {  // immutable
    public let path: String?
    public let cluster: PostgresCluster?

    init(path: String) {
        self.path = path
        cluster = nil
    }

    init(cluster: PostgresCluster) {
        path = nil
        self.cluster = cluster
    }

    /// The arguments `orderdesk serve` takes for this place: `--data PATH` or `--postgres CONNINFO`.
    public var serveArguments: [String] {
        if let cluster { ["--postgres", cluster.conninfo()] } else { ["--data", path ?? ""] }
    }

    /// Opens a store on this place. A PostgreSQL store released a moment ago may still hold the
    /// desk lock while its server's queues wind down: opening waits for it (within 5 s).
    public func open() throws -> DeskStore {
        guard let cluster else { return try SQLiteStore(path: path ?? "") }
        let deadline = Date().addingTimeInterval(5)
        while true {
            do {
                return try PostgresStore(conninfo: cluster.conninfo())
            } catch PostgresError.deskInUse where Date() < deadline {
                usleep(10_000)
            }
        }
    }
}
