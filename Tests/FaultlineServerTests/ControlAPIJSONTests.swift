import FaultlineCore
import FaultlineTestSupport
import FaultlineTesting
import Foundation
import Testing

/// Every JSON text the control API sends parses, whatever names, paths and messages it carries.
@Suite("Control API JSON")
struct ControlAPIJSONTests {
    static let scenario = #"""
        version: 1
        rules:
          - {name: 'he said "hi" \ and left', path: '/q', body: ok}
          - {name: "tab\there", path: /t, status: 503, retryAfter: 1}
        expect:
          - {rule: 'he said "hi" \ and left', count: {min: 5}}
          - {rule: "tab\there", honorsRetryAfter: true}
        """#

    func call(_ port: Int, _ method: String, _ target: String) throws -> RawResponse {
        let client = try RawHTTPClient(port: port)
        try client.send("\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n")
        return try client.readResponse()
    }

    func object(_ response: RawResponse) throws -> [String: Any] {
        #expect(response.header("Content-Type") == "application/json")
        let parsed = try JSONSerialization.jsonObject(with: Data(response.body))
        return try #require(parsed as? [String: Any], "\(response.text)")
    }

    @Test func answersNamingHostileTextStillParse() async throws {
        try await withFaultline(scenario: .yaml(Self.scenario)) { server in
            let missing = try self.call(server.port, "GET", "/__faultline/a%22b")
            #expect(missing.status == 404)
            #expect(
                try self.object(missing)["error"] as? String
                    == "no control endpoint /__faultline/a\"b; see the README's control API section"
            )

            let wrongMethod = try self.call(server.port, "DELETE", "/__faultline/health")
            #expect(wrongMethod.status == 405)
            _ = try self.object(wrongMethod)

            let enabled = try self.call(
                server.port,
                "POST",
                "/__faultline/rules/he%20said%20%22hi%22%20%5C%20and%20left/disable"
            )
            #expect(enabled.status == 200)
            let answer = try self.object(enabled)
            #expect(answer["rule"] as? String == #"he said "hi" \ and left"#)
            #expect(answer["enabled"] as? Bool == false)

            let unknown = try self.call(server.port, "POST", "/__faultline/rules/%22%0A/enable")
            #expect(unknown.status == 404)
            #expect(try self.object(unknown)["error"] as? String == "no rule is called '\"\n'")

            let badSince = try self.call(server.port, "GET", "/__faultline/journal?since=%22")
            #expect(badSince.status == 400)
            _ = try self.object(badSince)

            _ = try self.call(server.port, "GET", "/t")
            let verdict = try self.object(try self.call(server.port, "GET", "/__faultline/expectations"))
            let results = try #require(verdict["results"] as? [[String: Any]])
            #expect(results.map { $0["rule"] as? String } == [#"he said "hi" \ and left"#, "tab\there"])

            let health = try self.object(try self.call(server.port, "GET", "/__faultline/health"))
            #expect(health["status"] as? String == "ok")
            #expect(health["rules"] as? Int == 2)

            let journal = try self.call(server.port, "GET", "/__faultline/journal")
            let entries = try #require(try JSONSerialization.jsonObject(with: Data(journal.body)) as? [[String: Any]])
            #expect(entries.map { $0["rule"] as? String } == ["tab\there"])
        }
    }
}
