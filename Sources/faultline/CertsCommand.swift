import ArgumentParser
import FaultlineCore
import FaultlineServer
import Foundation

/// `faultline certs --out DIR`: writes a test CA and the certificates Faultline would generate, for users who
/// need files (another server, a client's trust store, mutual TLS).
struct CertsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "certs",
        abstract:
            "Write a test CA, a server and a client certificate, and one certificate per TLS fault, as PEM files.",
        discussion: """
            Writes ca.pem, ca.key, server.pem, server.key, client.pem, client.key (CN=client, signed by the CA) \
            and server-FAULT.pem/.key for each TLS fault.

            The expired, not-yet-valid and wrong-host certificates are signed by the CA, so a client that trusts \
            ca.pem fails for exactly that reason; untrusted is signed by a CA of its own.
            """
    )

    @Option(help: "The folder to write to (created if needed).")
    var out: String

    @Option(name: .customLong("host"), help: "An extra name for the server certificates (repeatable).")
    var hosts: [String] = []

    @Option(name: .customLong("client-name"), help: "The common name of the client certificate.")
    var clientName: String = "client"

    func run() throws {
        let folder = URL(fileURLWithPath: self.out)
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let authority = try TestCertificateAuthority()
            var files: [(String, String)] = [("ca.pem", authority.certificatePEM), ("ca.key", authority.keyPEM)]
            let server = try authority.issueServerCertificate(hosts: self.hosts)
            files += [("server.pem", server.certificatePEM), ("server.key", server.keyPEM)]
            let client = try authority.issueClientCertificate(commonName: self.clientName)
            files += [("client.pem", client.certificatePEM), ("client.key", client.keyPEM)]
            for fault in TLSFault.allCases {
                let issued = try authority.issueCertificate(for: fault, hosts: self.hosts)
                files += [
                    ("server-\(fault.rawValue).pem", issued.certificatePEM),
                    ("server-\(fault.rawValue).key", issued.keyPEM),
                ]
            }
            for (name, contents) in files {
                let url = folder.appendingPathComponent(name)
                try Data(contents.utf8).write(to: url, options: .atomic)
                if name.hasSuffix(".key") {
                    try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: url.path)
                }
            }
            Console.output("faultline: wrote \(files.count) files to \(folder.path)")
        } catch {
            Console.error("faultline: cannot write certificates to \(folder.path): \(error)")
            throw ExitCode(1)
        }
    }
}
