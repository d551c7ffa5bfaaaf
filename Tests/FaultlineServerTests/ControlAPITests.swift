import AsyncHTTPClient
import FaultlineCore
import FaultlineTestSupport
import FaultlineTesting
import Foundation
import NIOCore
import NIOHTTP1
import Testing

@testable import FaultlineServer

/// The control API over real sockets: each endpoint, reloads that keep the old scenario when the new one is bad,
/// resets that close what waits, and who may use it.
@Suite("Control API")
struct ControlAPITests {
    static let scenario = """
        version: 1
        rules:
          - {name: outage, path: /pay, status: 503, retryAfter: 1, enabled: false}
          - {name: pay, path: /pay, body: paid}
          - {name: slow, path: /slow, delay: 30s}
          - {name: hang, path: /hang, fault: hang}
        expect:
          - {rule: pay, count: {min: 1}}
          - {rule: outage, never: true}
        """

    func call(
        _ port: Int,
        _ method: String,
        _ path: String,
        body: String = "",
        headers: [String] = []
    ) throws -> RawResponse {
        let client = try RawHTTPClient(port: port)
        let extra = headers.map { $0 + "\r\n" }.joined()
        try client.send(
            "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: \(body.utf8.count)\r\n\(extra)\r\n\(body)"
        )
        return try client.readResponse(bodyExpected: method != "HEAD")
    }

    @Test func switchesAnOutageOnAndOff() async throws {
        try await withFaultline(scenario: .yaml(Self.scenario)) { server in
            #expect(try self.call(server.port, "GET", "/pay").text == "paid")
            let enabled = try self.call(server.port, "POST", "/__faultline/rules/outage/enable")
            #expect(enabled.text == "{\"rule\":\"outage\",\"enabled\":true,\"rules\":1}\n")
            #expect(try self.call(server.port, "GET", "/pay").status == 503)
            _ = try self.call(server.port, "POST", "/__faultline/rules/outage/disable")
            #expect(try self.call(server.port, "GET", "/pay").status == 200)
            #expect(try self.call(server.port, "POST", "/__faultline/rules/nothing/enable").status == 404)
            #expect(try self.call(server.port, "GET", "/__faultline/rules/outage/enable").status == 405)
        }
    }

    @Test func aBadScenarioIsRefusedAndTheOldOneKeepsServing() async throws {
        try await withFaultline(scenario: .yaml(Self.scenario)) { server in
            #expect(try self.call(server.port, "GET", "/__faultline/scenario").text == Self.scenario)
            let refused = try self.call(
                server.port,
                "PUT",
                "/__faultline/scenario",
                body: "version: 1\nrules:\n  - {path: /pay, stauts: 500}\n"
            )
            #expect(refused.status == 400)
            #expect(
                refused.text == "<control-api>:3:18: error: Unknown key 'stauts' in a rule; did you mean 'status'?\n"
            )
            #expect(try self.call(server.port, "GET", "/pay").text == "paid", "the old rules still answer")

            let loaded = try self.call(
                server.port,
                "PUT",
                "/__faultline/scenario",
                body: "version: 1\nrules:\n  - {path: /pay, status: 500}\n"
            )
            #expect(loaded.text == "{\"loaded\":true,\"rules\":1}\n")
            #expect(try self.call(server.port, "GET", "/pay").status == 500)
            #expect(
                try self.call(server.port, "GET", "/__faultline/scenario").text
                    == "version: 1\nrules:\n  - {path: /pay, status: 500}\n"
            )
        }
    }

    @Test func resetStartsOverAndClosesWhatWaits() async throws {
        try await withFaultline(
            scenario: .yaml(
                "version: 1\nrules:\n  - {path: /once, times: 1, status: 503}\n  - {path: /once}\n  - {name: hang, path: /hang, fault: hang}\n  - {name: slow, path: /slow, delay: 30s}\n"
            )
        ) { server in
            #expect(try self.call(server.port, "GET", "/once").status == 503)
            #expect(try self.call(server.port, "GET", "/once").status == 200)
            let hanging = try RawHTTPClient(port: server.port)
            try hanging.send("GET /hang HTTP/1.1\r\nHost: x\r\n\r\n")
            let slow = try RawHTTPClient(port: server.port)
            try slow.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(await eventually { server.server.statistics.pendingDelays == 1 })
            #expect(try self.call(server.port, "POST", "/__faultline/reset").text == "{\"reset\":true}\n")
            #expect(try hanging.isClosedByServer(within: 20), "the hung response is closed")
            #expect(try slow.isClosedByServer(within: 20), "the delayed response is closed")
            #expect(try self.call(server.port, "GET", "/once").status == 503, "times counts again from the reset")
            // The exchanges the reset closed belong to the case before it: the fresh journal has only what came after.
            #expect(
                await eventually { server.journal().map(\.target) == ["/once"] },
                "\(server.journal().map(\.target))"
            )
        }
    }

    @Test func journalExpectationsMetricsAndHealth() async throws {
        try await withFaultline(scenario: .yaml(Self.scenario)) { server in
            _ = try self.call(server.port, "GET", "/pay")
            _ = try self.call(server.port, "GET", "/pay")
            let journal = try self.call(server.port, "GET", "/__faultline/journal?rule=pay&limit=1")
            let entries = try #require(try JSONSerialization.jsonObject(with: Data(journal.body)) as? [[String: Any]])
            #expect(entries.count == 1)
            #expect(entries[0]["id"] as? Int == 2)
            #expect(try self.call(server.port, "GET", "/__faultline/journal?since=1").text.contains("\"id\":2"))
            #expect(try self.call(server.port, "GET", "/__faultline/journal?limit=x").status == 400)

            let verdict = try self.call(server.port, "GET", "/__faultline/expectations")
            let parsed = try #require(try JSONSerialization.jsonObject(with: Data(verdict.body)) as? [String: Any])
            #expect(parsed["met"] as? Bool == true)
            #expect((parsed["results"] as? [[String: Any]])?.count == 2)

            let metrics = try self.call(server.port, "GET", "/__faultline/metrics").text
            #expect(
                metrics.contains(#"faultline_requests_total{rule="pay",status="200",outcome="completed"} 2"#),
                "\(metrics)"
            )
            #expect(metrics.contains("faultline_open_connections"))
            // Read when asked: once the earlier callers' connections are closed, only the one asking is open.
            #expect(
                await eventually {
                    ((try? self.call(server.port, "GET", "/__faultline/metrics").text) ?? "").contains(
                        "\nfaultline_open_connections 1.0\n"
                    )
                }
            )
            #expect(try self.call(server.port, "GET", "/__faultline/health").status == 200)

            #expect(try self.call(server.port, "DELETE", "/__faultline/journal").status == 204)
            #expect(try self.call(server.port, "GET", "/__faultline/journal").text == "[]\n")
            #expect(server.journal().isEmpty, "control requests are never journaled")
            #expect(try self.call(server.port, "GET", "/__faultline/nothing").status == 404)
        }
    }

    @Test func onlyLoopbackClientsOrTheTokenHolder() throws {
        let control = ServerControl(
            live: LiveScenario(
                RuleEngine(scenario: try ScenarioLoader.load(yaml: Self.scenario, name: "s", baseDirectory: "/"))
            ),
            source: .init(yaml: Self.scenario, baseDirectory: "/")
        )
        let health = IncomingRequest(method: "GET", target: "/__faultline/health")
        let remote = try SocketAddress(ipAddress: "10.1.2.3", port: 40000)
        let local = try SocketAddress(ipAddress: "127.0.0.1", port: 40000)
        #expect(
            ControlAPI.respond(
                to: health,
                body: [],
                remoteAddress: remote,
                control: control,
                statistics: ServerStatistics()
            ).status == 403
        )
        #expect(
            ControlAPI.respond(
                to: health,
                body: [],
                remoteAddress: local,
                control: control,
                statistics: ServerStatistics()
            ).status == 200
        )
        #expect(try SocketAddress(ipAddress: "::1", port: 1).isLoopback)
        #expect(try SocketAddress(ipAddress: "::ffff:127.0.0.1", port: 1).isLoopback)
        #expect(try !SocketAddress(ipAddress: "::ffff:10.0.0.1", port: 1).isLoopback)

        let guarded = ServerControl(live: control.live, source: control.scenarioSource, adminToken: "s3cret")
        #expect(
            ControlAPI.respond(
                to: health,
                body: [],
                remoteAddress: local,
                control: guarded,
                statistics: ServerStatistics()
            ).status == 401,
            "the token is asked of loopback clients too"
        )
        var withToken = health
        withToken.headers = [HeaderField("Authorization", "Bearer s3cret")]
        #expect(
            ControlAPI.respond(
                to: withToken,
                body: [],
                remoteAddress: remote,
                control: guarded,
                statistics: ServerStatistics()
            ).status == 200
        )
        withToken.headers = [HeaderField("Authorization", "Bearer wrong")]
        #expect(
            ControlAPI.respond(
                to: withToken,
                body: [],
                remoteAddress: remote,
                control: guarded,
                statistics: ServerStatistics()
            ).status == 401
        )
    }
}

/// The testing library as a Swift test uses it, with AsyncHTTPClient as the client under test.
@Suite("FaultlineTesting with AsyncHTTPClient")
struct TestingLibraryTests {
    @Test func aClientThatRetriesMeetsTheExpectations() async throws {
        let scenario = """
            version: 1
            rules:
              - {name: busy, path: /api/orders, times: 2, status: 503, retryAfter: 1}
              - {name: orders, path: /api/orders, json: {orders: []}}
            expect:
              - {rule: busy, count: 2, honorsRetryAfter: true}
              - {rule: orders, count: 1}
            """
        try await withFaultline(scenario: .yaml(scenario)) { server in
            let client = HTTPClient(eventLoopGroupProvider: .singleton)
            defer { _ = client.shutdown() }
            // A client that honours Retry-After.
            var status: UInt = 0
            for _ in 0..<5 {
                let response = try await client.execute(
                    HTTPClientRequest(url: "\(server.url)/api/orders"),
                    timeout: .seconds(5)
                )
                status = response.status.code
                _ = try await response.body.collect(upTo: 1 << 20)
                guard status == 503 else { break }
                let wait = Double(response.headers.first(name: "retry-after") ?? "1") ?? 1
                try await Task.sleep(for: .milliseconds(Int(wait * 1000) + 50))
            }
            #expect(status == 200)
            try server.verify()
            #expect(server.journal().map(\.status) == [503, 503, 200])
        }
    }

    @Test func anImpatientClientFailsVerifyWithAReport() async throws {
        // Both rules carry one name, so the expectation follows the client from the 503 to the retry.
        let scenario = """
            version: 1
            rules:
              - {name: orders, path: /x, times: 1, status: 503, retryAfter: 60}
              - {name: orders, path: /x}
            expect:
              - {rule: orders, honorsRetryAfter: true, count: 2}
            """
        try await withFaultline(scenario: .yaml(scenario)) { server in
            let client = HTTPClient(eventLoopGroupProvider: .singleton)
            defer { _ = client.shutdown() }
            for _ in 0..<2 {
                let response = try await client.execute(HTTPClientRequest(url: "\(server.url)/x"), timeout: .seconds(5))
                _ = try await response.body.collect(upTo: 1 << 20)
            }
            do throws(ExpectationFailure) {
                try server.verify()
                Issue.record("a client that ignores Retry-After must fail verify()")
            } catch {
                #expect(error.description.contains("FAIL orders honorsRetryAfter: Request 2 came"))
                #expect(error.description.contains("ok   orders count: 2 requests; expected exactly 2."))
            }
        }
    }
}
