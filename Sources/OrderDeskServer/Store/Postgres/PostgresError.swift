/// Why a call to PostgreSQL, or the PostgreSQL store, failed.
public enum PostgresError: Error, CustomStringConvertible {
    /// libpq could not connect (a bad connection string, the server down, authentication); libpq's message.
    case connectionFailed(String)
    /// The connection broke during a call: what was running may or may not have committed
    /// (the desk reloads from the database after a failed commit, which settles it).
    case connectionLost(String)
    /// PostgreSQL refused a statement: its SQLSTATE and message.
    case statementFailed(sqlState: String, message: String)
    /// A result did not have the shape the store reads (a foreign or damaged database).
    case unexpectedResult(String)
    /// Another orderdesk server (or `user add`, `import`) holds this database's desk lock.
    case deskInUse(database: String)
    /// The database was made by a newer orderdesk, whose schema this one cannot read.
    case newerSchema(databaseVersion: Int64, supported: Int64)
    /// A schema migration failed; its transaction was rolled back and nothing changed.
    case migrationFailed(version: Int64, reason: String)
    /// An operation that exists only for SQLite data files.
    case notSupported(String)
    /// A standby was told to stop before it had the desk.
    case waitEnded
    /// A cluster node's heartbeat found it declared down by the others (it was paused or cut
    /// off past the node timeout): its view of the desk is stale, and it stops.
    case fenced(node: String)
    /// The cluster log no longer holds the entries after this node's newest (they were trimmed).
    case logGap(after: Int64, found: Int64)
    /// A cluster node's session ended during its write turn: the turn is gone with it.
    case turnLost
    /// A cluster node started with other desk settings than the nodes that run.
    case settingsDiffer(cluster: String, node: String)

    public var description: String {
        switch self {
        case .connectionFailed(let message): "cannot connect to PostgreSQL: \(message)"
        case .connectionLost(let message): "lost the connection to PostgreSQL: \(message)"
        case .statementFailed(let sqlState, let message): "PostgreSQL error \(sqlState): \(message)"
        case .unexpectedResult(let detail): "unexpected result from PostgreSQL: \(detail)"
        case .deskInUse(let database):
            "\(database) is in use by another orderdesk server (it holds the desk's advisory lock): a single serving node, "
                + "or `user add` or `import`, excludes every other server, and cluster nodes (--cluster) exclude a single one "
                + "(docs/CLUSTER.md); stop the other server first"
        case .newerSchema(let databaseVersion, let supported):
            "the database was made by a newer orderdesk (schema version \(databaseVersion)); this orderdesk reads schema versions up to "
                + "\(supported). Run the newer orderdesk; the database was not changed"
        case .migrationFailed(let version, let reason):
            "upgrading the database to schema version \(version) failed (\(reason)); it was left as it was"
        case .notSupported(let what): "\(what) is not supported on PostgreSQL"
        case .waitEnded: "stopped while waiting for the desk"
        case .fenced(let node): "the other nodes declared node \(node) down (it did not answer for longer than the node timeout)"
        case .logGap(let after, let found): "the cluster log has no entry after \(after) (its oldest is \(found)): reloading"
        case .turnLost: "the database session ended during this node's write turn"
        case .settingsDiffer(let cluster, let node):
            "the running nodes use the desk settings \(cluster), this node \(node): every node replays the others' changes with its "
                + "own settings, so start it with the same --lease and --grace (or stop them all first)"
        }
    }
}
