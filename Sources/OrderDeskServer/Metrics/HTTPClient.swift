import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The head of an HTTP request, as much as the metrics endpoint reads: method and path.
struct HTTPRequest: Sendable, Equatable {
    var method: String
    /// The target without its query.
    var path: String

    /// The request in `head` (the bytes before the blank line), or the status to refuse it with.
    static func parse(_ head: ArraySlice<UInt8>) -> Result<HTTPRequest, HTTPRefusal> {
        guard let lineEnd = head.firstIndex(of: UInt8(ascii: "\n")) ?? Optional(head.endIndex) else { return .failure(.badRequest) }
        var line = head[head.startIndex..<lineEnd]
        if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
        let parts = line.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0 > 0x20 && $0 < 0x7F } }) else { return .failure(.badRequest) }
        let version = String(decoding: parts[2], as: UTF8.self)
        guard version == "HTTP/1.1" || version == "HTTP/1.0" else { return .failure(.badVersion) }
        let target = String(decoding: parts[1], as: UTF8.self)
        guard target.hasPrefix("/") else { return .failure(.badRequest) }
        let path = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? target
        return .success(HTTPRequest(method: String(decoding: parts[0], as: UTF8.self), path: path))
    }
}

/// A request refused before it is understood.
enum HTTPRefusal: Error {
    case badRequest, badVersion, tooLarge

    var status: String {
        switch self {
        case .badRequest: "400 Bad Request"
        case .badVersion: "505 HTTP Version Not Supported"
        case .tooLarge: "431 Request Header Fields Too Large"
        }
    }
}

/// One connection to the metrics endpoint: reads one request head, writes one response, closes.
final class HTTPClient: @unchecked Sendable {  // confined to `queue` (the listener's)
    let descriptor: Int32
    private let queue: DispatchQueue
    private let maximumRequestBytes: Int
    private let onRequest: (HTTPClient, HTTPRequest) -> Void
    private let onClose: (HTTPClient) -> Void
    private var input: [UInt8] = []
    private var output: [UInt8] = []
    private var sent = 0
    private var hasRequest = false
    /// The response is out and the sending side shut: what the peer still sends is read and
    /// dropped until it closes (closing with unread input would reset the connection and could
    /// destroy the response before the peer read it), or the listener's timeout closes it.
    private var isDraining = false
    private(set) var isClosed = false
    private var readSource: DispatchSourceRead?
    private var writeSource: DispatchSourceWrite?
    /// Sources not yet cancelled; the descriptor is closed when the last one's cancel handler runs.
    private var openSources = 0

    init(descriptor: Int32, queue: DispatchQueue, maximumRequestBytes: Int,
         onRequest: @escaping (HTTPClient, HTTPRequest) -> Void, onClose: @escaping (HTTPClient) -> Void) {
        self.descriptor = descriptor
        self.queue = queue
        self.maximumRequestBytes = maximumRequestBytes
        self.onRequest = onRequest
        self.onClose = onClose
    }

    func start() {
        let source = DispatchSource.makeReadSource(fileDescriptor: descriptor, queue: queue)
        source.setEventHandler { [weak self] in self?.readAvailable() }
        // Strong: the descriptor must be closed even after the listener let go of this client.
        source.setCancelHandler { self.sourceCancelled() }
        readSource = source
        openSources += 1
        source.resume()
    }

    private func readAvailable() {
        dispatchPrecondition(condition: .onQueue(queue))
        var chunk = [UInt8](repeating: 0, count: 4096)
        let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
        if count == 0 {
            // The peer finished sending (`nc -N`, a half-close): answer what it asked, then close.
            guard hasRequest, !isDraining else { return close() }
            readSource?.cancel()
            readSource = nil
            return
        }
        if count < 0 {
            if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { return }
            return close()
        }
        guard !hasRequest else { return }  // whatever follows the head is read and dropped
        input.append(contentsOf: chunk[..<count])
        if let end = Self.headEnd(in: input) {
            hasRequest = true
            switch HTTPRequest.parse(input[..<end]) {
            case .success(let request): onRequest(self, request)
            case .failure(let refusal): respond(status: refusal.status, body: "bad request\n", isHead: false)
            }
            input = []
        } else if input.count > maximumRequestBytes {
            hasRequest = true
            input = []
            respond(status: HTTPRefusal.tooLarge.status, body: "request head over \(maximumRequestBytes) bytes\n", isHead: false)
        }
    }

    /// Where the head ends (the index of the blank line's start), if it has.
    static func headEnd(in bytes: [UInt8]) -> Int? {
        var index = 0
        while let newline = bytes[index...].firstIndex(of: UInt8(ascii: "\n")) {
            let next = newline + 1
            if next < bytes.count, bytes[next] == UInt8(ascii: "\n") { return newline }
            if next + 1 < bytes.count, bytes[next] == UInt8(ascii: "\r"), bytes[next + 1] == UInt8(ascii: "\n") { return newline }
            index = next
        }
        return nil
    }

    /// Writes the response and closes once it is sent.
    func respond(status: String, body: String, contentType: String = "text/plain; charset=utf-8", extraHeaders: [String] = [], isHead: Bool) {
        dispatchPrecondition(condition: .onQueue(queue))
        guard !isClosed, output.isEmpty else { return }
        hasRequest = true
        let bodyBytes = Array(body.utf8)
        var head = "HTTP/1.1 \(status)\r\nContent-Type: \(contentType)\r\nContent-Length: \(bodyBytes.count)\r\nConnection: close\r\n"
        for header in extraHeaders { head += header + "\r\n" }
        head += "\r\n"
        output = Array(head.utf8) + (isHead ? [] : bodyBytes)
        flush()
    }

    private func flush() {
        while sent < output.count {
            let count = output[sent...].withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if count < 0 {
                if errno == EAGAIN || errno == EWOULDBLOCK {
                    if writeSource == nil {
                        let source = DispatchSource.makeWriteSource(fileDescriptor: descriptor, queue: queue)
                        source.setEventHandler { [weak self] in self?.flush() }
                        source.setCancelHandler { self.sourceCancelled() }
                        writeSource = source
                        openSources += 1
                        source.resume()
                    }
                    return
                }
                if errno == EINTR { continue }
                return close()
            }
            sent += count
        }
        shutdown(descriptor, Int32(SHUT_WR))
        writeSource?.cancel()
        writeSource = nil
        if readSource == nil { return close() }
        isDraining = true
    }

    func close() {
        dispatchPrecondition(condition: .onQueue(queue))
        guard !isClosed else { return }
        isClosed = true
        readSource?.cancel()
        writeSource?.cancel()
        readSource = nil
        writeSource = nil
        if openSources == 0 { Glibc.close(descriptor) }
        onClose(self)
    }

    /// The descriptor is closed once the client is closed and no source is left on it.
    private func sourceCancelled() {
        openSources -= 1
        if openSources == 0, isClosed { Glibc.close(descriptor) }
    }
}
