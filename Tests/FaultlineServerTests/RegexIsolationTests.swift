import FaultlineCore
import FaultlineTestSupport
import FaultlineTesting
import Foundation
import Testing

/// A runaway `pathRegex` costs its own request a bounded amount of work and holds up no other connection.
@Suite("Regex isolation", .serialized)
struct RegexIsolationTests {
    static let scenario = """
        version: 1
        rules:
          - {name: slow, pathRegex: '^/slow/(a+)+$', body: slow}
          - {name: fast, path: /fast, body: fast}
        """

    /// One event loop (both connections share it) and two (they may not): either way the request to the other
    /// rule is taken up at once. The delay is read from the server's own journal (when it took the request up) against
    /// when the client sent it, so the test measures the server, not the test's own threads.
    @Test(arguments: [1, 2])
    func aBacktrackingRegexDoesNotDelayAnotherRule(threads: Int) async throws {
        try await withServer(Self.scenario, threads: threads) { server in
            let crafted = "/slow/" + String(repeating: "a", count: 40) + "b"
            let attacker = try RawHTTPClient(port: server.port)
            let victim = try RawHTTPClient(port: server.port)
            var sentAt: [Double] = []
            for _ in 0..<10 {
                // Without a budget this request would hold its event loop (and, before, the engine's lock) for
                // longer than the age of the universe.
                try attacker.send("GET \(crafted) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                sentAt.append(Date().timeIntervalSince1970)
                try victim.send("GET /fast HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                #expect(try victim.readResponse().text == "fast")
                let missed = try attacker.readResponse()
                #expect(missed.status == 404)
                #expect(missed.text.contains("gave up on this path"))
            }
            #expect(await eventually { server.journal().count == 20 })
            let taken = server.journal().filter { $0.rule == "fast" }.map(\.receivedAt)
            #expect(taken.count == 10)
            let delays = zip(taken, sentAt).map { $0 - $1 }
            #expect(
                delays.allSatisfy { $0 < 0.1 },
                "requests to /fast were taken up after \(delays.map { Int($0 * 1000) }) ms"
            )
            #expect(
                server.journal().filter { $0.rule == nil }.allSatisfy { $0.regexGaveUp == ["slow"] && $0.status == 404 }
            )
        }
    }
}
