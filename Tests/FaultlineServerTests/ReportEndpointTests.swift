import FaultlineCore
import FaultlineTestSupport
import FaultlineTesting
import Foundation
import Testing

/// The HTML report from a running server: `report()` in FaultlineTesting and `GET /__faultline/report`.
@Suite("The report of a running server")
struct ReportEndpointTests {
    static let scenario = """
        version: 1
        name: storm
        rules:
          - {name: orders, path: /orders, times: 1, status: 503, retryAfter: 5}
          - {name: orders, path: /orders, body: ok}
        expect:
          - {rule: orders, honorsRetryAfter: true}
        """

    func get(_ port: Int, _ path: String, method: String = "GET") throws -> RawResponse {
        let client = try RawHTTPClient(port: port)
        try client.send("\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        return try client.readResponse(bodyExpected: method != "HEAD")
    }

    @Test func theReportShowsTheJournalSoFarAndTheVerdict() async throws {
        try await withFaultline(scenario: .yaml(Self.scenario)) { server in
            #expect(try self.get(server.port, "/orders").status == 503)
            #expect(try self.get(server.port, "/orders").status == 200)
            #expect(await eventually { server.journal().count == 2 })
            let html = server.report()
            #expect(html.hasPrefix("<!DOCTYPE html>\n"))
            #expect(html.contains("<title>FAIL · Faultline report: storm</title>"))
            #expect(html.contains("class=\"m o-completed\" data-id=\"1\""))
            #expect(html.contains("class=\"m o-completed early\" data-id=\"2\""), "the second came inside the 5 s band")
            #expect(html.contains("<g class=\"band\" data-after=\"1\">"))

            let served = try self.get(server.port, "/__faultline/report")
            #expect(served.status == 200)
            #expect(served.headers.first { $0.name == "Content-Type" }?.value == "text/html; charset=utf-8")
            let page = String(decoding: served.body, as: UTF8.self)
            #expect(page.contains("data-id=\"2\""))
            #expect(!page.contains("data-id=\"3\""), "the control API is not journaled")
            let head = try self.get(server.port, "/__faultline/report", method: "HEAD")
            #expect(head.status == 200)
            #expect(head.body.isEmpty)
            #expect(server.journal().count == 2)
        }
    }

    @Test func theTimelineCountsFromTheLastReset() async throws {
        try await withFaultline(scenario: .yaml(Self.scenario)) { server in
            _ = try self.get(server.port, "/orders")
            #expect(await eventually { server.journal().count == 1 })
            try await Task.sleep(for: .seconds(1))
            server.reset()
            _ = try self.get(server.port, "/orders")
            #expect(await eventually { server.journal().count == 1 })
            let html = server.report()
            #expect(!html.contains("data-id=\"1\""), "a reset clears the journal")
            // The request after the reset is timed from the reset, not from the load a second before it.
            let cell = try #require(html.range(of: "<tr id=\"e2\"><td>2</td><td>"))
            let arrived = Double(html[cell.upperBound...].prefix { $0 != "<" }) ?? -1
            #expect(arrived >= 0 && arrived < 1, "arrived \(arrived) s after the reset")
        }
    }
}
