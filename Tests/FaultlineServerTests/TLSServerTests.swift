import AsyncHTTPClient
import FaultlineCore
import FaultlineServer
import FaultlineTestSupport
import FaultlineTesting
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import Testing

/// The same rules over TLS as over plaintext, with AsyncHTTPClient trusting the generated CA.
@Suite("Rules over TLS with AsyncHTTPClient")
struct TLSServerTests {
    static let scenario = """
        version: 1
        listeners:
          - {port: 0}
          - {port: 0, tls: auto}
        rules:
          - {path: /status, status: 418, body: "short and stout\\n"}
          - {path: /slow, delay: 300ms, body: late}
          - {path: /big, bodySize: 100000}
          - {path: /reset, fault: reset}
          - {path: /truncate, bodySize: 1000, fault: {truncate: 10}}
        """

    /// An AsyncHTTPClient that trusts only `caPEM`.
    func withClient<T>(trusting caPEM: String, _ body: (HTTPClient) async throws -> T) async throws -> T {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates([try NIOSSLCertificate(bytes: Array(caPEM.utf8), format: .pem)])
        let client = HTTPClient(
            eventLoopGroupProvider: .singleton,
            configuration: HTTPClient.Configuration(tlsConfiguration: tls)
        )
        do {
            let result = try await body(client)
            try await client.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    func get(
        _ client: HTTPClient,
        _ url: String,
        headers: [(String, String)] = []
    ) async throws -> (HTTPClientResponse, [UInt8]) {
        var request = HTTPClientRequest(url: url)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        let response = try await client.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 10 << 20)
        return (response, Array(buffer: body))
    }

    @Test func theRulesBehaveTheSameOverTLS() async throws {
        try await withFaultline(scenario: .yaml(Self.scenario)) { server in
            let https = try #require(server.httpsURL)
            #expect(https.hasPrefix("https://localhost:"))
            let ca = try #require(server.caCertificatePEM)
            try await self.withClient(trusting: ca) { client in
                let (status, statusBody) = try await self.get(client, "\(https)/status")
                #expect(status.status.code == 418)
                #expect(String(decoding: statusBody, as: UTF8.self) == "short and stout\n")

                let start = ContinuousClock.now
                let (slow, slowBody) = try await self.get(client, "\(https)/slow")
                #expect(slow.status == .ok && slowBody == Array("late".utf8))
                #expect(ContinuousClock.now - start >= .milliseconds(300))

                let (whole, wholeBody) = try await self.get(client, "\(https)/big")
                #expect(whole.headers.first(name: "accept-ranges") == "bytes")
                #expect(wholeBody == GeneratedBytes(key: 0x4661_756C_746C_696E).bytes(offset: 0, count: 100_000))
                let (range, rangeBody) = try await self.get(
                    client,
                    "\(https)/big",
                    headers: [("Range", "bytes=99990-")]
                )
                #expect(range.status == .partialContent)
                #expect(rangeBody == Array(wholeBody[99_990...]))

                await #expect(throws: (any Error).self) { _ = try await self.get(client, "\(https)/reset") }
                await #expect(throws: (any Error).self) { _ = try await self.get(client, "\(https)/truncate") }
            }
            #expect(await eventually { server.journal().contains { $0.target == "/truncate" } })
            let journal = server.journal()
            #expect(journal.filter { $0.target == "/status" }.first?.tls == "TLSv1.3")
            #expect(journal.first { $0.target == "/reset" }?.outcome == .reset)
            #expect(journal.first { $0.target == "/truncate" }?.outcome == .dropped)
        }
    }

    @Test func bodyFilesGoThroughMemoryOverTLS() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "faultline-tls-\(UInt64.random(in: 0...UInt64.max))"
        )
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let content = (0..<700_000).map { UInt8(truncatingIfNeeded: $0 &* 13) }
        try Data(content).write(to: directory.appendingPathComponent("file.bin"))
        let yaml = "version: 1\nlisteners:\n  - {port: 0, tls: auto}\nrules:\n  - {path: /file, bodyFile: file.bin}\n"
        try await withFaultline(scenario: .yaml(yaml, baseDirectory: directory.path)) { server in
            let https = try #require(server.httpsURL)
            try await self.withClient(trusting: try #require(server.caCertificatePEM)) { client in
                let (response, body) = try await self.get(client, "\(https)/file")
                #expect(response.status == .ok)
                #expect(body == content)
                let (part, partBody) = try await self.get(
                    client,
                    "\(https)/file",
                    headers: [("Range", "bytes=300000-300009")]
                )
                #expect(part.status == .partialContent)
                #expect(partBody == Array(content[300_000...300_009]))
            }
        }
    }
}

@Suite("Handshake faults while the server stops")
struct HandshakeFaultShutdownTests {
    @Test func aHangingHandshakeDoesNotHoldUpShutdown() async throws {
        let scenario = try ScenarioLoader.load(
            yaml:
                "version: 1\nlisteners:\n  - {port: 0, tls: {fault: handshake-hang}}\nrules:\n  - {path: /, body: ok}\n",
            name: "hang.yaml",
            baseDirectory: "/tmp"
        )
        let control = ServerControl(
            live: LiveScenario(RuleEngine(scenario: scenario)),
            source: .init(yaml: "", baseDirectory: "/tmp")
        )
        let server = try await FaultlineServer.start(
            control: control,
            configuration: FaultlineServer.Configuration(listeners: scenario.listeners, eventLoopThreads: 1)
        )
        let client = try RawHTTPClient(port: server.listeners[0].port)
        try client.send([0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x00])
        #expect(await eventually { server.statistics.openConnections == 1 })
        let started = ContinuousClock.now
        await server.shutdown(gracePeriod: .seconds(30))
        // A generous bound: without the quiesce the wait is the whole 30 s grace period.
        #expect(ContinuousClock.now - started < .seconds(15))
        #expect(try client.isClosedByServer(within: 5))
        let entry = try #require(control.recorder.journal.entries().last)
        #expect(entry.fault == "handshake-hang")
        #expect(entry.outcome == .dropped)
    }
}
