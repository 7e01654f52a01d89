import CCrypto
import OrderDeskCore

/// Salted slow password hashes: PBKDF2-HMAC-SHA256 from libcrypto, compared in constant time.
///
/// Hashing takes about 175 ms at the default 600,000 iterations on these machines: callers run it
/// off the desk queue.
public enum Passwords {
    /// OWASP's current recommendation for PBKDF2-HMAC-SHA256.
    public static let defaultIterations = 600_000

    /// Why a credential could not be made.
    public enum Failure: Error, CustomStringConvertible {
        /// libcrypto had no secure randomness for the salt.
        case noRandomness
        /// PBKDF2 itself failed.
        case hashFailed

        public var description: String {
            switch self {
            case .noRandomness: "no secure randomness available for a salt"
            case .hashFailed: "the password could not be hashed"
            }
        }
    }

    /// A new credential for `password` with a fresh random salt. Throws rather than store a
    /// credential that could never verify.
    public static func credential(for password: String, iterations: Int = defaultIterations) throws -> Credential {
        var salt = [UInt8](repeating: 0, count: 16)
        let status = salt.withUnsafeMutableBytes { RAND_bytes($0.baseAddress?.assumingMemoryBound(to: UInt8.self), 16) }
        guard status == 1 else { throw Failure.noRandomness }
        let hash = derive(password, salt: salt, iterations: iterations)
        guard hash.count == 32 else { throw Failure.hashFailed }
        return Credential(salt: salt, hash: hash, iterations: iterations)
    }

    /// True when `password` matches `credential`. Takes the same time for a near miss as for a far one.
    public static func verify(_ password: String, against credential: Credential) -> Bool {
        let candidate = derive(password, salt: credential.salt, iterations: credential.iterations)
        guard candidate.count == credential.hash.count, !candidate.isEmpty else { return false }
        return candidate.withUnsafeBytes { a in
            credential.hash.withUnsafeBytes { b in CRYPTO_memcmp(a.baseAddress, b.baseAddress, a.count) == 0 }
        }
    }

    /// The derived key, or empty when the inputs are outside what PBKDF2 takes (a credential read
    /// from a damaged file or log with iterations past `Int32.max`, say): such a credential never
    /// verifies, instead of trapping.
    static func derive(_ password: String, salt: [UInt8], iterations: Int) -> [UInt8] {
        guard let rounds = Int32(exactly: iterations), rounds > 0, let saltLength = Int32(exactly: salt.count),
              let length = Int32(exactly: password.utf8.count) else { return [] }
        var output = [UInt8](repeating: 0, count: 32)
        let status = password.withCString { passwordPointer in
            salt.withUnsafeBufferPointer { saltBuffer in
                output.withUnsafeMutableBufferPointer { outputBuffer in
                    PKCS5_PBKDF2_HMAC(passwordPointer, length, saltBuffer.baseAddress, saltLength,
                                      rounds, EVP_sha256(), 32, outputBuffer.baseAddress)
                }
            }
        }
        return status == 1 ? output : []
    }
}
