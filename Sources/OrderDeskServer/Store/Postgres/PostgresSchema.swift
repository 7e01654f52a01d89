/// The PostgreSQL schema: numbered steps, as for SQLite (SchemaMigration), recorded in a
/// version table, run at start under a transaction-scoped advisory lock.
///
/// The tables mirror the SQLite file's, in their own schema `orderdesk` (so the desk can share a
/// database), with PostgreSQL's types: BIGINT for numbers and instants (milliseconds), BOOLEAN
/// for flags, BYTEA for salts and hashes, BIGSERIAL where SQLite orders by rowid. `user` is a
/// reserved word in PostgreSQL, so the mailbox and membership tables name it `user_name`.
/// The list only grows: a released step is never edited.
struct PostgresMigration: Sendable {
    /// The version the database is at once this step has run.
    let version: Int64
    /// Statements run inside the migration's transaction (several, through the simple protocol).
    let sql: String
}

enum PostgresSchema {
    /// Every step so far, oldest first.
    static let all: [PostgresMigration] = [version1, version2]

    /// The PostgreSQL schema (namespace) that holds the desk's tables.
    static let namespace = "orderdesk"

    /// Advisory lock keys, as the two-int form `(class, id)`: the class is orderdesk's ("od").
    static let lockClass: Int32 = 0x6F64
    /// Held for the length of a migration transaction, so two nodes starting together migrate one after the other.
    static let migrationLock: Int32 = 1
    /// Held for a session's life by the one node serving the database (and by `user add`, `import`).
    static let deskLock: Int32 = 2
    /// A cluster node's write turn (docs/CLUSTER.md), held from `takeTurn` to `endTurn`.
    static let turnLock: Int32 = 3
    /// The channel a cluster node's commit notifies, so the others read the log at once.
    static let logChannel = "orderdesk_log"

    /// Version 1: the SQLite schema as of its version 3.
    static let version1 = PostgresMigration(version: 1, sql: """
        CREATE TABLE orderdesk.meta(key TEXT PRIMARY KEY, value BIGINT NOT NULL);
        CREATE TABLE orderdesk.users(name TEXT PRIMARY KEY, role TEXT NOT NULL, salt BYTEA NOT NULL, hash BYTEA NOT NULL,
            iterations BIGINT NOT NULL, disabled BOOLEAN NOT NULL DEFAULT false, last_login BIGINT);
        CREATE TABLE orderdesk.orders(number TEXT PRIMARY KEY, sequence BIGINT NOT NULL, customer TEXT NOT NULL,
            rep TEXT NOT NULL, po TEXT NOT NULL, currency TEXT NOT NULL, priority TEXT NOT NULL, ship TEXT,
            stage TEXT NOT NULL, captured_at BIGINT NOT NULL, stage_changed_at BIGINT NOT NULL, lines TEXT NOT NULL,
            watchers TEXT NOT NULL, claim_holder TEXT, claim_token BIGINT, claim_since BIGINT, claim_expires BIGINT,
            claim_warned BOOLEAN, claim_grace BIGINT, episodes TEXT NOT NULL DEFAULT '', released_by TEXT, released_at BIGINT);
        CREATE INDEX orders_by_sequence ON orderdesk.orders(sequence);
        CREATE TABLE orderdesk.holds(order_number TEXT NOT NULL, id BIGINT NOT NULL, type TEXT NOT NULL,
            reason TEXT NOT NULL, placed_by TEXT NOT NULL, placed_at BIGINT NOT NULL, released_by TEXT,
            released_at BIGINT, release_reason TEXT, PRIMARY KEY(order_number, id));
        CREATE TABLE orderdesk.notes(id BIGSERIAL PRIMARY KEY, order_number TEXT NOT NULL, at BIGINT NOT NULL,
            author TEXT NOT NULL, text TEXT NOT NULL);
        CREATE INDEX notes_by_order ON orderdesk.notes(order_number, id);
        CREATE TABLE orderdesk.history(id BIGSERIAL PRIMARY KEY, order_number TEXT NOT NULL, at BIGINT NOT NULL,
            actor TEXT NOT NULL, action TEXT NOT NULL, detail TEXT NOT NULL);
        CREATE INDEX history_by_order ON orderdesk.history(order_number, id);
        CREATE TABLE orderdesk.mailbox(user_name TEXT NOT NULL, id BIGINT NOT NULL, at BIGINT NOT NULL, kind TEXT NOT NULL,
            line TEXT NOT NULL, personal BOOLEAN NOT NULL, read BOOLEAN NOT NULL, delivered BOOLEAN NOT NULL,
            PRIMARY KEY(user_name, id));
        CREATE TABLE orderdesk.mailbox_dropped(user_name TEXT PRIMARY KEY, through BIGINT NOT NULL);
        CREATE TABLE orderdesk.memberships(user_name TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL,
            PRIMARY KEY(user_name, kind, name));
        CREATE TABLE orderdesk.thresholds(queue TEXT PRIMARY KEY, warning BIGINT NOT NULL, stuck BIGINT NOT NULL,
            admins BIGINT NOT NULL);
        CREATE TABLE orderdesk.audit(id BIGSERIAL PRIMARY KEY, at BIGINT NOT NULL, actor TEXT NOT NULL,
            action TEXT NOT NULL, detail TEXT NOT NULL);
        CREATE INDEX audit_by_actor ON orderdesk.audit(actor, id);
        CREATE INDEX audit_by_action ON orderdesk.audit(action, id);
        """)

    /// Version 2: the cluster's log of inputs, its nodes' heartbeats, the sessions each serves,
    /// and away messages (a single server forgets them at restart; a joining node must not).
    static let version2 = PostgresMigration(version: 2, sql: """
        CREATE TABLE orderdesk.cluster_log(seq BIGINT PRIMARY KEY, node TEXT NOT NULL, at BIGINT NOT NULL, body BYTEA NOT NULL);
        CREATE TABLE orderdesk.cluster_nodes(id TEXT PRIMARY KEY, name TEXT NOT NULL, seen TIMESTAMPTZ NOT NULL);
        CREATE TABLE orderdesk.cluster_sessions(node TEXT NOT NULL, user_name TEXT NOT NULL, count BIGINT NOT NULL,
            PRIMARY KEY(node, user_name));
        CREATE TABLE orderdesk.cluster_away(user_name TEXT PRIMARY KEY, message TEXT NOT NULL);
        CREATE TABLE orderdesk.cluster_settings(id INT PRIMARY KEY CHECK (id = 1), settings TEXT NOT NULL);
        """)

    /// The version the database is at: 0 when it has no orderdesk schema yet.
    static func version(of connection: PostgresConnection) throws -> Int64 {
        let exists = try connection.execute("SELECT to_regclass('orderdesk.schema_version') IS NOT NULL").single().boolean(0)
        guard exists else { return 0 }
        return try connection.execute("SELECT COALESCE(MAX(version), 0) FROM orderdesk.schema_version").single().integer(0)
    }

    /// Brings the database to the newest of `migrations`, or throws and changes nothing.
    ///
    /// The whole run is one transaction that first takes the migration advisory lock: a second
    /// node starting at the same moment waits for it, then finds the schema made (READ COMMITTED
    /// gives each later statement a fresh snapshot) and has nothing to do.
    static func migrate(_ connection: PostgresConnection, with migrations: [PostgresMigration] = all) throws {
        let newest = migrations.last?.version ?? 0
        try connection.transaction(begin: "BEGIN ISOLATION LEVEL READ COMMITTED") {
            try connection.execute("SELECT pg_advisory_xact_lock(\(lockClass), \(migrationLock))")
            try connection.execute("CREATE SCHEMA IF NOT EXISTS \(namespace)")
            try connection.execute("CREATE TABLE IF NOT EXISTS \(namespace).schema_version(version BIGINT NOT NULL)")
            let current = try version(of: connection)
            guard current <= newest else { throw PostgresError.newerSchema(databaseVersion: current, supported: newest) }
            let pending = migrations.filter { $0.version > current }
            guard !pending.isEmpty else { return }
            for migration in pending {
                do {
                    try connection.run(script: migration.sql)
                } catch {
                    throw PostgresError.migrationFailed(version: migration.version, reason: "\(error)")
                }
            }
            try connection.execute("DELETE FROM \(namespace).schema_version")
            try connection.execute("INSERT INTO \(namespace).schema_version(version) VALUES($1)", [.integer(newest)])
        }
    }
}
