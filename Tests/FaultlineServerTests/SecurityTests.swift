import FaultlineCore
import FaultlineServer
import FaultlineTestSupport
import FaultlineTesting
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// What Faultline promises a machine it runs on (docs/security.md), over real sockets: the control API reads no
/// file it should not, a web page cannot drive it, and body files are opened inside their folder, every time.
@Suite("Security: files and the control API")
struct SecurityTests {
    func call(
        _ port: Int,
        _ method: String,
        _ path: String,
        host: String = "127.0.0.1",
        body: String = "",
        headers: [String] = []
    ) throws -> RawResponse {
        let client = try RawHTTPClient(port: port)
        let extra = headers.map { $0 + "\r\n" }.joined()
        try client.send(
            "\(method) \(path) HTTP/1.1\r\nHost: \(host)\r\nContent-Length: \(body.utf8.count)\r\n\(extra)\r\n\(body)"
        )
        return try client.readResponse(bodyExpected: method != "HEAD")
    }

    /// A fresh folder holding a scenario folder (`scenarios/`, with `data/x.bin`) and a secret beside it.
    struct Folders {
        let root: URL
        var scenarios: URL { self.root.appendingPathComponent("scenarios") }
        var secret: URL { self.root.appendingPathComponent("secret.txt") }

        init() throws {
            self.root = FileManager.default.temporaryDirectory.appendingPathComponent(
                "faultline-security-\(UInt64.random(in: 0...UInt64.max))"
            )
            .resolvingSymlinksInPath()
            try FileManager.default.createDirectory(
                at: self.root.appendingPathComponent("scenarios/data"),
                withIntermediateDirectories: true
            )
            try FileManager.default.createDirectory(
                at: self.root.appendingPathComponent("elsewhere"),
                withIntermediateDirectories: true
            )
            try Data("payload".utf8).write(to: self.scenarios.appendingPathComponent("data/x.bin"))
            try Data("top secret".utf8).write(to: self.secret)
            try Data("top secret".utf8).write(to: self.root.appendingPathComponent("elsewhere/x.bin"))
        }

        func remove() { try? FileManager.default.removeItem(at: self.root) }
    }

    // MARK: - 1. The control API reads no file it should not

    @Test func aScenarioPutToTheBuiltInServerCannotNameAnyFile() async throws {
        try await withFaultline(scenario: .builtIn) { server in
            for path in ["etc/shadow", "/etc/passwd", "../../etc/passwd"] {
                let refused = try self.call(
                    server.port,
                    "PUT",
                    "/__faultline/scenario",
                    body: "version: 1\nrules:\n  - {path: /x, bodyFile: \(path)}\n"
                )
                #expect(refused.status == 400, "\(path)")
                #expect(
                    refused.text.hasPrefix(
                        "<control-api>:3:26: error: The body file '\(path)' cannot be used here: the server was started without a scenario file"
                    )
                )
            }
            let certificate =
                "version: 1\nlisteners:\n  - {port: 0, tls: {cert: /etc/ssl/certs/ca-certificates.crt, key: /etc/passwd}}\nrules: []\n"
            let refused = try self.call(server.port, "PUT", "/__faultline/scenario", body: certificate)
            #expect(refused.status == 400)
            #expect(
                refused.text.contains("The certificate file '/etc/ssl/certs/ca-certificates.crt' cannot be used here")
            )
            #expect(
                try self.call(server.port, "GET", "/status/418").status == 418,
                "the built-in scenario still serves"
            )
        }
    }

    @Test func aScenarioPutIsHeldToTheStartingScenariosFolder() async throws {
        let folders = try Folders()
        defer { folders.remove() }
        let file = folders.scenarios.appendingPathComponent("s.yaml")
        try Data("version: 1\nrules:\n  - {path: /x, bodyFile: data/x.bin}\n".utf8).write(to: file)
        try await withFaultline(scenario: .file(file.path)) { server in
            let inside = try self.call(
                server.port,
                "PUT",
                "/__faultline/scenario",
                body: "version: 1\nrules:\n  - {path: /y, bodyFile: data/x.bin}\n"
            )
            #expect(inside.status == 200)
            #expect(try self.call(server.port, "GET", "/y").text == "payload")
            for path in ["../secret.txt", folders.secret.path, "../elsewhere/x.bin"] {
                let refused = try self.call(
                    server.port,
                    "PUT",
                    "/__faultline/scenario",
                    body: "version: 1\nrules:\n  - {path: /z, bodyFile: \(path)}\n"
                )
                #expect(refused.status == 400, "\(path)")
                #expect(refused.text.contains("lies outside the scenario's folder"))
            }
            let certificate =
                "version: 1\nlisteners:\n  - {port: 0, tls: {cert: ../secret.txt, key: ../secret.txt}}\nrules: []\n"
            let refused = try self.call(server.port, "PUT", "/__faultline/scenario", body: certificate)
            #expect(refused.status == 400)
            #expect(refused.text.contains("The certificate file '../secret.txt' lies outside the scenario's folder"))
        }
    }

    @Test func aScenarioPutThatIsNotUTF8IsRefused() async throws {
        try await withFaultline(scenario: .builtIn) { server in
            let client = try RawHTTPClient(port: server.port)
            let body: [UInt8] =
                Array("version: 1\nrules:\n  - {path: /x, body: \"".utf8) + [0xFF, 0xFE] + Array("\"}\n".utf8)
            try client.send(
                Array(
                    "PUT /__faultline/scenario HTTP/1.1\r\nHost: localhost\r\nContent-Length: \(body.count)\r\n\r\n"
                        .utf8
                ) + body
            )
            let response = try client.readResponse()
            #expect(response.status == 400)
            #expect(response.text == "<control-api>:1:1: error: The scenario is not UTF-8 text.\n")
        }
    }

    // MARK: - 2. Browsers cannot drive the control API

    @Test func aReboundHostOrAnotherSitesOriginCannotResetTheServer() async throws {
        try await withFaultline(scenario: .builtIn) { server in
            _ = try self.call(server.port, "GET", "/get")
            let rebound = try self.call(server.port, "POST", "/__faultline/reset", host: "evil.example")
            #expect(rebound.status == 403)
            #expect(rebound.text.contains("not for 'evil.example'"))
            #expect(
                try self.call(server.port, "GET", "/__faultline/journal", host: "evil.example:\(server.port)").status
                    == 403
            )
            let crossSite = try self.call(
                server.port,
                "POST",
                "/__faultline/reset",
                host: "127.0.0.1:\(server.port)",
                headers: ["Origin: http://evil.example"]
            )
            #expect(crossSite.status == 403)
            #expect(server.journal().count == 1, "nothing was reset")
            #expect(
                try self.call(server.port, "POST", "/__faultline/reset", host: "localhost:\(server.port)").status == 200
            )
            #expect(
                try self.call(
                    server.port,
                    "POST",
                    "/__faultline/reset",
                    headers: ["Origin: http://localhost:\(server.port)"]
                ).status == 200
            )
        }
    }

    // MARK: - 3. Files are opened safely, every time

    @Test func aBodyFileSwappedForASymlinkAfterLoadingIsNotFollowedOut() async throws {
        let folders = try Folders()
        defer { folders.remove() }
        let yaml = "version: 1\nrules:\n  - {path: /x, bodyFile: data/x.bin}\n"
        try await withFaultline(scenario: .yaml(yaml, baseDirectory: folders.scenarios.path)) { server in
            #expect(try self.call(server.port, "GET", "/x").text == "payload")
            let file = folders.scenarios.appendingPathComponent("data/x.bin")
            try FileManager.default.removeItem(at: file)
            try FileManager.default.createSymbolicLink(at: file, withDestinationURL: folders.secret)
            let swapped = try self.call(server.port, "GET", "/x")
            #expect(swapped.status == 500)
            #expect(!swapped.text.contains("top secret"))
            #expect(swapped.text.contains("leads outside the scenario's folder"))
        }
    }

    @Test func aFolderSwappedForASymlinkAfterLoadingIsNotFollowedOut() async throws {
        let folders = try Folders()
        defer { folders.remove() }
        let yaml = "version: 1\nrules:\n  - {path: /x, bodyFile: data/x.bin}\n"
        try await withFaultline(scenario: .yaml(yaml, baseDirectory: folders.scenarios.path)) { server in
            let data = folders.scenarios.appendingPathComponent("data")
            try FileManager.default.removeItem(at: data)
            try FileManager.default.createSymbolicLink(
                at: data,
                withDestinationURL: folders.root.appendingPathComponent("elsewhere")
            )
            let swapped = try self.call(server.port, "GET", "/x")
            #expect(swapped.status == 500)
            #expect(!swapped.text.contains("top secret"))
        }
    }

    @Test func aFIFOInTheFolderNeitherBlocksNorIsServed() async throws {
        let folders = try Folders()
        defer { folders.remove() }
        let yaml = "version: 1\nrules:\n  - {path: /x, bodyFile: data/x.bin}\n"
        try await withFaultline(scenario: .yaml(yaml, baseDirectory: folders.scenarios.path)) { server in
            let file = folders.scenarios.appendingPathComponent("data/x.bin")
            try FileManager.default.removeItem(at: file)
            #expect(mkfifo(file.path, 0o644) == 0)
            // Two at once: before, each blocked one of the file pool's two threads in open() for good.
            for _ in 0..<3 {
                let answer = try self.call(server.port, "GET", "/x")
                #expect(answer.status == 500)
                #expect(answer.text.contains("is no longer a regular file"))
            }
            #expect(
                try self.call(server.port, "GET", "/__faultline/health").status == 200,
                "the control API still answers"
            )
        }
        // A FIFO is refused when the scenario loads, too.
        #expect(throws: ScenarioError.self) {
            try ScenarioLoader.load(yaml: yaml, name: "s.yaml", baseDirectory: folders.scenarios.path)
        }
    }

    // MARK: - 4. Every connection has a deadline

    @Test func aTLSHandshakeThatNeverStartsIsClosedAfterTheRequestTimeout() async throws {
        let yaml =
            "version: 1\nlimits: {requestTimeout: 1s}\nlisteners:\n  - {port: 0, tls: auto}\nrules:\n  - {path: /, body: ok}\n"
        try await withServer(yaml) { server in
            let silent = try RawHTTPClient(port: server.port)
            let opened = now()
            #expect(try silent.isClosedByServer(within: 20))
            #expect(now() - opened >= 0.9, "not before the request timeout")
            #expect(await eventually { server.journal().contains { $0.fault == "tls-handshake-timeout" } })
            let entry = try #require(server.journal().first { $0.fault == "tls-handshake-timeout" })
            #expect(entry.outcome == .timeout)
            #expect(await eventually { server.server.statistics.openConnections == 0 })
        }
    }

    @Test func aBodyThatStallsAfterItsHeadGets408ThenTheConnectionCloses() async throws {
        let yaml = "version: 1\nlimits: {requestTimeout: 1s}\nrules:\n  - {path: /up, method: POST, body: stored}\n"
        try await withServer(yaml) { server in
            for framing in ["Content-Length: 10\r\n\r\n012", "Transfer-Encoding: chunked\r\n\r\n5\r\nab"] {
                let client = try RawHTTPClient(port: server.port)
                let sent = now()
                try client.send("POST /up HTTP/1.1\r\nHost: 127.0.0.1\r\n\(framing)")
                let response = try client.readResponse()
                #expect(response.statusLine == "HTTP/1.1 408 Request Timeout", "\(framing)")
                #expect(response.header("Connection") == "close")
                #expect(now() - sent >= 0.9)
                #expect(try client.isClosedByServer(within: 10))
            }
            #expect(await eventually { server.journal().count == 2 })
            #expect(server.journal().allSatisfy { $0.status == 408 && $0.outcome == .timeout && $0.rule == nil })
        }
    }
}
