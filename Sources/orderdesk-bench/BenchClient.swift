import Foundation
import OrderDeskTLS
#if canImport(Glibc)
import Glibc
#endif

/// A blocking line client for load generation: no parsing beyond finding line ends.
final class BenchClient: @unchecked Sendable {  // used by one thread at a time
    let descriptor: Int32
    private var buffer = [UInt8](repeating: 0, count: 1 << 16)
    private var start = 0
    private var end = 0
    /// With `--tls`, the TLS session (see `BenchTLS`).
    private var tls: TLSStream?

    init(port: UInt16) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard status == 0 else {
            let code = errno
            close(descriptor)
            throw BenchError("connect to \(port): \(String(cString: strerror(code)))")
        }
        var yes: Int32 = 1
        setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &yes, socklen_t(MemoryLayout<Int32>.size))
        if let context = BenchTLS.context(for: port) {
            do {
                let stream = try TLSStream(connecting: descriptor, host: "127.0.0.1", context: context)
                try stream.handshake(descriptor: descriptor, timeoutMilliseconds: 10_000)
                tls = stream
            } catch {
                close(descriptor)
                throw BenchError("TLS to \(port): \(error)")
            }
        }
    }

    deinit { close(descriptor) }

    func send(_ text: String) throws {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            if let tls {
                guard case .done(let sent) = bytes.withUnsafeBytes({ tls.write(UnsafeRawBufferPointer(rebasing: $0[offset...])) }) else {
                    throw BenchError("TLS write failed")
                }
                offset += sent
                continue
            }
            let sent = bytes.withUnsafeMutableBytes { Glibc.send(descriptor, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { throw BenchError("send: \(String(cString: strerror(errno)))") }
            offset += sent
        }
    }

    /// Reads one line (without the line end); nil at end of stream.
    func readLine() throws -> Substring? {
        while true {
            if let newline = buffer[start..<end].firstIndex(of: 10) {
                var last = newline
                if last > start, buffer[last - 1] == 13 { last -= 1 }
                let line = String(decoding: buffer[start..<last], as: UTF8.self)
                start = newline + 1
                return line[...]
            }
            if start > 0 {
                buffer.withUnsafeMutableBytes { raw in
                    let base = raw.baseAddress!
                    memmove(base, base + start, end - start)
                }
                end -= start
                start = 0
            }
            if end == buffer.count { buffer += [UInt8](repeating: 0, count: buffer.count) }
            var count: Int
            if let tls {
                switch buffer.withUnsafeMutableBytes({ tls.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[end...])) }) {
                case .done(let read): count = read
                case .closed: count = 0
                case .wantRead, .wantWrite: continue
                case .failed(let why): throw BenchError("TLS read: \(why)")
                }
            } else {
                count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress! + end, $0.count - end, 0) }
            }
            if count == 0 { return nil }
            if count < 0 {
                if errno == EINTR { continue }
                throw BenchError("recv: \(String(cString: strerror(errno)))")
            }
            end += count
        }
    }

    /// Reads an orderdesk reply (up to its OK/ERR line, skipping pushes); returns the last line.
    func readReply() throws -> Substring {
        while let line = try readLine() {
            if line.hasPrefix("OK") || line.hasPrefix("ERR") { return line }
        }
        throw BenchError("connection closed")
    }

    func request(_ line: String) throws -> Substring {
        try send(line + "\n")
        return try readReply()
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Monotonic time in nanoseconds.
func monotonicNanoseconds() -> UInt64 {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
}

/// Latency samples in microseconds.
struct Samples {
    var values: [Double] = []

    mutating func add(_ microseconds: Double) { values.append(microseconds) }
    mutating func merge(_ other: Samples) { values += other.values }

    func percentile(_ fraction: Double) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, max(0, Int((fraction * Double(sorted.count)).rounded(.up)) - 1))]
    }

    /// `p50 120µs p99 900µs p99.9 2.1ms`
    var summary: String {
        "p50 \(format(percentile(0.5)))  p99 \(format(percentile(0.99)))  p99.9 \(format(percentile(0.999)))"
    }
}

/// `850µs`, `12.3ms`, `1.20s`
func format(_ microseconds: Double) -> String {
    if microseconds < 1000 { return String(format: "%.0fµs", microseconds) }
    if microseconds < 1_000_000 { return String(format: "%.1fms", microseconds / 1000) }
    return String(format: "%.2fs", microseconds / 1_000_000)
}

/// Reads a process's CPU time and resident memory from /proc.
enum ProcessStats {
    /// User + system CPU seconds used so far by `pid`.
    static func cpuSeconds(_ pid: Int32) -> Double {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return 0 }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // After the command: state is field 3, utime 14, stime 15 (1-based in proc(5)).
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Context switches (voluntary and not) of all of `pid`'s threads so far. Threads that ended
    /// take theirs with them, so read it across a window in which the threads stay.
    static func contextSwitches(_ pid: Int32) -> Int {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        return tasks.reduce(0) { total, task in
            guard let text = try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/status", encoding: .utf8) else { return total }
            return total + text.split(separator: "\n").reduce(0) { sum, line in
                guard line.hasPrefix("voluntary_ctxt_switches:") || line.hasPrefix("nonvoluntary_ctxt_switches:") else { return sum }
                return sum + (Int(line.split(separator: "\t").last?.trimmingCharacters(in: .whitespaces) ?? "") ?? 0)
            }
        }
    }

    /// Resident set size in KiB.
    static func residentKiB(_ pid: Int32) -> Int {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
        }
        return 0
    }
}

/// Runs `body(index)` on `count` threads at once and waits for them.
func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let group = DispatchGroup()
    for index in 0..<count {
        group.enter()
        let thread = Thread {
            body(index)
            group.leave()
        }
        thread.stackSize = 256 * 1024
        thread.start()
    }
    group.wait()
}

/// A value shared between bench threads.
final class Shared<Value>: @unchecked Sendable {  // guarded by `lock`
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func update<Result>(_ body: (inout Value) -> Result) -> Result { lock.withLock { body(&value) } }
    var current: Value { lock.withLock { value } }
}

/// Prints a line at once, even when standard output is a file or a pipe.
func say(_ line: String = "") {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
