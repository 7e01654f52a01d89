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
}

extension DeskStore {
    public func maintain(now: Instant) throws -> Bool { false }
}

/// Why a store operation failed.
public enum StoreError: Error, CustomStringConvertible {
    /// SQLite returned an error code; the message is SQLite's.
    case sqlite(code: Int32, message: String)
    /// A row held a value the desk cannot read back (a damaged or foreign data file).
    case corrupt(String)
    /// A fault injected by a test.
    case injected

    public var description: String {
        switch self {
        case .sqlite(let code, let message): "sqlite error \(code): \(message)"
        case .corrupt(let detail): "unreadable data: \(detail)"
        case .injected: "injected fault"
        }
    }
}
