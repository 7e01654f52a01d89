import OrderDeskOps
import OrderDeskServer

/// Which store a command works on: the SQLite data file (`--data`, the default) or a
/// PostgreSQL database (`--postgres CONNINFO`), each locked against a second writer.
extension Commands {
    /// A store opened for `serve`, `user add` or `import`, with what keeps it exclusive.
    struct OpenedStore: Sendable {
        let store: DeskStore
        /// The SQLite file's lock; nil for PostgreSQL, whose store holds the desk's advisory lock itself.
        let lock: DataFileLock?
        /// Where the state lives: the data file's path, or the PostgreSQL database (never its password).
        let place: String
        let isPostgres: Bool

        /// Done with the store: a PostgreSQL desk's lock is given back before the process exits,
        /// so the next command (another `user add`) is not refused while the database notices.
        func close() {
            (store as? PostgresStore)?.release()
            withExtendedLifetime(lock) {}
        }

        /// `data=PATH` or `postgres="..."`, for the line `serve` prints at start.
        var location: String { isPostgres ? "postgres=\"\(place)\"" : "data=\(place)" }
    }

    /// Opens `--postgres CONNINFO` (one node per database: a second server is refused) or the
    /// data file at `--data` (default ./orderdesk.sqlite), migrating either to this version's schema.
    static func openStore(_ options: Options, retention: SQLiteStore.Retention = SQLiteStore.Retention(),
                          node: PostgresStore.Node = PostgresStore.Node()) throws -> OpenedStore {
        if let conninfo = options.value("postgres") {
            guard options.value("data") == nil else { throw UsageError("--data and --postgres exclude each other: the desk has one store") }
            let store = try PostgresStore(conninfo: conninfo, retention: retention, node: node)
            return OpenedStore(store: store, lock: nil, place: store.databaseDescription, isPostgres: true)
        }
        let path = options.value("data") ?? defaultDataPath
        let lock = try DataFileLock(dataPath: path)
        return OpenedStore(store: try SQLiteStore(path: path, retention: retention), lock: lock, place: path, isPostgres: false)
    }

    /// `backup`, `check` and `export` read SQLite files; with `--postgres` they say so instead of printing their usage.
    static func refuseSQLiteOnlyOnPostgres(_ options: Options) throws {
        guard options.value("postgres") != nil, let command = options.positional.first, ["backup", "check", "export"].contains(command) else { return }
        let instead = command == "export" ? "query the orderdesk schema" : "use pg_dump and amcheck, PostgreSQL's own tools"
        throw UsageError("\(PostgresError.notSupported("orderdesk \(command)")) (it reads SQLite data files); \(instead)")
    }
}
