import Foundation
import OrderDeskTLS

/// A throwaway certificate authority and certificates made with the `openssl` command, for TLS
/// tests: a server certificate for `localhost` and 127.0.0.1, one for another name, and a second
/// CA that signed nothing the server presents.
public struct TestCertificates: Sendable {
    public let folder: String
    public var caFile: String { folder + "/ca.pem" }
    /// For `localhost` and 127.0.0.1, signed by the CA; `chainFile` holds it and then the CA.
    public var certificateFile: String { folder + "/server.pem" }
    public var keyFile: String { folder + "/server.key" }
    public var chainFile: String { folder + "/chain.pem" }
    /// Signed by the CA, but for `desk.elsewhere.example` only.
    public var otherNameCertificateFile: String { folder + "/other.pem" }
    public var otherNameKeyFile: String { folder + "/other.key" }
    /// A CA that signed none of the above.
    public var strangerCAFile: String { folder + "/stranger-ca.pem" }

    public init() throws {
        folder = temporaryDirectory()
        try Self.openssl(in: folder, ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                                      "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=orderdesk test CA"])
        try Self.openssl(in: folder, ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                                      "-keyout", "stranger-ca.key", "-out", "stranger-ca.pem", "-days", "2", "-subj", "/CN=stranger CA"])
        try issue("server", names: "DNS:localhost,IP:127.0.0.1")
        try issue("other", names: "DNS:desk.elsewhere.example")
        let chain = try String(contentsOfFile: certificateFile, encoding: .utf8) + String(contentsOfFile: caFile, encoding: .utf8)
        try chain.write(toFile: chainFile, atomically: true, encoding: .utf8)
    }

    /// A client that trusts the test CA.
    public func client() throws -> TLSContext { try TLSContext.client(ca: caFile) }

    private func issue(_ name: String, names: String) throws {
        try Self.openssl(in: folder, ["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                                      "-keyout", "\(name).key", "-out", "\(name).csr", "-subj", "/CN=\(name)"])
        try "subjectAltName=\(names)\n".write(toFile: folder + "/\(name).ext", atomically: true, encoding: .utf8)
        try Self.openssl(in: folder, ["x509", "-req", "-in", "\(name).csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                                      "-out", "\(name).pem", "-days", "2", "-extfile", "\(name).ext"])
    }

    private static func openssl(in folder: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: folder)
        process.standardOutput = FileHandle.nullDevice
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let text = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw LineClient.Failure(description: "openssl \(arguments.joined(separator: " ")): \(String(decoding: text, as: UTF8.self))")
        }
    }
}
