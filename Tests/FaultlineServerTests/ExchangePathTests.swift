import FaultlineCore
import FaultlineTestSupport
import FaultlineTesting
import Foundation
import Testing

/// What the reshaped exchange path promises over real sockets.
@Suite("Exchange path over real sockets")
struct ExchangePathTests {
    func get(_ port: Int, _ target: String, headers: [String] = []) throws -> RawResponse {
        let client = try RawHTTPClient(port: port)
        try client.send("GET \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers.map { $0 + "\r\n" }.joined() + "\r\n")
        return try client.readResponse()
    }

    @Test func aDelayedAnswerIsDatedWhenItIsSent() async throws {
        try await withServer("version: 1\nrules:\n  - {path: /late, delay: 2s, body: late}\n") { server in
            let sent = Date().timeIntervalSince1970
            let response = try self.get(server.port, "/late")
            let date = try #require(response.header("Date").flatMap(HTTPDate.parse))
            // nginx dates a response when it makes it: two seconds after the request, not when the request came.
            #expect(date >= Int64(sent) + 2, "Date \(response.header("Date") ?? "-") for a request sent at \(sent)")
            #expect(await eventually { !server.journal().isEmpty })
            let entry = try #require(server.journal().first)
            #expect(
                entry.responseHeaders.first(named: "Date") == response.header("Date"),
                "the journal shows the Date sent"
            )
        }
    }

    @Test func theBuiltIn206HasABodyAndItsContentRange() async throws {
        try await withFaultline(scenario: .builtIn) { server in
            let whole = try self.get(server.port, "/status/206")
            #expect(whole.statusLine == "HTTP/1.1 206 Partial Content")
            #expect(whole.header("Content-Range") == "bytes 0-1023/1024")
            #expect(whole.header("Content-Length") == "1024")
            #expect(whole.body.count == 1024)
            let part = try self.get(server.port, "/status/206", headers: ["Range: bytes=10-19"])
            #expect(part.header("Content-Range") == "bytes 10-19/1024")
            #expect(part.body.count == 10)
        }
    }

    /// A client that has its answer and then asks the control API (which may run on another event loop) finds the
    /// exchange in the journal: the control API waits for every loop to finish what it is doing.
    @Test func theJournalHoldsEveryAnswerAClientAlreadyHas() async throws {
        try await withServer("version: 1\nrules:\n  - {path: /x, body: x}\n", threads: 2) { server in
            for round in 1...150 {
                let client = try RawHTTPClient(port: server.port)
                try client.send("GET /x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                _ = try client.readResponse()
                let health = try self.get(server.port, "/__faultline/journal?limit=1")
                let entries = try #require(
                    try JSONSerialization.jsonObject(with: Data(health.body)) as? [[String: Any]]
                )
                #expect(entries.first?["id"] as? Int == round, "round \(round)")
                if entries.first?["id"] as? Int != round { break }
            }
        }
    }
}
