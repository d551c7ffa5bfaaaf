import FaultlineTestSupport
import Foundation
import Testing

/// HTTPS through curl and openssl: generated certificates, user certificates, mutual TLS, the TLS faults a client
/// must refuse, and protocol versions and ALPN.
@Suite("TLS through curl and openssl", .serialized)
final class TLSCurlTests {
    let folder: TemporaryFolder
    let server: FaultlineProcess
    /// The listeners' URLs, by name.
    let urls: [String: String]
    let caFile: String

    static let names = [
        "plain", "auto", "expired", "not-yet-valid", "wrong-host", "untrusted", "handshake-reset", "handshake-hang",
        "close-without-notify", "mtls", "tls12",
    ]

    init() throws {
        self.folder = try TemporaryFolder()
        let certs = try FaultlineProcess.run(["certs", "--out", self.folder.path("certs")])
        guard certs.status == 0 else { throw ProcessError(message: certs.stderr) }
        let scenario = try self.folder.write(
            "tls.yaml",
            """
            version: 1
            listeners:
              - {port: 0}
              - {port: 0, tls: auto}
              - {port: 0, tls: {fault: expired}}
              - {port: 0, tls: {fault: not-yet-valid}}
              - {port: 0, tls: {fault: wrong-host}}
              - {port: 0, tls: {fault: untrusted}}
              - {port: 0, tls: {fault: handshake-reset}}
              - {port: 0, tls: {fault: handshake-hang}}
              - {port: 0, tls: {fault: close-without-notify}}
              - {port: 0, tls: {cert: certs/server.pem, key: certs/server.key}, clientAuth: {ca: certs/ca.pem, mode: require}}
              - {port: 0, tls: auto, maxVersion: "1.2"}
            rules:
              - {path: /who, match: {clientCert: "CN=client"}, body: "hello client\\n"}
              - {path: /who, body: "hello stranger\\n"}
              - {path: /x, body: "secure\\n"}
              - {path: /reset, fault: reset}
            """
        )
        self.caFile = self.folder.path("ca.pem")
        self.server = try FaultlineProcess(["serve", scenario, "--ca-out", self.caFile])
        let urls = try self.server.waitUntilListening(count: Self.names.count)
        self.urls = Dictionary(uniqueKeysWithValues: zip(Self.names, urls))
    }

    deinit {
        self.server.signal()
        self.server.waitForExit()
    }

    func url(_ name: String, _ path: String = "/x") -> String { (self.urls[name] ?? "") + path }

    @Test func theReadinessLineOfATLSFaultListenerNamesTheFault() throws {
        let lines = self.server.standardOutput.split(separator: "\n").filter { $0.hasPrefix("faultline listening on ") }
        #expect(lines.count == Self.names.count)
        for name in [
            "expired", "not-yet-valid", "wrong-host", "untrusted", "handshake-reset", "handshake-hang",
            "close-without-notify",
        ] {
            let url = try #require(self.urls[name])
            #expect(url.hasPrefix("https://localhost:"))
            #expect(lines.contains("faultline listening on \(url) (tls fault: \(name))"[...]), "\(lines)")
        }
        for name in ["plain", "auto", "mtls", "tls12"] {
            let url = try #require(self.urls[name])
            #expect(
                lines.contains("faultline listening on \(url)"[...]),
                "no fault named on a listener without one: \(lines)"
            )
        }
    }

    @Test func theCAPathIsPrintedAndCurlTrustsIt() throws {
        #expect(self.server.standardOutput.contains("faultline CA certificate: \(self.caFile)\n"))
        #expect(self.urls["auto"]?.hasPrefix("https://localhost:") == true)
        let result = try Curl.run(["-s", "--cacert", self.caFile, self.url("auto")])
        #expect(result.exitCode == 0, "\(result.stderr)")
        #expect(result.stdout == "secure\n")
        let byAddress = try Curl.run([
            "-s", "--cacert", self.caFile, self.url("auto").replacingOccurrences(of: "localhost", with: "127.0.0.1"),
        ])
        #expect(byAddress.stdout == "secure\n", "the certificate covers 127.0.0.1 too")
        let untrusting = try Curl.run(["-s", self.url("auto")])
        #expect(untrusting.exitCode == 60, "without the CA, curl refuses the certificate")
    }

    @Test func certificateFaultsAreRefusedForExactlyTheirReason() throws {
        for name in ["expired", "not-yet-valid", "wrong-host", "untrusted"] {
            let result = try Curl.run(["-sS", "--cacert", self.caFile, self.url(name)])
            #expect(result.exitCode == 60, "\(name): \(result.stderr)")
        }
        let expired = try Curl.run(["-sS", "--cacert", self.caFile, self.url("expired")])
        #expect(expired.stderr.contains("expired"), "\(expired.stderr)")
        let wrongHost = try Curl.run(["-sS", "--cacert", self.caFile, self.url("wrong-host")])
        #expect(wrongHost.stderr.contains("localhost"), "\(wrongHost.stderr)")
        // With verification off the faulted listeners still serve the rules.
        #expect(try Curl.run(["-s", "-k", self.url("expired")]).stdout == "secure\n")
    }

    @Test func handshakeFaults() throws {
        #expect(try Curl.run(["-s", "--cacert", self.caFile, self.url("handshake-reset")]).exitCode == 35)
        #expect(try Curl.run(["-s", "-m", "1", "--cacert", self.caFile, self.url("handshake-hang")]).exitCode == 28)
        let unnotified = try Curl.run(["-s", "--cacert", self.caFile, self.url("close-without-notify")])
        #expect(unnotified.stdout == "secure\n")
    }

    @Test func mutualTLSAcceptsTheClientCertificateAndRefusesNone() throws {
        let certs = self.folder.path("certs")
        let refused = try Curl.run(["-s", "--cacert", "\(certs)/ca.pem", self.url("mtls", "/who")])
        #expect(refused.exitCode != 0, "no client certificate: the handshake fails")
        let accepted = try Curl.run([
            "-s", "--cacert", "\(certs)/ca.pem", "--cert", "\(certs)/client.pem", "--key", "\(certs)/client.key",
            self.url("mtls", "/who"),
        ])
        #expect(accepted.exitCode == 0, "\(accepted.stderr)")
        #expect(accepted.stdout == "hello client\n", "the rule matched the client certificate's subject")
        #expect(try Curl.run(["-s", "--cacert", self.caFile, self.url("auto", "/who")]).stdout == "hello stranger\n")
    }

    @Test func resetOverTLSIsATCPResetNotAnAlert() throws {
        let result = try Curl.run(["-sS", "--cacert", self.caFile, self.url("auto", "/reset")])
        #expect(result.exitCode == 56)
        #expect(result.stderr.contains("Connection reset by peer"), "\(result.stderr)")
    }

    @Test func openSSLShowsTheVersionsAndALPN() throws {
        func sClient(_ name: String, _ extra: [String]) throws -> String {
            let port = String(self.urls[name]?.split(separator: ":").last ?? "")
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments =
                [
                    "openssl", "s_client", "-connect", "127.0.0.1:\(port)", "-servername", "localhost",
                    "-alpn", "http/1.1", "-CAfile", self.caFile,
                ] + extra
            let output = Pipe()
            process.standardInput = FileHandle(forReadingAtPath: "/dev/null")
            process.standardOutput = output
            process.standardError = output
            try process.run()
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return String(decoding: data, as: UTF8.self)
        }
        let modern = try sClient("auto", [])
        #expect(modern.contains("New, TLSv1.3, Cipher is"), "\(modern)")
        #expect(modern.contains("ALPN protocol: http/1.1"), "\(modern)")
        #expect(modern.contains("Verify return code: 0 (ok)"), "\(modern)")
        let older = try sClient("auto", ["-tls1_2"])
        #expect(older.contains("New, TLSv1.2, Cipher is"), "\(older)")
        #expect(older.contains("ALPN protocol: http/1.1"))
        let capped = try sClient("tls12", [])
        #expect(capped.contains("New, TLSv1.2, Cipher is"), "\(capped)")
        #expect(!(try sClient("tls12", ["-tls1_3"])).contains("New, TLSv1.3"), "a 1.2-only listener refuses TLS 1.3")
    }

    @Test func theJournalRecordsTheListenerTheTLSVersionAndTheFaults() throws {
        _ = try Curl.run(["-s", "--cacert", self.caFile, self.url("auto")])
        _ = try Curl.run(["-s", "--cacert", self.caFile, self.url("expired")])
        Thread.sleep(forTimeInterval: 0.3)
        let journal = try Curl.run(["-s", self.url("plain", "/__faultline/journal")])
        let entries = try #require(
            try JSONSerialization.jsonObject(with: Data(journal.stdout.utf8)) as? [[String: Any]]
        )
        let port = String(self.urls["auto"]?.split(separator: ":").last ?? "")
        let secure = try #require(
            entries.last {
                ($0["listener"] as? String)?.hasSuffix(":\(port)") == true && $0["target"] as? String == "/x"
            }
        )
        #expect(secure["tls"] as? String == "TLSv1.3")
        #expect(entries.contains { $0["fault"] as? String == "expired" && $0["outcome"] as? String == "client-closed" })
    }
}

/// User certificates are checked when the scenario loads.
@Suite("TLS certificate files")
struct TLSCertificateFileTests {
    @Test func brokenCertificatesAreErrorsWithTheFileName() throws {
        let folder = try TemporaryFolder()
        let certs = folder.path("certs")
        #expect(try FaultlineProcess.run(["certs", "--out", certs]).status == 0)
        try folder.write("garbage.pem", "not a certificate\n")
        let scenario = try folder.write(
            "bad.yaml",
            """
            version: 1
            listeners:
              - {port: 0, tls: {cert: certs/server.pem, key: certs/client.key}}
              - {port: 0, tls: {cert: certs/server-expired.pem, key: certs/server-expired.key}}
              - {port: 0, tls: {cert: garbage.pem, key: certs/server.key}}
              - {port: 0, tls: {cert: missing.pem, key: certs/server.key}}
              - {port: 0, tls: auto, clientAuth: {ca: garbage.pem}}
              - {port: 0, tls: {fault: expird}}
              - {port: 0, hosts: [api.test]}
            rules: []
            """
        )
        let result = try FaultlineProcess.run(["check", scenario])
        #expect(result.status == 1)
        let lines = result.stderr.split(separator: "\n").map { String($0.dropFirst(scenario.count + 1)) }
        #expect(lines.count == 7, "\(result.stderr)")
        #expect(lines[0] == "3:50: error: The private key in client.key does not match the certificate in server.pem.")
        #expect(lines[1].hasPrefix("4:27: error: The certificate in server-expired.pem expired on "))
        #expect(lines[2].hasPrefix("5:27: error: The certificate file garbage.pem holds no certificate"))
        #expect(lines[3].hasPrefix("6:27: error: The certificate file 'missing.pem' does not exist"))
        #expect(lines[4].hasPrefix("7:43: error: The CA file garbage.pem holds no certificate"))
        #expect(lines[5] == "8:28: error: Unknown TLS fault 'expird'; did you mean 'expired'?")
        #expect(
            lines[6]
                == "9:15: error: 'hosts' applies to a TLS listener; add 'tls: auto' or 'tls: {cert: ..., key: ...}'."
        )
    }

    @Test func certsWritesEveryFile() throws {
        let folder = try TemporaryFolder()
        let result = try FaultlineProcess.run(["certs", "--out", folder.path("c"), "--host", "api.test"])
        #expect(result.status == 0)
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path("c")).sorted()
        var expected = ["ca.key", "ca.pem", "client.key", "client.pem", "server.key", "server.pem"]
        for fault in [
            "expired", "not-yet-valid", "wrong-host", "untrusted", "handshake-hang", "handshake-reset",
            "close-without-notify",
        ] {
            expected += ["server-\(fault).key", "server-\(fault).pem"]
        }
        #expect(files == expected.sorted())
        let verify = Process()
        verify.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        verify.arguments = [
            "openssl", "verify", "-CAfile", folder.path("c/ca.pem"), folder.path("c/server.pem"),
            folder.path("c/client.pem"),
        ]
        verify.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        try verify.run()
        verify.waitUntilExit()
        #expect(verify.terminationStatus == 0, "the server and client certificates chain to the CA")
    }
}
