import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// The TLS port's settings: PEM files, read at start and again by `reloadCertificates`.
public struct TLSSettings: Sendable {
    /// The address to listen on; nil means the server's `host`.
    public var host: String?
    public var port: UInt16
    /// The certificate, or a chain with the server's own first; sent whole.
    public var certificateFile: String
    public var keyFile: String
    /// With a CA file, clients must present a certificate it signed.
    public var clientCAFile: String?

    public init(host: String? = nil, port: UInt16, certificateFile: String, keyFile: String, clientCAFile: String? = nil) {
        self.host = host
        self.port = port
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.clientCAFile = clientCAFile
    }
}

/// Why the server would not start, for the person starting it.
public struct StartFailure: Error, CustomStringConvertible {
    public var description: String
}

/// One listening socket and its accept source (confined to the desk queue, as the server is).
final class Listener: @unchecked Sendable {  // confined to the desk queue
    let descriptor: Int32
    /// Connections accepted here speak TLS from the first byte.
    let isTLS: Bool
    let source: DispatchSourceRead

    init(descriptor: Int32, isTLS: Bool, queue: DispatchQueue) {
        self.descriptor = descriptor
        self.isTLS = isTLS
        source = DispatchSource.makeReadSource(fileDescriptor: descriptor, queue: queue)
        source.setCancelHandler { Glibc.close(descriptor) }
    }
}
