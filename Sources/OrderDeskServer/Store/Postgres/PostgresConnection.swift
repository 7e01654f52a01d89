import CLibpq

/// One libpq connection, used synchronously from one queue at a time.
///
/// Every call waits for PostgreSQL's answer, so it runs on the server's store queue (the
/// commit pipeline hands commits there), never on the desk queue. Parameters go as text, but
/// for bytea, sent as binary; results come back as text. Not thread-safe: a `PGconn` is used
/// from one queue only.
final class PostgresConnection {
    private let handle: OpaquePointer

    /// Connects with a libpq connection string or URI (`host=/tmp port=5432 dbname=desk`,
    /// `postgresql://user@host/desk`), or throws libpq's reason.
    init(conninfo: String) throws {
        guard let handle = PQconnectdb(conninfo) else { throw PostgresError.connectionFailed("libpq could not allocate a connection") }
        guard PQstatus(handle) == CONNECTION_OK else {
            let message = Self.text(PQerrorMessage(handle))
            PQfinish(handle)
            throw PostgresError.connectionFailed(message)
        }
        self.handle = handle
        // Notices ("relation already exists, skipping") would go to stderr; the store has nothing to say about them.
        PQsetNoticeProcessor(handle, { _, _ in }, nil)
    }

    deinit { PQfinish(handle) }

    /// False once the connection broke; `reset` makes a new one.
    var isHealthy: Bool { PQstatus(handle) == CONNECTION_OK }

    /// The database, host and port, for messages (never the password).
    var databaseDescription: String {
        let host = Self.text(PQhost(handle))
        return "PostgreSQL database \(Self.text(PQdb(handle))) on \(host.hasPrefix("/") ? "socket " : "")\(host):\(Self.text(PQport(handle)))"
    }

    /// Closes the connection and opens it again with the same parameters. Session state (locks,
    /// settings) is gone afterwards: the caller sets it up again.
    func reset() throws {
        PQreset(handle)
        guard isHealthy else { throw PostgresError.connectionFailed(Self.text(PQerrorMessage(handle))) }
    }

    /// Runs one statement with `$1`, `$2`, ... bound to `parameters` and returns its result.
    @discardableResult
    func execute(_ sql: String, _ parameters: [StoreValue] = []) throws -> PostgresResult {
        var buffers: [UnsafeMutablePointer<UInt8>?] = []
        var lengths: [Int32] = []
        var formats: [Int32] = []
        var types: [Oid] = []
        defer { for buffer in buffers { buffer?.deallocate() } }
        for parameter in parameters {
            let (bytes, isBinary): ([UInt8]?, Bool) = switch parameter {
            case .null: (nil, false)
            case .text(let text): (Array(text.utf8), false)
            case .integer(let value): (Array(String(value).utf8), false)
            case .boolean(let value): (Array((value ? "t" : "f").utf8), false)
            case .bytes(let bytes): (bytes, true)
            }
            guard let bytes else {
                buffers.append(nil)
                lengths.append(0)
                formats.append(0)
                types.append(0)
                continue
            }
            // One byte more for the terminating NUL that text parameters need.
            let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: bytes.count + 1)
            buffer.initialize(from: bytes, count: bytes.count)
            buffer[bytes.count] = 0
            buffers.append(buffer)
            lengths.append(Int32(bytes.count))
            formats.append(isBinary ? 1 : 0)
            types.append(isBinary ? Self.byteaType : 0)
        }
        let values = buffers.map { $0.map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) } }
        let result = PQexecParams(handle, sql, Int32(parameters.count), types, values, lengths, formats, 0)
        return try checked(result)
    }

    /// Runs a script of several statements (no parameters) through the simple query protocol:
    /// for schema migrations.
    func run(script: String) throws {
        _ = try checked(PQexec(handle, script))
    }

    /// Runs `body` in one transaction: COMMIT when it returns, ROLLBACK when it throws. Throws
    /// unless PostgreSQL reports the COMMIT as a commit.
    func transaction<Value>(begin: String = "BEGIN", _ body: () throws -> Value) throws -> Value {
        try execute(begin)
        do {
            let value = try body()
            let status = try execute("COMMIT").commandStatus
            // A transaction that failed inside answers COMMIT with ROLLBACK.
            guard status == "COMMIT" else { throw PostgresError.unexpectedResult("COMMIT answered \(status)") }
            return value
        } catch {
            if isHealthy { _ = try? execute("ROLLBACK") }
            throw error
        }
    }

    /// The result when it succeeded; otherwise clears it and throws why.
    private func checked(_ result: OpaquePointer?) throws -> PostgresResult {
        guard let result else {
            throw isHealthy ? PostgresError.unexpectedResult(Self.text(PQerrorMessage(handle)))
                            : PostgresError.connectionLost(Self.text(PQerrorMessage(handle)))
        }
        let status = PQresultStatus(result)
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else {
            let message = Self.text(PQresultErrorMessage(result))
            let sqlState = Self.text(PQresultErrorField(result, Self.sqlStateField))
            PQclear(result)
            guard isHealthy else { throw PostgresError.connectionLost(message) }
            throw PostgresError.statementFailed(sqlState: sqlState, message: message)
        }
        return PostgresResult(result)
    }

    /// libpq's message text without its trailing newline; "" for NULL.
    static func text(_ pointer: UnsafePointer<CChar>?) -> String {
        guard let pointer else { return "" }
        var text = String(cString: pointer)
        while text.last == "\n" { text.removeLast() }
        return text
    }

    /// The OID of `bytea` (fixed in PostgreSQL's catalog).
    private static let byteaType: Oid = 17
    /// `PG_DIAG_SQLSTATE`, a character macro Swift does not import.
    private static let sqlStateField = Int32(UInt8(ascii: "C"))
}
