import CLibpq

/// The rows of one statement's result, in text format; cleared when released.
///
/// Readers throw on a value of the wrong shape (a NULL where the schema forbids one, a
/// number that is not one) rather than inventing a default.
final class PostgresResult {
    private let handle: OpaquePointer
    let rowCount: Int

    init(_ handle: OpaquePointer) {
        self.handle = handle
        rowCount = Int(PQntuples(handle))
    }

    deinit { PQclear(handle) }

    /// The command tag: "COMMIT", "INSERT 0 1", ...
    var commandStatus: String { PostgresConnection.text(PQcmdStatus(handle)) }

    /// Rows an INSERT, UPDATE or DELETE touched.
    var affectedRows: Int { Int(PostgresConnection.text(PQcmdTuples(handle))) ?? 0 }

    var rows: [Row] { (0..<rowCount).map { Row(result: self, index: Int32($0)) } }

    /// The only row of a one-row result.
    func single() throws -> Row {
        guard rowCount == 1 else { throw PostgresError.unexpectedResult("\(rowCount) rows where one was expected") }
        return Row(result: self, index: 0)
    }

    /// One row; columns are read by 0-based index in the order the SELECT names them.
    struct Row {
        let result: PostgresResult
        let index: Int32

        func isNull(_ column: Int) -> Bool { PQgetisnull(result.handle, index, Int32(column)) != 0 }

        /// The value's bytes (valid while the result lives).
        private func bytes(_ column: Int) -> UnsafeBufferPointer<UInt8> {
            let length = Int(PQgetlength(result.handle, index, Int32(column)))
            guard let value = PQgetvalue(result.handle, index, Int32(column)) else { return UnsafeBufferPointer(start: nil, count: 0) }
            return UnsafeBufferPointer(start: UnsafeRawPointer(value).assumingMemoryBound(to: UInt8.self), count: length)
        }

        func text(_ column: Int) throws -> String {
            guard !isNull(column) else { throw PostgresError.unexpectedResult("NULL in text column \(column)") }
            return String(decoding: bytes(column), as: UTF8.self)
        }

        func optionalText(_ column: Int) -> String? {
            isNull(column) ? nil : String(decoding: bytes(column), as: UTF8.self)
        }

        func integer(_ column: Int) throws -> Int64 {
            guard let value = try optionalInteger(column) else { throw PostgresError.unexpectedResult("NULL in integer column \(column)") }
            return value
        }

        /// Parses the decimal text byte by byte: a restart reads a million orders' numbers.
        func optionalInteger(_ column: Int) throws -> Int64? {
            guard !isNull(column) else { return nil }
            let digits = bytes(column)
            var value: Int64 = 0
            var isNegative = false
            for (offset, byte) in digits.enumerated() {
                if offset == 0, byte == UInt8(ascii: "-") {
                    isNegative = true
                    continue
                }
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else {
                    throw PostgresError.unexpectedResult("not an integer: \(String(decoding: digits, as: UTF8.self))")
                }
                let (times, overflowA) = value.multipliedReportingOverflow(by: 10)
                let (sum, overflowB) = times.addingReportingOverflow(Int64(byte - UInt8(ascii: "0")))
                guard !overflowA, !overflowB else { throw PostgresError.unexpectedResult("integer out of range") }
                value = sum
            }
            guard digits.count > (isNegative ? 1 : 0) else { throw PostgresError.unexpectedResult("empty integer") }
            return isNegative ? -value : value
        }

        func boolean(_ column: Int) throws -> Bool {
            guard let value = optionalBoolean(column) else { throw PostgresError.unexpectedResult("NULL in boolean column \(column)") }
            return value
        }

        func optionalBoolean(_ column: Int) -> Bool? {
            isNull(column) ? nil : bytes(column).first == UInt8(ascii: "t")
        }

        /// A bytea value, which text format sends as `\x` and hex digits.
        func bytea(_ column: Int) throws -> [UInt8] {
            guard !isNull(column) else { throw PostgresError.unexpectedResult("NULL in bytea column \(column)") }
            let text = bytes(column)
            guard text.count >= 2, text[0] == UInt8(ascii: "\\"), text[1] == UInt8(ascii: "x"), text.count % 2 == 0 else {
                throw PostgresError.unexpectedResult("bytea not in hex format")
            }
            func nibble(_ byte: UInt8) throws -> UInt8 {
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
                default: throw PostgresError.unexpectedResult("bytea not in hex format")
                }
            }
            var decoded: [UInt8] = []
            decoded.reserveCapacity(text.count / 2 - 1)
            var position = 2
            while position < text.count {
                decoded.append(try nibble(text[position]) << 4 | nibble(text[position + 1]))
                position += 2
            }
            return decoded
        }
    }
}
