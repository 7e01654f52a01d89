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

    /// False once the connection broke (or a pipeline was abandoned half way); `reset` makes a new one.
    var isHealthy: Bool { !isAbandoned && PQstatus(handle) == CONNECTION_OK }
    /// Set when a pipeline failed half way: what the server still has to say is unknown, so the
    /// connection is not used again until `reset`.
    private var isAbandoned = false
    /// The statements this session has prepared, by their SQL: a commit's statements are parsed
    /// and planned once per connection, not once per row.
    private var preparedNames: [String: String] = [:]
    private var preparedCount = 0

    /// The database, host and port, for messages (never the password).
    var databaseDescription: String {
        let host = Self.text(PQhost(handle))
        return "PostgreSQL database \(Self.text(PQdb(handle))) on \(host.hasPrefix("/") ? "socket " : "")\(host):\(Self.text(PQport(handle)))"
    }

    /// The connection's socket, for a Dispatch read source (a LISTEN connection's).
    var socket: Int32 { PQsocket(handle) }

    /// Reads what the server sent without waiting, and returns how many notifications (LISTEN)
    /// came; throws when the connection broke.
    func takeNotifications() throws -> Int {
        guard PQconsumeInput(handle) == 1 else { throw PostgresError.connectionLost(Self.text(PQerrorMessage(handle))) }
        var count = 0
        while let notification = PQnotifies(handle) {
            PQfreemem(notification)
            count += 1
        }
        return count
    }

    /// Closes the connection and opens it again with the same parameters. Session state (locks,
    /// settings) is gone afterwards: the caller sets it up again.
    func reset() throws {
        isAbandoned = false
        preparedNames = [:]  // the new session has none of them
        PQreset(handle)
        guard isHealthy else { throw PostgresError.connectionFailed(Self.text(PQerrorMessage(handle))) }
    }

    /// Runs one statement with `$1`, `$2`, ... bound to `parameters` and returns its result.
    @discardableResult
    func execute(_ sql: String, _ parameters: [StoreValue] = []) throws -> PostgresResult {
        let result = Self.withParameters(parameters) { count, types, values, lengths, formats in
            PQexecParams(handle, sql, count, types, values, lengths, formats, 0)
        }
        return try checked(result)
    }

    /// Hands `body` libpq's parameter arrays for `parameters`: text for all but bytea, which
    /// goes as binary; the buffers live until `body` returns.
    private static func withParameters<Result>(
        _ parameters: [StoreValue],
        _ body: (Int32, [Oid], [UnsafePointer<CChar>?], [Int32], [Int32]) -> Result
    ) -> Result {
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
            types.append(isBinary ? byteaType : 0)
        }
        let values = buffers.map { $0.map { UnsafePointer(UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)) } }
        return body(Int32(parameters.count), types, values, lengths, formats)
    }

    /// Runs `statements` in one transaction through libpq's pipeline mode: BEGIN, the statements
    /// and COMMIT go out before any answer is read, so a batch of n rows costs one round trip
    /// instead of n + 2. Each statement's SQL is prepared the first time this session sends it
    /// (in the same pipeline), and only executed after that: PostgreSQL parses and plans it once.
    /// Chunks of `pipelineChunk` statements are read back in turn, so neither side's socket
    /// buffer can fill while the other waits. All or nothing, like `transaction`: the first
    /// failure is thrown, and the transaction is rolled back.
    func pipelinedTransaction(_ statements: [(sql: String, parameters: [StoreValue])]) throws {
        guard PQenterPipelineMode(handle) == 1 else { throw failure() }
        var firstError: Error?
        var committed = false
        let all: [(sql: String, parameters: [StoreValue])] = [("BEGIN", [])] + statements + [("COMMIT", [])]
        var start = 0
        while start < all.count {
            let chunk = all[start..<min(all.count, start + Self.pipelineChunk)]
            start += chunk.count
            // What each answer of this chunk belongs to: a statement, or the preparing of one.
            var answers: [(position: Int, preparing: (sql: String, name: String)?)] = []
            var preparedHere: [String: String] = [:]
            for position in chunk.indices {
                let statement = chunk[position]
                let count = Int32(statement.parameters.count)
                var name = preparedNames[statement.sql] ?? preparedHere[statement.sql]
                if name == nil, position > 0, position < all.count - 1 {
                    preparedCount += 1
                    let fresh = "orderdesk_\(preparedCount)"
                    // Parameter types as the server infers them from the statement (bytea columns take the binary values).
                    guard PQsendPrepare(handle, fresh, statement.sql, count, nil) == 1 else { throw abandonPipeline(failure()) }
                    answers.append((position, (statement.sql, fresh)))
                    preparedHere[statement.sql] = fresh
                    name = fresh
                }
                let sent = Self.withParameters(statement.parameters) { count, types, values, lengths, formats in
                    if let name { PQsendQueryPrepared(handle, name, count, values, lengths, formats, 0) } else {
                        PQsendQueryParams(handle, statement.sql, count, types, values, lengths, formats, 0)
                    }
                }
                guard sent == 1 else { throw abandonPipeline(failure()) }
                answers.append((position, nil))
            }
            guard PQpipelineSync(handle) == 1 else { throw abandonPipeline(failure()) }
            for (position, preparing) in answers {
                guard let result = PQgetResult(handle) else { throw abandonPipeline(failure()) }
                let status = PQresultStatus(result)
                if status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK {
                    if let preparing {
                        // Known only once the server made it: one skipped after a failure is prepared again next time.
                        preparedNames[preparing.sql] = preparing.name
                    } else if position == all.count - 1 {
                        // The last statement is the COMMIT; a transaction that failed answers it with ROLLBACK.
                        committed = Self.text(PQcmdStatus(result)) == "COMMIT"
                    }
                } else if firstError == nil, status != PGRES_PIPELINE_ABORTED {
                    firstError = PostgresError.statementFailed(sqlState: Self.text(PQresultErrorField(result, Self.sqlStateField)),
                                                               message: Self.text(PQresultErrorMessage(result)))
                }
                PQclear(result)
                // Each answer ends with a NULL (an aborted one's too).
                if let extra = PQgetResult(handle) { PQclear(extra) }
            }
            guard let sync = PQgetResult(handle) else { throw abandonPipeline(failure()) }
            let isSync = PQresultStatus(sync) == PGRES_PIPELINE_SYNC
            PQclear(sync)
            guard isSync else { throw abandonPipeline(PostgresError.unexpectedResult("no pipeline sync where one was due")) }
        }
        PQexitPipelineMode(handle)
        guard firstError == nil, committed else {
            if isHealthy { _ = try? execute("ROLLBACK") }
            throw firstError ?? PostgresError.unexpectedResult("COMMIT did not commit")
        }
    }

    /// Statements sent before their answers are read, at most.
    static let pipelineChunk = 256

    /// Why the last call failed: the connection broke, or libpq's message.
    private func failure() -> PostgresError {
        isHealthy ? .unexpectedResult(Self.text(PQerrorMessage(handle))) : .connectionLost(Self.text(PQerrorMessage(handle)))
    }

    /// After a send or a read failed mid-pipeline the connection is in no known state: it counts
    /// as broken, so the next call connects again (and takes the desk lock again) before using it.
    private func abandonPipeline(_ error: PostgresError) -> PostgresError {
        isAbandoned = true
        if case .connectionLost = error { return error }
        return .connectionLost("the pipeline was abandoned: \(error)")
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
