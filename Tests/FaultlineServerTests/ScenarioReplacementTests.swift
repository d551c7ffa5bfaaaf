import FaultlineCore
import FaultlineServer
import FaultlineTestSupport
import FaultlineTesting
import Foundation
import Testing

/// A replaced scenario's memory is let go: nothing the server keeps (the live scenario, the control, a connection, a
/// decision in flight) holds on to the old rule engine.
@Suite("Replacing the scenario")
struct ScenarioReplacementTests {
    func call(_ port: Int, _ method: String, _ path: String, body: String = "") throws -> RawResponse {
        let client = try RawHTTPClient(port: port)
        try client.send(
            "\(method) \(path) HTTP/1.1\r\nHost: localhost\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
        )
        return try client.readResponse()
    }

    @Test func aReplacedScenariosRuleEngineIsLetGo() async throws {
        try await withServer(
            "version: 1\nrules:\n  - {name: old, path: /old, body: old}\n  - {path: /slow, delay: 200ms, body: slow}\n"
        ) { server in
            weak let old: RuleEngine? = server.engine
            // Used every way first: a match, a 404, a 405, a response in flight on a kept-alive connection.
            #expect(try self.call(server.port, "GET", "/old").text == "old")
            #expect(try self.call(server.port, "GET", "/nowhere").status == 404)
            #expect(try self.call(server.port, "POST", "/__faultline/rules/old/disable").status == 200)
            let slow = try RawHTTPClient(port: server.port)
            try slow.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
            let put = try self.call(
                server.port,
                "PUT",
                "/__faultline/scenario",
                body: "version: 1\nrules:\n  - {path: /new, body: new}\n"
            )
            #expect(put.status == 200)
            #expect(try slow.readResponse().text == "slow", "the request decided before the swap keeps its answer")
            #expect(try self.call(server.port, "GET", "/new").text == "new")
            #expect(await eventually { old == nil }, "the old engine is let go")
        }
    }
}
