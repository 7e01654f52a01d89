import Foundation
import OrderDeskServer
import OrderDeskTLS
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// End to end, issue 13: the same line protocol over TLS, with a throwaway CA made in the test.
@Suite("TLS on the wire")
struct TLSTests {
    /// A desk with its clear-text port on loopback and a TLS port beside it.
    private func desk(_ certificates: TestCertificates, chain: Bool = false) throws -> TestDesk {
        try TestDesk { configuration in
            configuration.tls = TLSSettings(port: 0, certificateFile: chain ? certificates.chainFile : certificates.certificateFile,
                                            keyFile: certificates.keyFile)
        }
    }

    @Test("login, a push and RESUME work over TLS exactly as in clear text")
    func sameProtocolInside() throws {
        let certificates = try TestCertificates()
        let desk = try desk(certificates)
        defer { desk.stop() }
        let tlsPort = desk.server.tlsPort
        #expect(tlsPort != 0 && tlsPort != desk.port)
        let ana = try LineClient(port: tlsPort, tls: try certificates.client())
        #expect(ana.greeting.hasPrefix("HELLO orderdesk 1 "))
        #expect(ana.tls?.protocolVersion == "TLSv1.3")
        try ana.ok("LOGIN ana ana")
        let shop = try LineClient(port: tlsPort, tls: try certificates.client())
        try shop.ok("LOGIN shop shop")
        try desk.capture("SO-1", using: shop)
        #expect(try ana.ok("CLAIM SO-1").hasPrefix("OK order=SO-1"))
        try ana.ok("WATCH SO-1")
        let plain = try desk.client("ben")
        try plain.ok("NOTE SO-1 from the clear-text port")
        let note = try ana.waitForEvent { $0.contains("note") && $0.contains("SO-1") }
        #expect(note.contains("clear-text port"))
        let reply = try ana.command("RESUME 0")
        #expect(reply.last?.hasPrefix("OK") == true, "\(reply)")
        // A long reply crosses many TLS records and still arrives whole.
        let big = String(repeating: "x", count: 1_900)
        for _ in 0..<20 { try ana.ok("NOTE SO-1 \(big)") }
        let card = try ana.command("ORDER SO-1")
        let bigLines = card.filter { $0.contains(big) }
        #expect(bigLines.map(\.utf8.count).reduce(0, +) > 16 * 1024, "the card spans more than one TLS record")
    }

    @Test("a chain in the certificate file is sent whole and verifies")
    func chainIsSent() throws {
        let certificates = try TestCertificates()
        let desk = try desk(certificates, chain: true)
        defer { desk.stop() }
        let client = try LineClient(port: desk.server.tlsPort, tls: try certificates.client())
        try client.ok("LOGIN ana ana")
    }

    @Test("a certificate from an unknown CA is refused by the client, and the desk goes on")
    func unknownCA() throws {
        let certificates = try TestCertificates()
        let desk = try desk(certificates)
        defer { desk.stop() }
        #expect {
            try LineClient(port: desk.server.tlsPort, tls: try TLSContext.client(ca: certificates.strangerCAFile))
        } throws: { ($0 as? TLSError)?.kind == .verification }
        let client = try LineClient(port: desk.server.tlsPort, tls: try certificates.client())
        try client.ok("LOGIN ana ana")
    }

    @Test("a certificate for another name is refused: the name dialled is checked")
    func wrongHostName() throws {
        let certificates = try TestCertificates()
        let desk = try TestDesk { configuration in
            configuration.tls = TLSSettings(port: 0, certificateFile: certificates.otherNameCertificateFile, keyFile: certificates.otherNameKeyFile)
        }
        defer { desk.stop() }
        #expect {
            try LineClient(port: desk.server.tlsPort, tls: try certificates.client(), host: "localhost")
        } throws: { error in
            guard let failure = error as? TLSError else { return false }
            return failure.kind == .verification && failure.description.contains("mismatch")
        }
        let byAddress = Result { try LineClient(port: desk.server.tlsPort, tls: try certificates.client(), host: "127.0.0.1") }
        #expect((try? byAddress.get()) == nil, "an IP address is checked against the certificate too")
    }

    @Test("plain text to the TLS port gets one plain BYE and a close; TLS to the plain port a close; others notice nothing")
    func wrongProtocolOnEachPort() throws {
        let certificates = try TestCertificates()
        let desk = try desk(certificates)
        defer { desk.stop() }
        let ana = try LineClient(port: desk.server.tlsPort, tls: try certificates.client())
        try ana.ok("LOGIN ana ana")

        let plain = try LineClient(port: desk.server.tlsPort, readGreeting: false)
        try plain.send("LOGIN ana ana")
        #expect(try plain.readLine().hasPrefix("BYE tls-required"))
        #expect(plain.waitForClose())

        #expect(throws: TLSError.self) { try LineClient(port: desk.port, tls: try certificates.client()) }
        #expect(try ana.ok("PING").hasPrefix("OK"))
    }

    @Test("a handshake that stalls is cut off by the login timeout, like an idle stranger")
    func stalledHandshake() throws {
        let certificates = try TestCertificates()
        let desk = try TestDesk { configuration in
            configuration.tls = TLSSettings(port: 0, certificateFile: certificates.certificateFile, keyFile: certificates.keyFile)
            configuration.loginTimeout = .seconds(1)
            configuration.tickInterval = .init(50)
        }
        defer { desk.stop() }
        // Three bytes of a TLS record header, then nothing.
        let staller = try LineClient(port: desk.server.tlsPort, readGreeting: false)
        try staller.sendRaw([0x16, 0x03, 0x01])
        #expect(staller.waitForClose(timeout: 10))
        let client = try LineClient(port: desk.server.tlsPort, tls: try certificates.client())
        try client.ok("LOGIN ana ana")
    }

    @Test("a client that half-closes over TLS gets every reply to the lines it sent")
    func halfCloseOverTLS() throws {
        let certificates = try TestCertificates()
        let desk = try desk(certificates)
        defer { desk.stop() }
        let client = try LineClient(port: desk.server.tlsPort, tls: try certificates.client())
        try client.send("LOGIN ana ana")
        try client.send("WHOAMI")
        client.closeSending()
        #expect(try client.readLine().hasPrefix("OK user=ana"))
        #expect(try client.readLine().hasPrefix("OK user=ana"))
        #expect(client.waitForClose())
    }

    @Test("clear text on an address other than loopback is refused at start, unless allowed")
    func plaintextOffLoopbackRefused() throws {
        #expect(Socket.isLoopback("127.0.0.1") && Socket.isLoopback("127.3.4.5") && Socket.isLoopback("::1") && Socket.isLoopback("localhost"))
        #expect(!Socket.isLoopback("0.0.0.0") && !Socket.isLoopback("10.0.0.7") && !Socket.isLoopback("::"))
        #expect(throws: StartFailure.self) { try TestDesk { $0.host = "0.0.0.0" } }
        let certificates = try TestCertificates()
        let tlsOnly = try TestDesk { configuration in
            configuration.host = "0.0.0.0"
            configuration.port = nil
            configuration.tls = TLSSettings(port: 0, certificateFile: certificates.certificateFile, keyFile: certificates.keyFile)
        }
        defer { tlsOnly.stop() }
        #expect(tlsOnly.server.port == 0)
        let client = try LineClient(port: tlsOnly.server.tlsPort, tls: try certificates.client())
        try client.ok("LOGIN ana ana")
        let allowed = try TestDesk { $0.host = "0.0.0.0"; $0.allowsPlaintext = true }
        allowed.stop()
    }

    @Test("SIGHUP reloads the certificate: new sessions get the new one, a bad file keeps the old")
    func reloadOnSignal() throws {
        let certificates = try TestCertificates()
        let folder = temporaryDirectory()
        let certificate = folder + "/cert.pem", key = folder + "/key.pem"
        try FileManager.default.copyItem(atPath: certificates.otherNameCertificateFile, toPath: certificate)
        try FileManager.default.copyItem(atPath: certificates.otherNameKeyFile, toPath: key)
        let server = try ServerProcess(data: folder + "/desk.sqlite", logLevel: "info",
                                       arguments: ["--demo", "--tls-port", "0", "--tls-cert", certificate, "--tls-key", key])
        defer { server.terminate() }
        #expect(server.tlsPort != 0)
        #expect(throws: TLSError.self) { try LineClient(port: server.tlsPort, tls: try certificates.client()) }

        try FileManager.default.removeItem(atPath: certificate)
        try FileManager.default.removeItem(atPath: key)
        try FileManager.default.copyItem(atPath: certificates.certificateFile, toPath: certificate)
        try FileManager.default.copyItem(atPath: certificates.keyFile, toPath: key)
        kill(server.process.processIdentifier, SIGHUP)
        server.waitForLog { $0.contains("tls certificate reloaded") }
        let client = try LineClient(port: server.tlsPort, tls: try certificates.client())
        try client.ok("LOGIN ana demo")

        try "not a certificate".write(toFile: certificate, atomically: true, encoding: .utf8)
        kill(server.process.processIdentifier, SIGHUP)
        #expect(server.waitForLog { $0.contains("reload failed") }.contains("old one stays in force"))
        let again = try LineClient(port: server.tlsPort, tls: try certificates.client())
        try again.ok("LOGIN ana demo")
    }
}
