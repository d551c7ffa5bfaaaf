import AsyncHTTPClient
import FaultlineCore
import FaultlineTestSupport
import FaultlineTesting
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import Testing

/// AsyncHTTPClient negotiating HTTP/2 by ALPN, as Swift clients do, against the same rules as HTTP/1.1.
@Suite("HTTP/2 with AsyncHTTPClient")
struct HTTP2ClientTests {
    static let scenario = """
        version: 1
        listeners:
          - {port: 0, tls: auto, http2: true}
        rules:
          - {name: tea, path: /tea, status: 418, body: "short and stout\\n"}
          - {name: slow, path: /slow, delay: 120s, body: late}
          - {name: big, path: /big, bodySize: 300000}
          - {name: cut, path: /cut, bodySize: 300000, fault: {truncate: 1000}}
        """

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

    @Test func theRulesAnswerOverH2AndADelayHoldsOnlyItsStream() async throws {
        try await withFaultline(scenario: .yaml(Self.scenario)) { server in
            let https = try #require(server.httpsURL)
            let ca = try #require(server.caCertificatePEM)
            try await self.withClient(trusting: ca) { client in
                let tea = try await client.execute(HTTPClientRequest(url: "\(https)/tea"), timeout: .seconds(10))
                #expect(tea.version == .http2)
                #expect(tea.status.code == 418)
                #expect(String(buffer: try await tea.body.collect(upTo: 1 << 20)) == "short and stout\n")

                let big = try await client.execute(HTTPClientRequest(url: "\(https)/big"), timeout: .seconds(10))
                #expect(big.version == .http2)
                #expect(try await big.body.collect(upTo: 1 << 20).readableBytes == 300_000)

                // A delayed answer and a quick one on the same connection: the quick one does not wait. The slow one
                // waits two minutes and is cancelled once the quick one is in, so a busy machine that holds the
                // test's tasks back for seconds cannot reorder them.
                let slow = Task {
                    try await client.execute(HTTPClientRequest(url: "\(https)/slow"), timeout: .seconds(300))
                }
                try await Task.sleep(for: .milliseconds(100))
                let quick = try await client.execute(HTTPClientRequest(url: "\(https)/tea"), timeout: .seconds(10))
                #expect(String(buffer: try await quick.body.collect(upTo: 1 << 20)) == "short and stout\n")
                #expect(await eventually { server.journal().filter { $0.rule == "tea" }.count == 2 })
                slow.cancel()
                _ = await slow.result

                // A truncated body on HTTP/2 is a stream reset: the client sees an error, not a short success.
                await #expect(throws: (any Error).self) {
                    let cut = try await client.execute(HTTPClientRequest(url: "\(https)/cut"), timeout: .seconds(10))
                    _ = try await cut.body.collect(upTo: 1 << 20)
                }
            }
            #expect(await eventually { server.journal().count == 5 })
            let journal = server.journal()
            #expect(journal.allSatisfy { $0.version == "HTTP/2" && $0.stream != nil })
            let slow = try #require(journal.first { $0.rule == "slow" })
            let quick = try #require(journal.last { $0.rule == "tea" })
            #expect(slow.connection == quick.connection, "one connection, two streams")
            #expect(quick.receivedAt < slow.finishedAt, "the quick request came while the slow one waited")
            #expect(quick.finishedAt < slow.finishedAt, "and was answered meanwhile")
            #expect(slow.outcome == .clientClosed, "the slow one ended when the client cancelled it")
            let cut = try #require(journal.first { $0.rule == "cut" })
            #expect(cut.outcome == .reset)
            #expect(cut.bodyBytesSent == 1000)
        }
    }
}
