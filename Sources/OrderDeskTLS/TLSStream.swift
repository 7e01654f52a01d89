import CSSL
#if canImport(Glibc)
import Glibc
#endif

/// One TLS session over a non-blocking socket: the handshake, then reads and writes of plain
/// bytes. Every call returns at once; `wantRead` and `wantWrite` say which readiness of the
/// socket to wait for before calling again (as OpenSSL's SSL_ERROR_WANT_* do).
///
/// Not thread-safe: one queue (or thread) uses a stream at a time. The socket stays the
/// caller's to close; the stream never closes it.
public final class TLSStream: @unchecked Sendable {  // confined to its owner's queue (see above)
    /// What one call did.
    public enum Outcome: Equatable, Sendable {
        /// Done; for a read or a write, this many bytes.
        case done(Int)
        /// Call again once the socket is readable.
        case wantRead
        /// Call again once the socket is writable.
        case wantWrite
        /// The peer ended the session (close_notify or end of stream).
        case closed
        /// The session is broken; the text says why.
        case failed(String)
    }

    private let ssl: OpaquePointer
    private let context: TLSContext  // kept alive for the session's lifetime
    public private(set) var isHandshakeComplete = false
    private var hasSentShutdown = false

    /// A server side session on `descriptor` (an accepted socket).
    public init(accepting descriptor: Int32, context: TLSContext) throws(TLSError) {
        guard let ssl = SSL_new(context.pointer) else { throw TLSError(.setup, "cannot start a TLS session: \(TLSErrors.take())") }
        self.ssl = ssl
        self.context = context
        SSL_set_fd(ssl, descriptor)
        SSL_set_accept_state(ssl)
    }

    /// A client side session on `descriptor` (a connected socket) that verifies the server's
    /// certificate against `context`'s trust and against `host`, a DNS name or an IP address.
    public init(connecting descriptor: Int32, host: String, context: TLSContext) throws(TLSError) {
        guard let ssl = SSL_new(context.pointer) else { throw TLSError(.setup, "cannot start a TLS session: \(TLSErrors.take())") }
        self.ssl = ssl
        self.context = context
        SSL_set_fd(ssl, descriptor)
        SSL_set_connect_state(ssl)
        if Self.isIPAddress(host) {
            guard X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host) == 1 else { throw TLSError(.setup, "cannot check the address \(host)") }
        } else {
            _ = orderdesk_tls_set_server_name(ssl, host)
            guard SSL_set1_host(ssl, host) == 1 else { throw TLSError(.setup, "cannot check the name \(host)") }
        }
    }

    deinit { SSL_free(ssl) }

    static func isIPAddress(_ host: String) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 16)
        return inet_pton(AF_INET, host, &buffer) == 1 || inet_pton(AF_INET6, host, &buffer) == 1
    }

    /// Runs the handshake as far as the socket allows.
    public func handshake() -> Outcome {
        guard !isHandshakeComplete else { return .done(0) }
        TLSErrors.clear()
        let result = SSL_do_handshake(ssl)
        if result == 1 {
            isHandshakeComplete = true
            return .done(0)
        }
        return outcome(of: result)
    }

    /// Reads decrypted bytes into `buffer`.
    public func read(into buffer: UnsafeMutableRawBufferPointer) -> Outcome {
        TLSErrors.clear()
        let result = SSL_read(ssl, buffer.baseAddress, Int32(clamping: buffer.count))
        return result > 0 ? .done(Int(result)) : outcome(of: result)
    }

    /// Encrypts and sends up to `bytes.count` bytes. After `wantRead` or `wantWrite`, call again
    /// with at least the same bytes.
    public func write(_ bytes: UnsafeRawBufferPointer) -> Outcome {
        guard !bytes.isEmpty else { return .done(0) }
        TLSErrors.clear()
        let result = SSL_write(ssl, bytes.baseAddress, Int32(clamping: bytes.count))
        return result > 0 ? .done(Int(result)) : outcome(of: result)
    }

    /// Decrypted bytes, or bytes of a record, held inside the session: the socket may not be
    /// readable again for them, so read until this is false.
    public var hasBufferedInput: Bool { SSL_has_pending(ssl) == 1 }

    /// Sends close_notify once, if the session got that far; never waits for the peer's.
    public func shutdown() {
        guard isHandshakeComplete, !hasSentShutdown else { return }
        hasSentShutdown = true
        TLSErrors.clear()
        _ = SSL_shutdown(ssl)
        TLSErrors.clear()
    }

    /// The protocol agreed on (`TLSv1.3`), once the handshake is done.
    public var protocolVersion: String { String(cString: SSL_get_version(ssl)) }

    /// Why the peer's certificate was refused, when it was.
    public var verificationFailure: String? {
        let result = SSL_get_verify_result(ssl)
        guard result != X509_V_OK else { return nil }
        return String(cString: X509_verify_cert_error_string(result))
    }

    private func outcome(of result: Int32) -> Outcome {
        let code = SSL_get_error(ssl, result)
        switch code {
        case SSL_ERROR_WANT_READ: return .wantRead
        case SSL_ERROR_WANT_WRITE: return .wantWrite
        case SSL_ERROR_ZERO_RETURN: return .closed
        case SSL_ERROR_SYSCALL:
            let number = errno
            if ERR_peek_error() == 0 && (number == 0 || number == ECONNRESET) { return .closed }
            return .failed(number == 0 ? TLSErrors.take() : String(cString: strerror(number)))
        default:
            if !context.isServer, let failure = verificationFailure { return .failed("certificate verify failed: \(failure)") }
            return .failed(TLSErrors.take())
        }
    }
}

extension TLSStream {
    /// Runs the handshake to the end on a non-blocking socket, waiting with poll, for clients
    /// that connect before they start their sources. Throws `.verification` when the server's
    /// certificate is refused.
    public func handshake(descriptor: Int32, timeoutMilliseconds: Int32) throws(TLSError) {
        var remaining = timeoutMilliseconds
        while true {
            var events: Int16
            switch handshake() {
            case .done: return
            case .wantRead: events = Int16(POLLIN)
            case .wantWrite: events = Int16(POLLOUT)
            case .closed: throw TLSError(.handshake, "the server closed the connection during the TLS handshake (is this its TLS port?)")
            case .failed(let why):
                if let failure = verificationFailure { throw TLSError(.verification, "the server's certificate was refused: \(failure)") }
                throw TLSError(.handshake, "TLS handshake failed: \(why)")
            }
            var poller = pollfd(fd: descriptor, events: events, revents: 0)
            let started = monotonicMilliseconds()
            let ready = poll(&poller, 1, remaining)
            if ready == 0 { throw TLSError(.handshake, "the TLS handshake timed out") }
            if ready < 0 && errno != EINTR { throw TLSError(.handshake, String(cString: strerror(errno))) }
            remaining -= Int32(clamping: monotonicMilliseconds() - started)
            if remaining <= 0 { throw TLSError(.handshake, "the TLS handshake timed out") }
        }
    }

    private func monotonicMilliseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }
}
