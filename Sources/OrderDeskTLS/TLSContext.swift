import CSSL
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Why TLS could not be set up or a handshake failed, in words for the person who must fix it.
public struct TLSError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable {
        /// A certificate, key or CA file could not be used.
        case setup
        /// The peer's certificate was not trusted or not for the name dialled.
        case verification
        /// The peer did not speak TLS, or the handshake broke off.
        case handshake
    }

    public var kind: Kind
    public var description: String

    public init(_ kind: Kind, _ description: String) {
        self.kind = kind
        self.description = description
    }
}

/// An OpenSSL `SSL_CTX`: the certificate, key and trust settings that every TLS connection of
/// one listener (or one client) shares. TLS 1.2 and 1.3 only, renegotiation off.
///
/// Immutable once made: OpenSSL allows one configured context to be used by connections on
/// any thread. A certificate reload makes a new context; connections keep the one they began with.
public final class TLSContext: @unchecked Sendable {  // immutable after init (see above)
    let pointer: OpaquePointer
    /// True for a server's context.
    public let isServer: Bool

    private init(method: OpaquePointer?, isServer: Bool) throws(TLSError) {
        // libssl's socket BIO writes with write(2), not send(MSG_NOSIGNAL): a peer that is gone
        // would raise SIGPIPE and kill the process. Every process that speaks TLS ignores it and
        // gets EPIPE instead (the server and the clients already ignore it for their own sends).
        signal(SIGPIPE, SIG_IGN)
        guard let context = SSL_CTX_new(method) else { throw TLSError(.setup, "cannot create a TLS context: \(TLSErrors.take())") }
        pointer = context
        self.isServer = isServer
        guard orderdesk_tls_configure(context) == 1 else { throw TLSError(.setup, "cannot require TLS 1.2 or later: \(TLSErrors.take())") }
    }

    deinit { SSL_CTX_free(pointer) }

    /// A server's context from PEM files: `certificate` may hold a chain (leaf first), sent whole.
    /// With `clientCA`, clients must present a certificate that CA signed.
    public static func server(certificate: String, key: String, clientCA: String? = nil) throws(TLSError) -> TLSContext {
        let context = try TLSContext(method: TLS_server_method(), isServer: true)
        try requireReadable(certificate, "certificate")
        try requireReadable(key, "key")
        TLSErrors.clear()
        guard SSL_CTX_use_certificate_chain_file(context.pointer, certificate) == 1 else {
            throw TLSError(.setup, "\(certificate) is not a PEM certificate (chain): \(TLSErrors.take())")
        }
        guard SSL_CTX_use_PrivateKey_file(context.pointer, key, SSL_FILETYPE_PEM) == 1 else {
            throw TLSError(.setup, "\(key) is not a PEM private key: \(TLSErrors.take())")
        }
        guard SSL_CTX_check_private_key(context.pointer) == 1 else {
            throw TLSError(.setup, "the key in \(key) does not belong to the certificate in \(certificate)")
        }
        if let clientCA {
            try requireReadable(clientCA, "client CA")
            guard SSL_CTX_load_verify_locations(context.pointer, clientCA, nil) == 1 else {
                throw TLSError(.setup, "\(clientCA) holds no PEM CA certificate: \(TLSErrors.take())")
            }
            SSL_CTX_set_verify(context.pointer, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nil)
        }
        return context
    }

    /// A client's context: the server's certificate must chain to `ca` (a PEM file), or to the
    /// system's trust store when `ca` is nil. The name is checked per connection (`TLSStream`).
    public static func client(ca: String? = nil) throws(TLSError) -> TLSContext {
        let context = try TLSContext(method: TLS_client_method(), isServer: false)
        TLSErrors.clear()
        if let ca {
            try requireReadable(ca, "CA")
            guard SSL_CTX_load_verify_locations(context.pointer, ca, nil) == 1 else {
                throw TLSError(.setup, "\(ca) holds no PEM CA certificate: \(TLSErrors.take())")
            }
        } else if SSL_CTX_set_default_verify_paths(context.pointer) != 1 {
            throw TLSError(.setup, "cannot load the system's trusted certificates: \(TLSErrors.take())")
        }
        SSL_CTX_set_verify(context.pointer, SSL_VERIFY_PEER, nil)
        return context
    }

    private static func requireReadable(_ path: String, _ what: String) throws(TLSError) {
        guard FileManager.default.isReadableFile(atPath: path) else { throw TLSError(.setup, "cannot read the \(what) file \(path)") }
    }
}

/// OpenSSL's per-thread error queue, read as text.
enum TLSErrors {
    static func clear() { ERR_clear_error() }

    /// The reason of the most recent error (`wrong version number`), and empties the queue.
    static func take() -> String {
        let code = ERR_peek_last_error()
        defer { ERR_clear_error() }
        guard code != 0 else { return "unknown error" }
        if let reason = ERR_reason_error_string(code) { return String(cString: reason) }
        var text = [UInt8](repeating: 0, count: 256)
        text.withUnsafeMutableBufferPointer { $0.withMemoryRebound(to: CChar.self) { ERR_error_string_n(code, $0.baseAddress, $0.count) } }
        return String(decoding: text.prefix { $0 != 0 }, as: UTF8.self)
    }
}
