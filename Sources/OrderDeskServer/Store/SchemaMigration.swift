import CSQLite
#if canImport(Glibc)
import Glibc
#endif

/// One numbered step of the SQLite schema: what turns a file at `version - 1` into `version`.
///
/// The list only grows: a released step is never edited, because data files out there were
/// made by it. `PRAGMA user_version` holds the version a file is at. At open, every step above
/// it runs, in order, in one transaction that also sets `user_version`: a file is either fully
/// migrated or left exactly as it was. A file whose version is above the newest step was made
/// by a newer orderdesk and is refused without being touched.
struct SchemaMigration: Sendable {
    /// The version a file is at once this step has run.
    let version: Int64
    /// Statements run inside the migration's transaction.
    let sql: String

    /// Every step so far, oldest first.
    static let all: [SchemaMigration] = [version1, version2, version3, version4]

    /// The newest version this orderdesk writes.
    static var newest: Int64 { all.last?.version ?? 0 }

    /// Version 1: the schema as main wrote it until migrations existed (`IF NOT EXISTS`
    /// because such files never recorded which steps they had).
    static let version1 = SchemaMigration(version: 1, sql: """
            CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS users(name TEXT PRIMARY KEY, role TEXT NOT NULL, salt BLOB NOT NULL,
                hash BLOB NOT NULL, iterations INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS orders(number TEXT PRIMARY KEY, sequence INTEGER NOT NULL, customer TEXT NOT NULL,
                rep TEXT NOT NULL, po TEXT NOT NULL, currency TEXT NOT NULL, priority TEXT NOT NULL, ship TEXT,
                stage TEXT NOT NULL, captured_at INTEGER NOT NULL, stage_changed_at INTEGER NOT NULL, lines TEXT NOT NULL,
                watchers TEXT NOT NULL, claim_holder TEXT, claim_token INTEGER, claim_since INTEGER, claim_expires INTEGER,
                claim_warned INTEGER, claim_grace INTEGER, episodes TEXT NOT NULL DEFAULT '', released_by TEXT, released_at INTEGER);
            CREATE TABLE IF NOT EXISTS holds(order_number TEXT NOT NULL, id INTEGER NOT NULL, type TEXT NOT NULL,
                reason TEXT NOT NULL, placed_by TEXT NOT NULL, placed_at INTEGER NOT NULL, released_by TEXT,
                released_at INTEGER, release_reason TEXT, PRIMARY KEY(order_number, id)) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS notes(order_number TEXT NOT NULL, at INTEGER NOT NULL, author TEXT NOT NULL, text TEXT NOT NULL);
            CREATE INDEX IF NOT EXISTS notes_by_order ON notes(order_number);
            CREATE TABLE IF NOT EXISTS history(order_number TEXT NOT NULL, at INTEGER NOT NULL, actor TEXT NOT NULL,
                action TEXT NOT NULL, detail TEXT NOT NULL);
            CREATE INDEX IF NOT EXISTS history_by_order ON history(order_number);
            CREATE TABLE IF NOT EXISTS mailbox(user TEXT NOT NULL, id INTEGER NOT NULL, at INTEGER NOT NULL, kind TEXT NOT NULL,
                line TEXT NOT NULL, personal INTEGER NOT NULL, read INTEGER NOT NULL, delivered INTEGER NOT NULL,
                PRIMARY KEY(user, id)) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS mailbox_dropped(user TEXT PRIMARY KEY, through INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS memberships(user TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL,
                PRIMARY KEY(user, kind, name)) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS thresholds(queue TEXT PRIMARY KEY, warning INTEGER NOT NULL, stuck INTEGER NOT NULL,
                admins INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS audit(at INTEGER NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, detail TEXT NOT NULL);
        """)

    /// Version 2: the audit trail is kept whole (no longer only the newest 1000 are read), so
    /// its entries get ids that never change or repeat, for AUDIT's `before=` paging, and indexes
    /// for its `user=` and `action=` filters. Existing entries keep their order as ids.
    static let version2 = SchemaMigration(version: 2, sql: """
        CREATE TABLE audit_v2(id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, actor TEXT NOT NULL,
            action TEXT NOT NULL, detail TEXT NOT NULL);
        INSERT INTO audit_v2(id, at, actor, action, detail) SELECT rowid, at, actor, action, detail FROM audit ORDER BY rowid;
        DROP TABLE audit;
        ALTER TABLE audit_v2 RENAME TO audit;
        CREATE INDEX audit_by_actor ON audit(actor, id);
        CREATE INDEX audit_by_action ON audit(action, id);
        """)

    /// Version 3: users can be disabled over the wire (and enabled again), and the desk keeps
    /// each user's last login. Existing users are enabled and have never logged in, as far as
    /// the file knows.
    static let version3 = SchemaMigration(version: 3, sql: """
        ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE users ADD COLUMN last_login INTEGER;
        """)

    /// Version 4: notes and history are filed under their order's capture sequence instead of its
    /// number. The sequence only grows, so the rows of the orders being worked (the newest ones)
    /// land together at the index's end; keyed by number they landed in as many places as the
    /// commit had orders (a page written, and synced, for each). Rows whose order is not in the
    /// file (`check` reports them) get none.
    static let version4 = SchemaMigration(version: 4, sql: """
        ALTER TABLE notes ADD COLUMN order_sequence INTEGER;
        ALTER TABLE history ADD COLUMN order_sequence INTEGER;
        UPDATE notes SET order_sequence = (SELECT sequence FROM orders WHERE orders.number = notes.order_number);
        UPDATE history SET order_sequence = (SELECT sequence FROM orders WHERE orders.number = history.order_number);
        DROP INDEX IF EXISTS notes_by_order;
        DROP INDEX IF EXISTS history_by_order;
        CREATE INDEX notes_by_sequence ON notes(order_sequence);
        CREATE INDEX history_by_sequence ON history(order_sequence);
        """)

    /// The version `database` is at.
    static func version(of database: SQLiteDatabase) throws -> Int64 {
        let statement = try database.prepare("PRAGMA user_version")
        return try statement.step() ? statement.int(0) : 0
    }

    /// Brings `database` to the newest version of `migrations`, or throws and changes nothing.
    /// Returns true when a step ran.
    @discardableResult
    static func migrate(_ database: SQLiteDatabase, path: String, with migrations: [SchemaMigration]) throws -> Bool {
        let newest = migrations.last?.version ?? 0
        let current = try version(of: database)
        guard current <= newest else { throw StoreError.newerSchema(path: path, fileVersion: current, supported: newest) }
        let pending = migrations.filter { $0.version > current }
        guard !pending.isEmpty else { return false }
        try database.execute("BEGIN IMMEDIATE")
        do {
            // Checked again inside the transaction: another process may have migrated meanwhile.
            let locked = try version(of: database)
            guard locked <= newest else { throw StoreError.newerSchema(path: path, fileVersion: locked, supported: newest) }
            for migration in pending where migration.version > locked {
                do {
                    try database.execute(migration.sql)
                    try database.execute("PRAGMA user_version = \(migration.version)")
                } catch {
                    throw StoreError.migrationFailed(path: path, version: migration.version, reason: "\(error)")
                }
            }
            try database.execute("COMMIT")
        } catch {
            try? database.execute("ROLLBACK")
            throw error
        }
        return true
    }
}

/// File-level helpers for data files.
public enum DataFile {
    /// Creates an empty file at `path` with mode 0600 if none is there, so SQLite (which keeps
    /// the mode for its -wal and -shm files) never makes a data file others can read.
    public static func createIfMissing(_ path: String) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if descriptor >= 0 {
            close(descriptor)
        } else if errno != EEXIST {
            throw StoreError.sqlite(code: SQLITE_CANTOPEN, message: "\(path): \(String(cString: strerror(errno)))")
        }
    }
}
