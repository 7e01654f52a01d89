import OrderDeskOps

/// A throwaway PostgreSQL server for one test (OrderDeskOps' `ThrowawayPostgres`, which the
/// bench starts too). Tests that need one check `PostgresCluster.isAvailable` (or
/// `unavailableReason`) and are skipped with that reason on a machine without the server.
public typealias PostgresCluster = ThrowawayPostgres

extension ThrowawayPostgres.Settings {
    /// What tests run with: no fsync (nothing here outlives the machine), and room for the
    /// servers, standbys and psql sessions of one test.
    public static let forTests = ThrowawayPostgres.Settings(fsync: false, synchronousCommit: true, maximumConnections: 40)
}

extension ThrowawayPostgres {
    /// A server for one test, with `Settings.forTests`; returns once it accepts connections.
    public convenience init(timeout: Int = 30) throws {
        try self.init(settings: .forTests, timeout: timeout)
    }
}
