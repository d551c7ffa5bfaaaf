import Crypto
public import FaultlineCore
import Foundation
import SwiftASN1
public import X509

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A certificate and its private key, as PEM text.
public struct IssuedCertificate: Sendable {
    public let certificatePEM: String
    public let keyPEM: String
}

/// A test certificate authority generated in memory (ECDSA P-256): it signs the server certificates of `tls: auto`
/// listeners, the client certificate of `faultline certs`, and the certificates of the `expired`, `not-yet-valid`
/// and `wrong-host` faults, so a client that trusts it fails for exactly the fault's reason.
public final class TestCertificateAuthority: Sendable {
    /// The CA's certificate.
    public let certificate: Certificate
    private let key: Certificate.PrivateKey

    /// The names every generated server certificate covers.
    public static let loopbackNames = ["localhost", "127.0.0.1", "::1"]

    /// Generates a new CA, valid from an hour ago for ten years.
    public init(commonName: String = "Faultline Test CA") throws {
        let key = Certificate.PrivateKey(P256.Signing.PrivateKey())
        let name = try DistinguishedName {
            OrganizationName("Faultline")
            CommonName(commonName)
        }
        let now = Date()
        self.certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: key.publicKey,
            notValidBefore: now.addingTimeInterval(-3600),
            notValidAfter: now.addingTimeInterval(10 * 365 * 86_400),
            issuer: name,
            subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(digitalSignature: true, keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: key.publicKey)
            },
            issuerPrivateKey: key
        )
        self.key = key
    }

    /// The CA certificate as PEM, for clients to trust.
    public var certificatePEM: String {
        (try? self.certificate.serializeAsPEM().pemString) ?? ""
    }

    /// The CA's private key as PEM (`faultline certs` writes it, for users who sign their own).
    public var keyPEM: String {
        (try? self.key.serializeAsPEM().pemString) ?? ""
    }

    /// A server certificate for localhost, 127.0.0.1, ::1 and `hosts`, valid from an hour ago for a year.
    public func issueServerCertificate(hosts: [String] = []) throws -> IssuedCertificate {
        let now = Date()
        return try self.issue(
            commonName: "localhost",
            names: Self.loopbackNames + hosts,
            usage: .serverAuth,
            notBefore: now.addingTimeInterval(-3600),
            notAfter: now.addingTimeInterval(365 * 86_400)
        )
    }

    /// A client certificate (`CN=client` by default) for mutual TLS.
    public func issueClientCertificate(commonName: String = "client") throws -> IssuedCertificate {
        let now = Date()
        return try self.issue(
            commonName: commonName,
            names: [],
            usage: .clientAuth,
            notBefore: now.addingTimeInterval(-3600),
            notAfter: now.addingTimeInterval(365 * 86_400)
        )
    }

    /// The certificate a TLS fault presents: the generated server certificate for the faults that do not bring
    /// their own.
    public func issueCertificate(for fault: TLSFault, hosts: [String] = []) throws -> IssuedCertificate {
        let now = Date()
        let day: TimeInterval = 86_400
        switch fault {
        case .expired:
            return try self.issue(
                commonName: "localhost",
                names: Self.loopbackNames + hosts,
                usage: .serverAuth,
                notBefore: now.addingTimeInterval(-30 * day),
                notAfter: now.addingTimeInterval(-day)
            )
        case .notYetValid:
            return try self.issue(
                commonName: "localhost",
                names: Self.loopbackNames + hosts,
                usage: .serverAuth,
                notBefore: now.addingTimeInterval(day),
                notAfter: now.addingTimeInterval(30 * day)
            )
        case .wrongHost:
            return try self.issue(
                commonName: "wrong-host.invalid",
                names: ["wrong-host.invalid"],
                usage: .serverAuth,
                notBefore: now.addingTimeInterval(-3600),
                notAfter: now.addingTimeInterval(365 * day)
            )
        case .untrusted:
            // A CA of its own, which no client trusts, signs an otherwise valid certificate.
            let stranger = try TestCertificateAuthority(commonName: "Untrusted Faultline CA")
            return try stranger.issueServerCertificate(hosts: hosts)
        case .handshakeHang, .handshakeReset, .closeWithoutNotify:
            return try self.issueServerCertificate(hosts: hosts)
        }
    }

    private func issue(
        commonName: String,
        names: [String],
        usage: ExtendedKeyUsage.Usage,
        notBefore: Date,
        notAfter: Date
    ) throws -> IssuedCertificate {
        let key = Certificate.PrivateKey(P256.Signing.PrivateKey())
        let subject = try DistinguishedName {
            OrganizationName("Faultline")
            CommonName(commonName)
        }
        let alternativeNames = names.map(Self.generalName)
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: key.publicKey,
            notValidBefore: notBefore,
            notValidAfter: notAfter,
            issuer: self.certificate.subject,
            subject: subject,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([usage])
                SubjectKeyIdentifier(hash: key.publicKey)
                if let authorityKey = try? self.certificate.extensions.subjectKeyIdentifier?.keyIdentifier {
                    AuthorityKeyIdentifier(keyIdentifier: authorityKey)
                }
                if !alternativeNames.isEmpty {
                    SubjectAlternativeNames(alternativeNames)
                }
            },
            issuerPrivateKey: self.key
        )
        return IssuedCertificate(
            certificatePEM: try certificate.serializeAsPEM().pemString,
            keyPEM: try key.serializeAsPEM().pemString
        )
    }

    /// An IP address SAN for an IP literal, a DNS name otherwise.
    static func generalName(_ name: String) -> GeneralName {
        // Plain byte buffers of the addresses' sizes: inet_pton fills them in network order.
        var v4 = [UInt8](repeating: 0, count: 4)
        if inet_pton(AF_INET, name, &v4) == 1 {
            return .ipAddress(ASN1OctetString(contentBytes: v4[...]))
        }
        var v6 = [UInt8](repeating: 0, count: 16)
        if inet_pton(AF_INET6, name, &v6) == 1 {
            return .ipAddress(ASN1OctetString(contentBytes: v6[...]))
        }
        return .dnsName(name)
    }
}

extension SubjectKeyIdentifier {
    /// The identifier RFC 5280 section 4.2.1.2 suggests: the SHA-1 of the public key's bytes.
    init(hash publicKey: Certificate.PublicKey) {
        let digest = Insecure.SHA1.hash(data: publicKey.subjectPublicKeyInfoBytes)
        self.init(keyIdentifier: ArraySlice(digest))
    }
}
