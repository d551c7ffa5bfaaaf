import Foundation
import SwiftASN1
import X509

/// Checks a listener's PEM files when the scenario loads, so a broken certificate is an error with its file name
/// rather than a failed handshake later.
public enum CertificateFiles {
    /// One thing wrong with a certificate or key file.
    public struct Problem: Sendable {
        /// A sentence naming the file.
        public let message: String
        /// The problem is with the key file rather than the certificate.
        public let isAboutKey: Bool
    }

    /// Every problem with a certificate (or chain) and its private key.
    public static func problems(certificate certificatePath: String, key keyPath: String) -> [Problem] {
        let now = Date()
        let certificateName = URL(fileURLWithPath: certificatePath).lastPathComponent
        let keyName = URL(fileURLWithPath: keyPath).lastPathComponent
        let chain: [Certificate]
        do {
            chain = try self.certificates(in: certificatePath)
        } catch {
            return [
                Problem(
                    message: "The certificate file \(certificateName) holds no PEM certificate: \(error).",
                    isAboutKey: false
                )
            ]
        }
        guard let leaf = chain.first else {
            return [
                Problem(message: "The certificate file \(certificateName) holds no certificate.", isAboutKey: false)
            ]
        }
        var problems: [Problem] = []
        if leaf.notValidAfter < now {
            problems.append(
                Problem(
                    message:
                        "The certificate in \(certificateName) expired on \(leaf.notValidAfter); a client will refuse it (use tls: {fault: expired} to test that on purpose).",
                    isAboutKey: false
                )
            )
        } else if leaf.notValidBefore > now {
            problems.append(
                Problem(
                    message: "The certificate in \(certificateName) is not valid before \(leaf.notValidBefore).",
                    isAboutKey: false
                )
            )
        }
        do {
            let pem = try String(contentsOfFile: keyPath, encoding: .utf8)
            let key = try Certificate.PrivateKey(pemEncoded: pem)
            if key.publicKey != leaf.publicKey {
                problems.append(
                    Problem(
                        message: "The private key in \(keyName) does not match the certificate in \(certificateName).",
                        isAboutKey: true
                    )
                )
            }
        } catch {
            problems.append(
                Problem(
                    message: "The key file \(keyName) holds no PEM private key Faultline can read: \(error).",
                    isAboutKey: true
                )
            )
        }
        return problems
    }

    /// The problem with a client CA file, if any.
    public static func problemWithCA(_ path: String) -> String? {
        let name = URL(fileURLWithPath: path).lastPathComponent
        do {
            return try self.certificates(in: path).isEmpty ? "The CA file \(name) holds no certificate." : nil
        } catch {
            return "The CA file \(name) holds no PEM certificate: \(error)."
        }
    }

    /// The certificates in a PEM file, in order.
    static func certificates(in path: String) throws -> [Certificate] {
        let pem = try String(contentsOfFile: path, encoding: .utf8)
        return try PEMDocument.parseMultiple(pemString: pem)
            .filter { $0.discriminator == "CERTIFICATE" }
            .map { try Certificate(pemDocument: $0) }
    }
}
