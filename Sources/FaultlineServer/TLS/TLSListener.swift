import FaultlineCore
import Foundation
import NIOCore
import NIOSSL

/// What a TLS listener puts in front of HTTP on each accepted connection. The TLS context is built once per
/// listener, at start; everything above the TLS handler is the same as for plaintext.
struct TLSListener: Sendable {
    enum Mode: Sendable {
        /// A TLS handler with this context.
        case tls(NIOSSLContext)
        /// Accept TCP, never answer the ClientHello.
        case handshakeHang
        /// Answer the ClientHello with a TCP RST.
        case handshakeReset
    }

    let mode: Mode
    /// The TLS fault this listener injects, if any.
    let fault: TLSFault?

    /// Builds the listener's TLS context from its spec: generated, user or fault certificates.
    static func make(_ spec: TLSSpec, http2: Bool = false, authority: TestCertificateAuthority?) throws -> TLSListener {
        let fault: TLSFault?
        let chain: [NIOSSLCertificate]
        let key: NIOSSLPrivateKey
        switch spec.source {
        case .files(let certificate, let keyPath):
            fault = nil
            chain = try NIOSSLCertificate.fromPEMFile(certificate)
            key = try NIOSSLPrivateKey(file: keyPath, format: .pem)
        case .generated, .fault:
            guard let authority else { throw TLSSetupError(message: "a generated certificate needs the test CA") }
            if case .fault(let f) = spec.source { fault = f } else { fault = nil }
            switch fault {
            case .handshakeHang:
                return TLSListener(mode: .handshakeHang, fault: fault)
            case .handshakeReset:
                return TLSListener(mode: .handshakeReset, fault: fault)
            default:
                break
            }
            let issued =
                try fault.map { try authority.issueCertificate(for: $0, hosts: spec.hosts) }
                ?? authority.issueServerCertificate(hosts: spec.hosts)
            chain = [try NIOSSLCertificate(bytes: Array(issued.certificatePEM.utf8), format: .pem)]
            key = try NIOSSLPrivateKey(bytes: Array(issued.keyPEM.utf8), format: .pem)
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) },
            privateKey: .privateKey(key)
        )
        // With HTTP/2, ALPN offers h2 first, then HTTP/1.1.
        configuration.applicationProtocols = http2 ? ["h2", "http/1.1"] : ["http/1.1"]
        configuration.minimumTLSVersion = Self.nioVersion(spec.minVersion ?? .v1_2)
        configuration.maximumTLSVersion = spec.maxVersion.map(Self.nioVersion)
        if let clientAuth = spec.clientAuth {
            configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(clientAuth.caFile))
            configuration.certificateVerification =
                clientAuth.mode == .require ? .noHostnameVerification : .optionalVerification
            configuration.sendCANameList = true
        }
        return TLSListener(mode: .tls(try NIOSSLContext(configuration: configuration)), fault: fault)
    }

    static func nioVersion(_ version: TLSProtocolVersion) -> TLSVersion {
        switch version {
        case .v1_0: .tlsv1
        case .v1_1: .tlsv11
        case .v1_2: .tlsv12
        case .v1_3: .tlsv13
        }
    }

    /// `TLSv1.3` for a negotiated version.
    static func name(of version: TLSVersion) -> String {
        switch version {
        case .tlsv1: "TLSv1.0"
        case .tlsv11: "TLSv1.1"
        case .tlsv12: "TLSv1.2"
        case .tlsv13: "TLSv1.3"
        }
    }
}

/// Why a TLS listener could not be set up.
struct TLSSetupError: Error, CustomStringConvertible {
    let message: String
    var description: String { self.message }
}
