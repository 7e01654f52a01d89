import Foundation
import OrderDeskTLS
import OrderDeskWire
#if canImport(Glibc)
import Glibc
#endif

/// A blocking protocol client for tests: raw lines over TCP, every read bounded by a deadline.
///
/// Replies and pushes arrive on the same connection; `command` returns a reply's lines and keeps
/// any `EVENT` lines it meets in `events`, where `waitForEvent` finds them.
public final class LineClient: @unchecked Sendable {  // used by one thread at a time; tests hand a client to one worker
    public let descriptor: Int32
    /// The greeting line.
    public private(set) var greeting = ""
    /// Pushes received and not yet taken by `waitForEvent`.
    public private(set) var events: [String] = []
    private var buffer: [UInt8] = []
    /// The TLS session, for a client of the TLS port.
    public private(set) var tls: TLSStream?

    /// Why a test client call failed.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Connects to 127.0.0.1:`port` and reads the greeting. With `from`, the connection comes
    /// from that loopback address (127.0.0.2, ...), as another machine's would. With `tls`, it
    /// runs the handshake first and checks the server's certificate against `tls` and `host`
    /// (the name the client believes it dialled); a refused certificate throws `TLSError`.
    public init(port: UInt16, from source: String? = nil, readGreeting: Bool = true, tls: TLSContext? = nil, host: String = "localhost") throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        if let source {
            var local = sockaddr_in()
            local.sin_family = sa_family_t(AF_INET)
            local.sin_addr.s_addr = inet_addr(source)
            let bound = withUnsafePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard bound == 0 else {
                close(descriptor)
                throw Failure(description: "bind to \(source): \(String(cString: strerror(errno)))")
            }
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard status == 0 else {
            close(descriptor)
            throw Failure(description: "connect to port \(port): \(String(cString: strerror(errno)))")
        }
        var yes: Int32 = 1
        setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &yes, socklen_t(MemoryLayout<Int32>.size))
        if let tls {
            do {
                let stream = try TLSStream(connecting: descriptor, host: host, context: tls)
                try stream.handshake(descriptor: descriptor, timeoutMilliseconds: 10_000)
                self.tls = stream
            } catch {
                close(descriptor)
                throw error
            }
        }
        if readGreeting { greeting = try readLine() }
    }

    deinit { close(descriptor) }

    /// Closes the sending side only (as `nc -N` does at the end of its input; over TLS after a
    /// close_notify); replies still arrive.
    public func closeSending() {
        tls?.shutdown()
        shutdown(descriptor, Int32(SHUT_WR))
    }

    public func send(_ line: String) throws {
        try sendRaw(Array((line + "\n").utf8))
    }

    public func sendRaw(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            if let tls {
                guard case .done(let sent) = bytes.withUnsafeBytes({ tls.write(UnsafeRawBufferPointer(rebasing: $0[offset...])) }) else {
                    throw Failure(description: "TLS write failed")
                }
                offset += sent
                continue
            }
            let sent = bytes.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { throw Failure(description: "send failed: \(String(cString: strerror(errno)))") }
            offset += sent
        }
    }

    /// Reads one line (without its LF), waiting at most `timeout` seconds.
    public func readLine(timeout: Double = 5) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeSubrange(...newline)
                return line
            }
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else { throw Failure(description: "no line within \(timeout)s; buffered: \(String(decoding: buffer, as: UTF8.self))") }
            if tls?.hasBufferedInput != true {
                var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
                let ready = poll(&poller, 1, Int32(max(1, remaining * 1000)))
                if ready <= 0 { continue }
            }
            var chunk = [UInt8](repeating: 0, count: 65_536)
            let count: Int
            if let tls {
                switch chunk.withUnsafeMutableBytes({ tls.read(into: $0) }) {
                case .done(let read): count = read
                case .wantRead, .wantWrite: continue
                case .closed: count = 0
                case .failed(let why): throw Failure(description: "connection reset: TLS: \(why)")
                }
            } else {
                count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            }
            if count == 0 { throw Failure(description: "connection closed by the server") }
            if count < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw Failure(description: "recv: \(String(cString: strerror(errno)))")
            }
            buffer.append(contentsOf: chunk[..<count])
        }
    }

    /// Sends `line` and returns the reply's lines, the final `OK`/`ERR` line last.
    @discardableResult
    public func command(_ line: String, timeout: Double = 10) throws -> [String] {
        try send(line)
        return try readReply(timeout: timeout)
    }

    /// Reads one reply; pushes met on the way go to `events`.
    public func readReply(timeout: Double = 10) throws -> [String] {
        var lines: [String] = []
        while true {
            let line = try readLine(timeout: timeout)
            switch ServerLine(line) {
            case .event: events.append(line)
            case .ok, .error:
                lines.append(line)
                return lines
            default: lines.append(line)
            }
        }
    }

    /// Sends `line` and returns only the final line, failing the test's expectation text if it is not OK.
    @discardableResult
    public func ok(_ line: String) throws -> String {
        let reply = try command(line)
        guard let last = reply.last, last.hasPrefix("OK") else { throw Failure(description: "\(line) -> \(reply.joined(separator: " | "))") }
        return last
    }

    /// Waits for a push whose line satisfies `matches`; removes and returns it.
    public func waitForEvent(timeout: Double = 5, _ matches: (String) -> Bool) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let index = events.firstIndex(where: matches) { return events.remove(at: index) }
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else { throw Failure(description: "no matching event within \(timeout)s; have \(events)") }
            let line = try readLine(timeout: remaining)
            if case .event = ServerLine(line) { events.append(line) }
        }
    }

    /// True if the server closes the connection within `timeout` seconds (lines read meanwhile are dropped).
    public func waitForClose(timeout: Double = 5) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while deadline.timeIntervalSinceNow > 0 {
            do { _ = try readLine(timeout: deadline.timeIntervalSinceNow) } catch let failure as Failure {
                return failure.description.contains("closed") || failure.description.contains("reset")
            } catch { return false }
        }
        return false
    }
}

/// The value of `key=` in a wire line, unquoted.
public func field(_ key: String, in line: String) -> String? {
    let body = line.hasPrefix("* ") ? String(line.dropFirst(2)) : line
    let tokens = (try? Tokenizer.tokens(body)) ?? []
    return tokens.first { $0.key == key }?.value
}
