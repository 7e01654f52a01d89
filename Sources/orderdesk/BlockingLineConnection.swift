import Foundation
import OrderDeskTLS
import OrderDeskWire
#if canImport(Glibc)
import Glibc
#endif

/// A blocking protocol connection for the command line's one-shot requests, in clear text or
/// over TLS (the server's certificate verified against `tls` and the host dialled).
final class BlockingLineConnection {
    private let descriptor: Int32
    private var buffer: [UInt8] = []
    private var stream: TLSStream?

    init(host: String, port: UInt16, tls: TLSContext? = nil) throws {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let info = list?.pointee else {
            throw UsageError("cannot resolve \(host)")
        }
        defer { freeaddrinfo(list) }
        descriptor = socket(info.ai_family, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0, connect(descriptor, info.ai_addr, info.ai_addrlen) == 0 else {
            throw UsageError("cannot connect to \(host):\(port): \(String(cString: strerror(errno)))")
        }
        if let tls {
            let stream = try TLSStream(connecting: descriptor, host: host, context: tls)
            try stream.handshake(descriptor: descriptor, timeoutMilliseconds: 10_000)
            self.stream = stream
        }
    }

    deinit { close(descriptor) }

    func readLine() throws -> String {
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeSubrange(...newline)
                return line
            }
            var chunk = [UInt8](repeating: 0, count: 65_536)
            var count = 0
            if let stream {
                if case .done(let read) = chunk.withUnsafeMutableBytes({ stream.read(into: $0) }) { count = read }
            } else {
                count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            }
            guard count > 0 else { throw UsageError("the desk closed the connection") }
            buffer.append(contentsOf: chunk[..<count])
        }
    }

    /// Sends one command and returns its reply's lines (pushes are skipped).
    func request(_ line: String) throws -> [String] {
        let bytes = Array((line + "\n").utf8)
        let sent: Int
        if let stream {
            if case .done(let written) = bytes.withUnsafeBytes({ stream.write($0) }) { sent = written } else { sent = -1 }
        } else {
            sent = bytes.withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        }
        guard sent == bytes.count else { throw UsageError("cannot send to the desk") }
        var reply: [String] = []
        while true {
            let received = try readLine()
            let kind = ServerLine(received)
            if case .event = kind { continue }
            reply.append(received)
            if kind.endsReply { return reply }
        }
    }
}
