import Dispatch
import Foundation
import OrderDeskCore
#if canImport(Glibc)
import Glibc
#endif

/// A small HTTP/1.1 endpoint for scrapers and service managers, on its own port and queue:
/// `GET /metrics` (Prometheus text format, version 0.0.4) and `GET /ready` (200 once the desk
/// serves, 503 before and while it shuts down). `HEAD` works too.
///
/// Hostile input is cheap to refuse: one request per connection (`Connection: close`), at most
/// `maximumRequestBytes` of request head (then 431), at most `maximumConnections` at once (more
/// are closed at accept), and every connection closed `timeout` after it was accepted, whether
/// it is slow to send or slow to read. A scrape holds the desk queue only to copy counters
/// (see `PrometheusSnapshot`); the text is written on this listener's queue.
public final class MetricsListener: @unchecked Sendable {  // all mutable state confined to `queue`
    public struct Limits: Sendable {
        public var maximumRequestBytes = 8192
        public var maximumConnections = 32
        public var timeout = Milliseconds(5000)
        public init() {}
    }

    let limits: Limits
    private let host: String
    private let requestedPort: UInt16
    private let queue = DispatchQueue(label: "orderdesk.metrics")
    private var listening: Int32 = -1
    private var acceptSource: DispatchSourceRead?
    private var isAcceptPaused = false
    private var clients: [Int32: HTTPClient] = [:]
    /// The desk whose figures `/metrics` shows; nil until it serves. Read and written on `queue`.
    private var server: DeskServer?
    private var isReady = false

    public init(host: String, port: UInt16, limits: Limits = Limits()) {
        self.host = host
        requestedPort = port
        self.limits = limits
    }

    /// Binds and starts accepting; returns the bound port (useful with port 0).
    public func start() throws -> UInt16 {
        try queue.sync {
            let descriptor = try Self.listeningSocket(host: host, port: requestedPort)
            listening = descriptor
            let source = DispatchSource.makeReadSource(fileDescriptor: descriptor, queue: queue)
            source.setEventHandler { [weak self] in self?.acceptAll() }
            source.setCancelHandler { Glibc.close(descriptor) }
            acceptSource = source
            source.resume()
            return try Self.boundPort(of: descriptor)
        }
    }

    /// The desk serves: `/metrics` shows it and `/ready` answers 200.
    public func ready(serving server: DeskServer) {
        queue.async { [self] in
            self.server = server
            isReady = true
        }
    }

    /// The desk is shutting down: `/ready` answers 503 again.
    public func notReady() { queue.async { [self] in isReady = false } }

    /// Stops accepting and closes every connection.
    public func stop() {
        queue.sync {
            if isAcceptPaused { acceptSource?.resume(); isAcceptPaused = false }  // never release a suspended source
            acceptSource?.cancel()
            acceptSource = nil
            for client in clients.values { client.close() }
            clients = [:]
        }
    }

    // MARK: Connections

    private func acceptAll() {
        dispatchPrecondition(condition: .onQueue(queue))
        while true {
            let descriptor = accept(listening, nil, nil)
            if descriptor < 0 {
                if errno == EMFILE || errno == ENFILE, !isAcceptPaused, let source = acceptSource {
                    // Out of descriptors: a level-triggered source would spin; look again shortly.
                    source.suspend()
                    isAcceptPaused = true
                    queue.asyncAfter(deadline: .now() + .milliseconds(100)) { [weak self] in
                        guard let self, self.isAcceptPaused else { return }
                        self.isAcceptPaused = false
                        self.acceptSource?.resume()
                    }
                }
                return
            }
            guard clients.count < limits.maximumConnections else {
                Glibc.close(descriptor)
                continue
            }
            _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
            _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
            let client = HTTPClient(descriptor: descriptor, queue: queue, maximumRequestBytes: limits.maximumRequestBytes,
                                    onRequest: { [weak self] client, request in self?.answer(request, on: client) },
                                    onClose: { [weak self] client in self?.clients[client.descriptor] = nil })
            clients[descriptor] = client
            client.start()
            queue.asyncAfter(deadline: .now() + .milliseconds(Int(limits.timeout.value))) { client.close() }
        }
    }

    private func answer(_ request: HTTPRequest, on client: HTTPClient) {
        dispatchPrecondition(condition: .onQueue(queue))
        let isHead = request.method == "HEAD"
        guard request.method == "GET" || isHead else {
            return client.respond(status: "405 Method Not Allowed", body: "only GET and HEAD\n", extraHeaders: ["Allow: GET, HEAD"], isHead: isHead)
        }
        switch request.path {
        case "/ready":
            if isReady {
                client.respond(status: "200 OK", body: "ready\n", isHead: isHead)
            } else {
                client.respond(status: "503 Service Unavailable", body: "not ready\n", isHead: isHead)
            }
        case "/metrics":
            guard isReady, let server else { return client.respond(status: "503 Service Unavailable", body: "not ready\n", isHead: isHead) }
            let queue = self.queue
            server.prometheusSnapshot { snapshot in
                queue.async {
                    client.respond(status: "200 OK", body: snapshot.render(), contentType: "text/plain; version=0.0.4; charset=utf-8", isHead: isHead)
                }
            }
        case "/":
            client.respond(status: "200 OK", body: "orderdesk: /metrics (Prometheus), /ready\n", isHead: isHead)
        default:
            client.respond(status: "404 Not Found", body: "not found; try /metrics or /ready\n", isHead: isHead)
        }
    }

    // MARK: Sockets

    private static func listeningSocket(host: String, port: UInt16) throws -> Int32 {
        var hints = addrinfo()
        hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var found: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &found)
        guard status == 0, let address = found else {
            throw MetricsListenerError("--metrics-listen: \(host) is not a numeric address (\(String(cString: gai_strerror(status))))")
        }
        defer { freeaddrinfo(found) }
        let descriptor = socket(address.pointee.ai_family, Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw MetricsListenerError("metrics socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        guard bind(descriptor, address.pointee.ai_addr, address.pointee.ai_addrlen) == 0, listen(descriptor, 64) == 0 else {
            let reason = String(cString: strerror(errno))
            Glibc.close(descriptor)
            throw MetricsListenerError("cannot listen for metrics on \(host):\(port): \(reason)")
        }
        return descriptor
    }

    private static func boundPort(of descriptor: Int32) throws -> UInt16 {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let status = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard status == 0 else { throw MetricsListenerError("getsockname: \(String(cString: strerror(errno)))") }
        let family = Int32(storage.ss_family)
        return withUnsafePointer(to: &storage) { pointer in
            if family == AF_INET6 {
                return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin6_port) }
            }
            return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin_port) }
        }
    }

    /// `HOST:PORT` or `[IPv6]:PORT`, as `--metrics-listen` takes it.
    public static func parseAddress(_ text: String) -> (host: String, port: UInt16)? {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":"), !text[..<colon].contains(":") else { return nil }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard !host.isEmpty, let port = UInt16(portText) else { return nil }
        return (String(host), port)
    }
}

/// Why the metrics endpoint could not start.
public struct MetricsListenerError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
