import OrderDeskCore

/// Where the desk's state lives between restarts.
///
/// `commit` is all or nothing: when it returns, every change is durable; when it throws, none
/// is. The server calls a store from one queue at a time (its store queue), never concurrently.
public protocol DeskStore: AnyObject, Sendable {
    /// Everything the store holds, to rebuild the desk at start (or after a failed commit).
    func load() throws -> DeskSnapshot
    /// Commits `changes` in one transaction.
    func commit(_ changes: [StoreChange]) throws
    /// Housekeeping the server runs on its store queue after start (dropping expired events),
    /// a bounded slice at a time so commits are never held up for long; returns true while
    /// more is left to do.
    func maintain(now: Instant) throws -> Bool
    /// An order's whole thread and history, for look-ups of archived orders.
    func thread(of order: String) throws -> (notes: [Note], history: [HistoryEntry])
    /// A page of the audit trail, newest first; the desk keeps none of it in memory.
    func audit(_ query: AuditQuery) throws -> AuditPage
    /// True when `error` (from `load`) may pass by itself: the store cannot be reached now (a
    /// database restarting) rather than holds something unreadable. The server then refuses
    /// commands with `ERR storage` and tries again, instead of stopping.
    func isTransient(_ error: Error) -> Bool
    /// True when `error` says another server has this store's desk now (a PostgreSQL standby
    /// took it over while this server was paused or cut off).
    func hasLostDesk(_ error: Error) -> Bool
    /// How often the server calls `keepAlive` on its store queue; nil: never.
    var keepAliveInterval: Milliseconds? { get }
    /// Tells the store this server is alive (a PostgreSQL node keeps its desk lock so). A throw
    /// means the store was lost: the server reloads, as after a failed commit.
    func keepAlive() throws
}

extension DeskStore {
    public func maintain(now: Instant) throws -> Bool { false }

    public var keepAliveInterval: Milliseconds? { nil }
    public func hasLostDesk(_ error: Error) -> Bool { false }
    public func keepAlive() throws {}

    public func isTransient(_ error: Error) -> Bool {
        if case StoreError.unavailable = error { return true }
        return false
    }
}

/// Why a store operation failed.
public enum StoreError: Error, CustomStringConvertible {
    /// SQLite returned an error code; the message is SQLite's.
    case sqlite(code: Int32, message: String)
    /// A row held a value the desk cannot read back (a damaged or foreign data file).
    case corrupt(String)
    /// A fault injected by a test.
    case injected
    /// The store cannot be reached now (its database is down or restarting): transient.
    case unavailable(String)
    /// The data file was made by a newer orderdesk, whose schema this one cannot read.
    case newerSchema(path: String, fileVersion: Int64, supported: Int64)
    /// A schema migration failed; the data file was left as it was.
    case migrationFailed(path: String, version: Int64, reason: String)

    public var description: String {
        switch self {
        case .sqlite(let code, let message): "sqlite error \(code): \(message)"
        case .corrupt(let detail): "unreadable data: \(detail)"
        case .injected: "injected fault"
        case .unavailable(let reason): "the store cannot be reached: \(reason)"
        case .newerSchema(let path, let fileVersion, let supported):
            "\(path) was made by a newer orderdesk (schema version \(fileVersion)); this orderdesk reads schema versions up to "
                + "\(supported). Run the newer orderdesk, or restore a backup this version made; the file was not changed"
        case .migrationFailed(let path, let version, let reason):
            "upgrading \(path) to schema version \(version) failed (\(reason)); the file was left as it was"
        }
    }
}
