import Dispatch
import OrderDeskTLS
import OrderDeskWire
#if canImport(Glibc)
import Glibc
#endif

/// One TCP connection to the server: lines out, framed lines in, on a serial queue.
///
/// The socket is non-blocking. Reads come from a read source on `queue`; writes go straight
/// to `send`, and only when the kernel buffer is full is the rest kept for a write source.
/// `onClose` is called once, on `queue`, whoever closed the connection. With TLS, the handshake
/// (and the check of the server's certificate) is done before the connection is handed over;
/// after it, reads and writes go through the TLS session on the same sources.
final class Connection: @unchecked Sendable {  // state confined to `queue`
    /// How to speak TLS: trust `caFile` (PEM), or the system's trust store when nil.
    struct TLSOptions: Sendable {
        var caFile: String?
    }

    private let descriptor: Int32
    private let queue: DispatchQueue
    private var stream: TLSStream?
    private var framer = LineFramer(maximumLineLength: 1 << 20)
    private var readSource: DispatchSourceRead?
    private var writeSource: DispatchSourceWrite?
    private var unsent: [UInt8] = []
    private var isClosed = false
    /// Called for each line from the server, on `queue`.
    var onLine: (String) -> Void = { _ in }
    /// Called once when the connection is gone, with a reason for people.
    var onClose: (String) -> Void = { _ in }

    private init(descriptor: Int32, queue: DispatchQueue) {
        self.descriptor = descriptor
        self.queue = queue
    }

    /// Connects off `queue` (a slow or silent host never stalls the screen), then calls
    /// `completion` on `queue` with the connection, started, or a reason it failed.
    static func open(host: String, port: UInt16, tls: TLSOptions? = nil, timeoutSeconds: Int32 = 5, queue: DispatchQueue,
                     completion: @escaping @Sendable (Result<Connection, ConnectFailure>) -> Void) {
        DispatchQueue.global().async {
            let result = Result { () throws(ConnectFailure) -> (Int32, TLSStream?) in
                try connectAndHandshake(host: host, port: port, tls: tls, timeoutSeconds: timeoutSeconds)
            }
            let handed = UncheckedBox(result)
            queue.async {
                completion(handed.value.map { descriptor, stream in
                    let connection = Connection(descriptor: descriptor, queue: queue)
                    connection.stream = stream
                    connection.startReading()
                    return connection
                })
            }
        }
    }

    /// The socket, connected, and with `tls` its session after the handshake.
    private static func connectAndHandshake(host: String, port: UInt16, tls: TLSOptions?,
                                            timeoutSeconds: Int32) throws(ConnectFailure) -> (Int32, TLSStream?) {
        let descriptor = try connectSocket(host: host, port: port, timeoutSeconds: timeoutSeconds)
        guard let tls else { return (descriptor, nil) }
        do {
            let stream = try TLSStream(connecting: descriptor, host: host, context: TLSContext.client(ca: tls.caFile))
            try stream.handshake(descriptor: descriptor, timeoutMilliseconds: timeoutSeconds * 1000)
            return (descriptor, stream)
        } catch {
            Glibc.close(descriptor)
            throw ConnectFailure(description: error.description, isCertificateRefused: error.kind == .verification)
        }
    }

    /// Sends one line (a line end is added).
    func send(_ line: String) {
        dispatchPrecondition(condition: .onQueue(queue))
        guard !isClosed else { return }
        unsent.append(contentsOf: Array((line + "\n").utf8))
        flush()
    }

    /// Closes without waiting for unsent bytes; `onClose` gets `reason`.
    func close(reason: String) {
        dispatchPrecondition(condition: .onQueue(queue))
        guard !isClosed else { return }
        isClosed = true
        writeSource?.cancel()
        writeSource = nil
        if let readSource {
            readSource.cancel()  // The cancel handler closes the descriptor.
        } else {
            Glibc.close(descriptor)
        }
        readSource = nil
        let callback = onClose
        onClose = { _ in }
        callback(reason)
    }

    private func startReading() {
        dispatchPrecondition(condition: .onQueue(queue))
        let source = DispatchSource.makeReadSource(fileDescriptor: descriptor, queue: queue)
        let descriptor = self.descriptor
        source.setEventHandler { [weak self] in self?.readAvailable() }
        source.setCancelHandler { Glibc.close(descriptor) }
        readSource = source
        source.resume()
    }

    private func readAvailable() {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        if let stream {
            readTLS(stream, into: &buffer)
            return
        }
        let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
        if count == 0 {
            close(reason: "the server closed the connection")
            return
        }
        if count < 0 {
            if errno == EAGAIN || errno == EINTR { return }
            close(reason: String(cString: strerror(errno)))
            return
        }
        for frame in framer.append(buffer[..<count]) {
            guard !isClosed else { return }
            if case .line(let text) = frame { onLine(text) }
        }
    }

    /// Reads everything the TLS session has now: bytes inside it would not wake the source again.
    private func readTLS(_ stream: TLSStream, into buffer: inout [UInt8]) {
        repeat {
            let outcome = buffer.withUnsafeMutableBytes { stream.read(into: $0) }
            switch outcome {
            case .done(let count):
                for frame in framer.append(buffer[..<count]) {
                    guard !isClosed else { return }
                    if case .line(let text) = frame { onLine(text) }
                }
            case .wantRead:
                if !unsent.isEmpty { flush() }
                return
            case .wantWrite:
                waitUntilWritable()
                return
            case .closed, .failed:
                closeForTLS(outcome)
                return
            }
        } while !isClosed && stream.hasBufferedInput
        if !isClosed, !unsent.isEmpty { flush() }
    }

    /// Closes for a TLS read or write that found the session over.
    private func closeForTLS(_ outcome: TLSStream.Outcome) {
        if case .failed(let why) = outcome {
            close(reason: "TLS: \(why)")
        } else {
            close(reason: "the server closed the connection")
        }
    }

    private func flush() {
        if let stream {
            while !unsent.isEmpty {
                let outcome = unsent.withUnsafeBytes { stream.write($0) }
                switch outcome {
                case .done(let sent): unsent.removeFirst(sent)
                case .wantWrite:
                    waitUntilWritable()
                    return
                case .wantRead: return  // the next read retries
                case .closed, .failed:
                    closeForTLS(outcome)
                    return
                }
            }
            writeSource?.cancel()
            writeSource = nil
            return
        }
        while !unsent.isEmpty {
            let sent = unsent.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent > 0 {
                unsent.removeFirst(sent)
                continue
            }
            if sent < 0 && (errno == EAGAIN || errno == EINTR) {
                waitUntilWritable()
                return
            }
            close(reason: sent < 0 ? String(cString: strerror(errno)) : "the connection is closed")
            return
        }
        writeSource?.cancel()
        writeSource = nil
    }

    private func waitUntilWritable() {
        guard writeSource == nil else { return }
        let source = DispatchSource.makeWriteSource(fileDescriptor: descriptor, queue: queue)
        source.setEventHandler { [weak self] in
            guard let self else { return }
            self.flush()
            // A TLS read that wanted to write is retried too.
            if self.stream != nil, !self.isClosed {
                self.readAvailable()
                if self.unsent.isEmpty, let source = self.writeSource {
                    self.writeSource = nil
                    source.cancel()
                }
            }
        }
        writeSource = source
        source.resume()
    }
}

/// Why a connection could not be opened.
struct ConnectFailure: Error, CustomStringConvertible {
    var description: String
    /// The server's TLS certificate was refused: retrying will not help.
    var isCertificateRefused = false
}

/// Hands a value that is used by one queue at a time to another queue.
private struct UncheckedBox<Value>: @unchecked Sendable {  // the sender never touches the value again
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// Resolves `host`, connects with a deadline, and returns a non-blocking socket.
private func connectSocket(host: String, port: UInt16, timeoutSeconds: Int32) throws(ConnectFailure) -> Int32 {
    var hints = addrinfo()
    hints.ai_family = AF_UNSPEC
    hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
    hints.ai_flags = AI_NUMERICSERV
    var list: UnsafeMutablePointer<addrinfo>?
    let status = getaddrinfo(host, String(port), &hints, &list)
    guard status == 0, let first = list else {
        throw ConnectFailure(description: "cannot resolve \(host): \(String(cString: gai_strerror(status)))")
    }
    defer { freeaddrinfo(list) }
    var lastError = "no address for \(host)"
    var entry: UnsafeMutablePointer<addrinfo>? = first
    while let info = entry?.pointee {
        entry = info.ai_next
        let descriptor = socket(info.ai_family, Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else {
            lastError = String(cString: strerror(errno))
            continue
        }
        if Glibc.connect(descriptor, info.ai_addr, info.ai_addrlen) == 0 || errno == EINPROGRESS {
            var poller = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
            let ready = poll(&poller, 1, timeoutSeconds * 1000)
            var code: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &code, &length)
            if ready == 1 && code == 0 {
                var yes: Int32 = 1
                setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &yes, socklen_t(MemoryLayout<Int32>.size))
                return descriptor
            }
            lastError = ready == 0 ? "timed out after \(timeoutSeconds)s" : String(cString: strerror(code == 0 ? errno : code))
        } else {
            lastError = String(cString: strerror(errno))
        }
        Glibc.close(descriptor)
    }
    throw ConnectFailure(description: lastError)
}
