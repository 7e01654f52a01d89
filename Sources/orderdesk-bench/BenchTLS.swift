import Foundation
import OrderDeskTLS

/// `--tls`: the desk (and Redis, for the fan-out peer) serve TLS only, with a throwaway CA and
/// certificate made by the `openssl` command; every bench client of those ports speaks TLS.
enum BenchTLS {
    struct Files: Sendable {
        var certificate: String
        var key: String
        var ca: String
    }

    private static let state = BenchLocked<(files: Files?, contexts: [UInt16: TLSContext])>((nil, [:]))

    /// The certificate files, once `prepare` made them; nil without `--tls`.
    static var files: Files? { state.read { $0.files } }

    /// Makes a CA and a certificate for 127.0.0.1 in `directory`.
    static func prepare(in directory: String) throws {
        func openssl(_ arguments: [String]) throws {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            process.arguments = arguments
            process.currentDirectoryURL = URL(fileURLWithPath: directory)
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else { throw BenchError("openssl \(arguments.first ?? "") failed") }
        }
        try openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "bench-ca.key",
                     "-out", "bench-ca.pem", "-days", "2", "-subj", "/CN=bench CA"])
        try openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "bench.key", "-out", "bench.csr", "-subj", "/CN=bench"])
        try "subjectAltName=IP:127.0.0.1\n".write(toFile: directory + "/bench.ext", atomically: true, encoding: .utf8)
        try openssl(["x509", "-req", "-in", "bench.csr", "-CA", "bench-ca.pem", "-CAkey", "bench-ca.key", "-CAcreateserial",
                     "-out", "bench.pem", "-days", "2", "-extfile", "bench.ext"])
        let files = Files(certificate: directory + "/bench.pem", key: directory + "/bench.key", ca: directory + "/bench-ca.pem")
        state.update { $0.files = files }
    }

    /// From now on, clients of `port` speak TLS.
    static func serve(port: UInt16) throws {
        guard let files else { return }
        let context = try TLSContext.client(ca: files.ca)
        state.update { $0.contexts[port] = context }
    }

    static func context(for port: UInt16) -> TLSContext? { state.read { $0.contexts[port] } }
}

/// A value behind a lock.
final class BenchLocked<Value>: @unchecked Sendable {  // guarded by `lock`
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func read<T>(_ body: (Value) -> T) -> T { lock.lock(); defer { lock.unlock() }; return body(value) }
    func update(_ body: (inout Value) -> Void) { lock.lock(); defer { lock.unlock() }; body(&value) }
}
