import FaultlineCore
import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import SwiftASN1
import X509

/// Says why an upstream's certificate failed verification, in a person's words ("certificate has expired"), which
/// BoringSSL's error does not carry: it connects once more without verifying, reads the certificate the upstream
/// presents, and checks it the way a person would: its dates, its names, who signed it.
enum UpstreamTLSDiagnosis {
    /// The cause of the failed verification, or `fallback` when the certificate cannot be read.
    static func diagnose(
        host: String,
        port: Int,
        trust: ProxySpec.Trust,
        eventLoop: any EventLoop,
        fallback: String
    ) -> EventLoopFuture<String> {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = .none
        let context: NIOSSLContext
        do {
            context = try NIOSSLContext(configuration: configuration)
        } catch {
            return eventLoop.makeSucceededFuture(fallback)
        }
        let serverName = Self.isIPAddress(host) ? nil : host
        let handshake = eventLoop.makePromise(of: Void.self)
        let connected = ClientBootstrap(group: eventLoop)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        NIOSSLClientHandler(context: context, serverHostname: serverName)
                    )
                    try channel.pipeline.syncOperations.addHandler(HandshakeWaiter(promise: handshake))
                }
            }
            .connect(host: host, port: port)
        connected.whenFailure { handshake.fail($0) }
        return connected.and(handshake.futureResult)
            .flatMapThrowing { channel, _ in
                defer { channel.close(promise: nil) }
                return try channel.pipeline.syncOperations.nioSSL_peerCertificate()
            }
            .map { certificate -> String in
                guard let certificate, let parsed = try? Certificate(derEncoded: certificate.toDERBytes()) else {
                    return fallback
                }
                return Self.cause(of: parsed, host: host, trust: trust, now: Date()) ?? fallback
            }
            .recover { _ in fallback }
    }

    /// What is wrong with `certificate` for `host`, checked in the order a person would look: dates, names, signer.
    static func cause(of certificate: Certificate, host: String, trust: ProxySpec.Trust, now: Date) -> String? {
        if certificate.notValidAfter < now {
            return "TLS: certificate has expired (on \(Self.day(certificate.notValidAfter)))"
        }
        if certificate.notValidBefore > now {
            return "TLS: certificate is not yet valid (from \(Self.day(certificate.notValidBefore)))"
        }
        let names = Self.names(in: certificate)
        if !names.isEmpty, !names.contains(where: { Self.name($0, matches: host) }) {
            return "TLS: certificate is for \(names.joined(separator: ", ")), not \(host)"
        }
        if certificate.issuer == certificate.subject {
            return "TLS: certificate is self-signed and not trusted"
        }
        switch trust {
        case .certificateAuthority(let file):
            return
                "TLS: certificate is not signed by the CA in \(URL(fileURLWithPath: file).lastPathComponent) (issuer: \(certificate.issuer))"
        case .system, .none:
            return
                "TLS: certificate is signed by an authority the system does not trust (issuer: \(certificate.issuer))"
        }
    }

    /// The certificate's DNS names and IP addresses.
    static func names(in certificate: Certificate) -> [String] {
        guard let alternatives = try? certificate.extensions.subjectAlternativeNames else { return [] }
        var names: [String] = []
        for name in alternatives {
            switch name {
            case .dnsName(let dns):
                names.append(dns)
            case .ipAddress(let octets):
                let bytes = Array(octets.bytes)
                if bytes.count == 4 {
                    names.append(bytes.map(String.init).joined(separator: "."))
                } else if bytes.count == 16 {
                    names.append(Self.ipv6(bytes))
                }
            default:
                break
            }
        }
        return names
    }

    /// Whether a certificate name covers `host` (a leading `*.` covers one label).
    static func name(_ name: String, matches host: String) -> Bool {
        let name = name.lowercased()
        let host = host.lowercased()
        if name == host { return true }
        if name == "::1", host == "0:0:0:0:0:0:0:1" { return true }
        guard name.hasPrefix("*."), let dot = host.firstIndex(of: ".") else { return false }
        return host[dot...] == name.dropFirst()
    }

    static func isIPAddress(_ host: String) -> Bool {
        host.contains(":") || host.split(separator: ".").count == 4 && host.allSatisfy { $0.isNumber || $0 == "." }
    }

    private static func ipv6(_ bytes: [UInt8]) -> String {
        var groups: [String] = []
        for index in stride(from: 0, to: 16, by: 2) {
            groups.append(String(UInt16(bytes[index]) << 8 | UInt16(bytes[index + 1]), radix: 16))
        }
        let text = groups.joined(separator: ":")
        return text == "0:0:0:0:0:0:0:1" ? "::1" : text
    }

    private static func day(_ date: Date) -> String {
        HTTPDate.format(secondsSince1970: Int64(date.timeIntervalSince1970))
    }

    /// Completes its promise when TLS's handshake does, or fails it when the connection breaks first.
    private final class HandshakeWaiter: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        private let promise: EventLoopPromise<Void>

        init(promise: EventLoopPromise<Void>) {
            self.promise = promise
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if case .handshakeCompleted = event as? TLSUserEvent { self.promise.succeed() }
            context.fireUserInboundEventTriggered(event)
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            self.promise.fail(error)
            context.close(promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) {
            self.promise.fail(ChannelError.eof)
            context.fireChannelInactive()
        }
    }
}
