import Foundation
import OrderDeskServer
import Testing
import TestSupport
@testable import DeskClientKit

/// End to end, issue 13: the real `desk` over TLS against a real server.
@Suite("desk over TLS")
struct TLSClientTests {
    @Test("desk --tls --ca logs in, runs commands and gets pushes through the TLS port")
    func worksOverTLS() throws {
        let certificates = try TestCertificates()
        let desk = try TestDesk { $0.tls = TLSSettings(port: 0, certificateFile: certificates.certificateFile, keyFile: certificates.keyFile) }
        defer { desk.stop() }
        try desk.capture("SO-1", using: try desk.client("shop"))
        let environment = DeskBinary.environment(port: desk.server.tlsPort, extra: ["ORDERDESK_PASSWORD": "ana", "ORDERDESK_HOST": "localhost"])
        let run = try DeskBinary.run(["--user", "ana", "--ca", certificates.caFile, "-c", "WHOAMI", "-c", "ORDER SO-1"], environment: environment)
        #expect(run.status == 0, "\(run.errors)")
        #expect(run.output.contains("user ana"))
        #expect(run.output.contains("SO-1"))
    }

    @Test("a certificate the client does not trust, or for another name, ends desk with exit code 6 and says why")
    func refusedCertificate() throws {
        let certificates = try TestCertificates()
        let desk = try TestDesk { $0.tls = TLSSettings(port: 0, certificateFile: certificates.certificateFile, keyFile: certificates.keyFile) }
        defer { desk.stop() }
        let environment = DeskBinary.environment(port: desk.server.tlsPort, extra: ["ORDERDESK_PASSWORD": "ana", "ORDERDESK_HOST": "localhost"])
        let stranger = try DeskBinary.run(["--user", "ana", "--ca", certificates.strangerCAFile, "-c", "WHOAMI"], environment: environment)
        #expect(stranger.status == ExitCode.certificateRefused.rawValue)
        #expect(stranger.errors.contains("certificate was refused"), "\(stranger.errors)")

        let other = try TestDesk { $0.tls = TLSSettings(port: 0, certificateFile: certificates.otherNameCertificateFile, keyFile: certificates.otherNameKeyFile) }
        defer { other.stop() }
        let wrongName = try DeskBinary.run(["--user", "ana", "--ca", certificates.caFile, "-c", "WHOAMI"],
                                           environment: DeskBinary.environment(port: other.server.tlsPort, extra: ["ORDERDESK_PASSWORD": "ana", "ORDERDESK_HOST": "localhost"]))
        #expect(wrongName.status == ExitCode.certificateRefused.rawValue, "\(wrongName.errors)")

        let plain = try DeskBinary.run(["--user", "ana", "--tls", "--ca", certificates.caFile, "-c", "WHOAMI"],
                                       environment: DeskBinary.environment(port: desk.port, extra: ["ORDERDESK_PASSWORD": "ana", "ORDERDESK_HOST": "localhost"]))
        #expect(plain.status == ExitCode.cannotConnect.rawValue, "TLS to the clear-text port is a failed connection, never a fallback")
    }
}
