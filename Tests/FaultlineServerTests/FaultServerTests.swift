import FaultlineCore
import FaultlineServer
import FaultlineTestSupport
import FaultlineTesting
import Foundation
import Testing

/// Each fault as a client on a raw socket sees it, and the journal's record of it.
@Suite("Faults over real sockets")
struct FaultServerTests {
    static let scenario = """
        version: 1
        seed: 7
        rules:
          - {name: drop, path: /drop, fault: drop}
          - {name: reset, path: /reset, fault: reset}
          - {name: hang, path: /hang, fault: hang}
          - {name: hang-timed, path: /hang-timed, fault: {hang: 300ms}}
          - {name: truncate, path: /truncate, bodySize: 100, fault: {truncate: 10}}
          - {name: reset-after, path: /reset-after, bodySize: 100000, fault: {resetAfter: 1000}}
          - {name: garbage, path: /garbage, fault: garbage}
          - {name: bad-chunk, path: /bad-chunk, body: hello, fault: bad-chunk}
          - {name: bad-status, path: /bad-status, fault: bad-status}
          - {name: slow-headers, path: /slow-headers, body: done, fault: {slowHeaders: 1s}}
          - {name: body-delay, path: /body-delay, body: late, bodyDelay: 600ms}
          - {name: throttle, path: /throttle, bodySize: 40KiB, throttle: 20KiB/s}
          - {name: chunked, path: /chunked, bodySize: 10000, chunked: true, chunkSize: 4096}
          - {name: layered, path: /layered, body: "hello", headers: {Transfer-Encoding: "gzip, chunked"}}
          - {name: close-delimited, path: /gzip, body: "hello", headers: {Transfer-Encoding: gzip}}
          - {name: slow, path: /slow, delay: 30s}
          - {name: ok, path: /ok, body: ok}
        """

    func send(_ client: RawHTTPClient, _ path: String) throws {
        try client.send("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    }

    /// The journal's entry for the only request to `rule`, once it is there.
    func entry(_ server: RunningFaultline, rule: String) async -> JournalEntry? {
        _ = await eventually { !server.server.recorder.journal.entries(rule: rule).isEmpty }
        return server.server.recorder.journal.entries(rule: rule).last
    }

    @Test func dropClosesWithoutAByte() async throws {
        try await withServer(Self.scenario) { server in
            let client = try RawHTTPClient(port: server.port)
            try self.send(client, "/drop")
            let (bytes, error) = client.readUntilEnd()
            #expect(bytes.isEmpty)
            #expect(error == nil, "a clean close (FIN), not a reset")
            let entry = try #require(await self.entry(server, rule: "drop"))
            #expect(entry.status == 499)
            #expect(entry.outcome == .dropped)
            #expect(entry.fault == "drop")
            #expect(entry.bytesSent == 0)
        }
    }

    @Test func resetSendsAnRSTEvenWithUnreadData() async throws {
        try await withServer(Self.scenario) { server in
            for extra in ["", "GET /ok HTTP/1.1\r\nHost: x\r\n\r\n" + String(repeating: "x", count: 10000)] {
                let client = try RawHTTPClient(port: server.port)
                try client.send("GET /reset HTTP/1.1\r\nHost: x\r\n\r\n" + extra)
                let (bytes, error) = client.readUntilEnd()
                #expect(bytes.isEmpty)
                #expect(error?.isReset == true, "ECONNRESET, never a clean EOF; got \(String(describing: error))")
            }
            let entry = try #require(await self.entry(server, rule: "reset"))
            #expect(entry.outcome == .reset)
            #expect(entry.status == 499)
        }
    }

    @Test func hangHoldsUntilTheClientGivesUp() async throws {
        try await withServer(Self.scenario) { server in
            do {
                let client = try RawHTTPClient(port: server.port, timeout: 0.5)
                try self.send(client, "/hang")
                #expect(throws: RawHTTPClient.SocketError.self) { try client.readResponse() }
            }
            let entry = try #require(await self.entry(server, rule: "hang"))
            #expect(entry.status == 499)
            #expect(entry.outcome == .clientClosed)
            #expect(entry.totalMs >= 450)

            let timed = try RawHTTPClient(port: server.port)
            let start = now()
            try self.send(timed, "/hang-timed")
            let (bytes, error) = timed.readUntilEnd()
            let elapsed = now() - start
            #expect(bytes.isEmpty && error == nil)
            #expect(elapsed >= 0.3 && elapsed < 2, "closed after \(elapsed) s")
            #expect(try #require(await self.entry(server, rule: "hang-timed")).outcome == .timeout)
        }
    }

    @Test func truncateSendsTheTrueLengthThenLessBody() async throws {
        try await withServer(Self.scenario) { server in
            let client = try RawHTTPClient(port: server.port)
            try self.send(client, "/truncate")
            let (bytes, error) = client.readUntilEnd()
            #expect(error == nil)
            let text = String(decoding: bytes, as: UTF8.self)
            let split = try #require(text.range(of: "\r\n\r\n"))
            #expect(text[..<split.lowerBound].contains("\r\nContent-Length: 100"))
            #expect(bytes.count - text.utf8.distance(from: text.startIndex, to: split.upperBound) == 10)
            let entry = try #require(await self.entry(server, rule: "truncate"))
            #expect(entry.status == 200)
            #expect(entry.outcome == .dropped)
            #expect(entry.bodyBytesSent == 10)
        }
    }

    @Test func resetAfterSendsPartOfTheBodyThenAnRST() async throws {
        try await withServer(Self.scenario) { server in
            let client = try RawHTTPClient(port: server.port)
            try self.send(client, "/reset-after")
            let (bytes, error) = client.readUntilEnd()
            #expect(error?.isReset == true)
            #expect(String(decoding: bytes.prefix(15), as: UTF8.self) == "HTTP/1.1 200 OK")
            let entry = try #require(await self.entry(server, rule: "reset-after"))
            #expect(entry.outcome == .reset)
            #expect(entry.bodyBytesSent == 1000)
        }
    }

    @Test func garbageIsNotHTTPAndRepeatsWithTheSeed() async throws {
        var first: [UInt8] = []
        for _ in 0..<2 {
            try await withServer(Self.scenario) { server in
                let client = try RawHTTPClient(port: server.port)
                try self.send(client, "/garbage")
                let (bytes, error) = client.readUntilEnd()
                #expect(error == nil)
                #expect(bytes.count >= 64)
                #expect(!bytes.starts(with: Array("HTTP/".utf8)))
                if first.isEmpty { first = bytes } else { #expect(bytes == first, "the same seed, the same garbage") }
                let entry = try #require(await self.entry(server, rule: "garbage"))
                #expect(entry.status == 499)
                #expect(entry.bytesSent == Int64(bytes.count))
            }
        }
    }

    @Test func badChunkAndBadStatusBreakTheProtocol() async throws {
        try await withServer(Self.scenario) { server in
            let chunk = try RawHTTPClient(port: server.port)
            try self.send(chunk, "/bad-chunk")
            let chunkText = String(decoding: chunk.readUntilEnd().bytes, as: UTF8.self)
            #expect(chunkText.hasPrefix("HTTP/1.1 200 OK\r\n"))
            #expect(chunkText.contains("\r\nTransfer-Encoding: chunked\r\n"))
            #expect(chunkText.hasSuffix("\r\n\r\n5\r\nhello\r\nzz\r\nnot a chunk\r\n"))
            #expect(try #require(await self.entry(server, rule: "bad-chunk")).status == 200)

            let status = try RawHTTPClient(port: server.port)
            try self.send(status, "/bad-status")
            let statusText = String(decoding: status.readUntilEnd().bytes, as: UTF8.self)
            #expect(statusText.hasPrefix("HTTP/1.1 OK 200\r\n"))
            #expect(try #require(await self.entry(server, rule: "bad-status")).status == 499)
        }
    }

    @Test func slowHeadersDribbleTheHead() async throws {
        try await withServer(Self.scenario) { server in
            let client = try RawHTTPClient(port: server.port)
            let start = now()
            try self.send(client, "/slow-headers")
            let first = try client.readBytes(count: 1)
            let firstByte = now() - start
            #expect(first == Array("H".utf8))
            let response = try client.readResponse()
            let complete = now() - start
            #expect(complete - firstByte >= 0.7, "the first byte comes early (\(firstByte) s), the rest over a second")
            #expect(complete >= 0.8 && complete < 5, "the whole head takes about a second (\(complete) s)")
            #expect(response.text == "done")
            #expect(try #require(await self.entry(server, rule: "slow-headers")).outcome == .completed)
        }
    }

    @Test func bodyDelayComesBetweenHeadAndBody() async throws {
        try await withServer(Self.scenario) { server in
            let client = try RawHTTPClient(port: server.port)
            let start = now()
            try self.send(client, "/body-delay")
            let response = try client.readResponse(bodyExpected: false)
            let head = now() - start
            let body = try client.readBytes(count: 4)
            let total = now() - start
            #expect(response.header("Content-Length") == "4")
            #expect(total - head >= 0.55, "the body comes a pause after the head (head \(head) s, body \(total) s)")
            #expect(total < 5)
            #expect(body == Array("late".utf8))
        }
    }

    @Test func throttleKeepsThePace() async throws {
        try await withServer(Self.scenario) { server in
            let client = try RawHTTPClient(port: server.port)
            let start = now()
            try self.send(client, "/throttle")
            let response = try client.readResponse()
            let elapsed = now() - start
            #expect(response.body.count == 40 * 1024)
            // 40 KiB at 20 KiB/s: two seconds; a loose bound because the machine is shared.
            #expect(elapsed >= 1.9 && elapsed < 3.5, "took \(elapsed) s")
        }
    }

    @Test func chunkedBodiesComeInChunksOfTheGivenSize() async throws {
        try await withServer(Self.scenario) { server in
            let raw = try RawHTTPClient(port: server.port)
            try raw.send("GET /chunked HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            let bytes = raw.readUntilEnd().bytes
            let text = String(decoding: bytes, as: UTF8.self)
            let headEnd = try #require(text.range(of: "\r\n\r\n"))
            #expect(text[..<headEnd.lowerBound].contains("\r\nTransfer-Encoding: chunked"))
            #expect(!text[..<headEnd.lowerBound].contains("Content-Length"))
            let body = text[headEnd.upperBound...]
            let sizes = body.components(separatedBy: "\r\n").enumerated().filter { $0.offset % 2 == 0 }.map(\.element)
                .filter { !$0.isEmpty }
            #expect(sizes == ["1000", "1000", "710", "0"])
        }
    }

    @Test func aRuleTransferEncodingIsFramedAsItSays() async throws {
        try await withServer(Self.scenario) { server in
            // `gzip, chunked`: chunk framing (here by Faultline, below NIO's encoder), and the connection stays usable.
            let raw = try RawHTTPClient(port: server.port)
            try raw.send(
                "GET /layered HTTP/1.1\r\nHost: x\r\n\r\nGET /layered HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            )
            let text = String(decoding: raw.readUntilEnd().bytes, as: UTF8.self)
            let answer = try #require(text.components(separatedBy: "HTTP/1.1 200 OK\r\n").last)
            #expect(text.components(separatedBy: "HTTP/1.1 200 OK\r\n").count == 3, "two answers: \(text)")
            #expect(answer.contains("\r\nTransfer-Encoding: gzip, chunked\r\n"))
            #expect(!answer.contains("Content-Length"))
            #expect(answer.hasSuffix("\r\n\r\n5\r\nhello\r\n0\r\n\r\n"))
            // `gzip` alone: the body ends where the connection does.
            let plain = try RawHTTPClient(port: server.port)
            try plain.send("GET /gzip HTTP/1.1\r\nHost: x\r\n\r\n")
            let closed = String(decoding: plain.readUntilEnd().bytes, as: UTF8.self)
            #expect(closed.contains("\r\nConnection: close\r\n"))
            #expect(closed.hasSuffix("\r\n\r\nhello"))
        }
    }

    @Test func aClientThatGivesUpDuringADelayIsJournaled() async throws {
        try await withServer(Self.scenario) { server in
            do {
                let client = try RawHTTPClient(port: server.port)
                try self.send(client, "/slow")
                #expect(await eventually { server.server.statistics.pendingDelays == 1 })
            }
            let entry = try #require(await self.entry(server, rule: "slow"))
            #expect(entry.status == 499)
            #expect(entry.outcome == .clientClosed)
            #expect(server.server.statistics.pendingDelays == 0)
            let other = try RawHTTPClient(port: server.port)
            try self.send(other, "/ok")
            #expect(try other.readResponse().text == "ok")
        }
    }

    @Test func theJournalIsServedAsJSONAndDoesNotRecordItself() async throws {
        try await withServer(Self.scenario) { server in
            let client = try RawHTTPClient(port: server.port)
            try self.send(client, "/ok")
            _ = try client.readResponse()
            try self.send(client, "/__faultline/journal")
            let journal = try client.readResponse()
            #expect(journal.header("Content-Type") == "application/json")
            let parsed = try #require(try JSONSerialization.jsonObject(with: Data(journal.body)) as? [[String: Any]])
            #expect(parsed.count == 1)
            #expect(parsed[0]["rule"] as? String == "ok")
            #expect(parsed[0]["outcome"] as? String == "completed")
            #expect(parsed[0]["status"] as? Int == 200)
            try self.send(client, "/__faultline/journal?rule=nothing")
            #expect(try client.readResponse().text == "[]\n")
            #expect(server.server.recorder.journal.entries().count == 1)
        }
    }

    @Test func thousandsOfHeldConnectionsCloseAndGiveTheirDescriptorsBack() async throws {
        ConcurrentClients.raiseOpenFileLimit()
        func openDescriptors() -> Int {
            (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? -1
        }
        try await withServer(
            "version: 1\nrules:\n  - {path: /hang, fault: {hang: 1s}}\n  - {path: /delay, delay: 1s}\n",
            threads: 2
        ) { server in
            let before = openDescriptors()
            for path in ["/hang", "/delay"] {
                let outcomes = ConcurrentClients.run(
                    count: 2000,
                    port: server.port,
                    request: "GET \(path) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                    timeout: 30
                )
                #expect(outcomes.filter(\.closed).count == 2000, "\(path): every connection ends")
                if path == "/delay" {
                    #expect(outcomes.filter { $0.statusLine == "HTTP/1.1 200 OK" }.count == 2000)
                } else {
                    #expect(outcomes.allSatisfy { $0.bytes.isEmpty })
                }
            }
            #expect(await eventually(timeout: 10) { server.server.statistics.openConnections == 0 })
            #expect(
                await eventually(timeout: 10) { openDescriptors() <= before },
                "descriptors: \(before) before, \(openDescriptors()) after"
            )
            #expect(server.server.recorder.journal.entries().count == 4000)
        }
    }
}

/// Edge cases found in review: each one once misbehaved.
@Suite("Fault edge cases over real sockets")
struct FaultEdgeCaseTests {
    @Test func aClientThatLeavesDuringABodyDelayKeepsTheStatusItGot() async throws {
        try await withServer("version: 1\nrules:\n  - {name: paused, path: /p, body: hi, bodyDelay: 10s}\n") { server in
            do {
                let client = try RawHTTPClient(port: server.port)
                try client.send("GET /p HTTP/1.1\r\nHost: x\r\n\r\n")
                #expect(try client.readResponse(bodyExpected: false).status == 200)
            }
            #expect(await eventually { !server.server.recorder.journal.entries(rule: "paused").isEmpty })
            let entry = try #require(server.server.recorder.journal.entries(rule: "paused").first)
            #expect(entry.status == 200, "the status line went out")
            #expect(entry.outcome == .clientClosed)
            #expect(entry.bodyBytesSent == 0)
        }
    }

    @Test func hugeDripRequestsDoNotCrashTheServer() async throws {
        try await withFaultline(scenario: .builtIn) { server in
            let client = try RawHTTPClient(port: server.port, timeout: 2)
            try client.send("GET /drip?numbytes=9GiB&duration=0.001us&delay=0 HTTP/1.1\r\nHost: x\r\n\r\n")
            _ = try? client.readBytes(count: 100_000)
            let other = try RawHTTPClient(port: server.port)
            try other.send("GET /get HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try other.readResponse().text == "ok\n")
        }
    }

    @Test func idleKeepAliveConnectionsCloseQuietlyButSlowHeadsGet408() async throws {
        try await withServer("version: 1\nlimits: {requestTimeout: 300ms}\nrules:\n  - {path: /x}\n") { server in
            let idle = try RawHTTPClient(port: server.port)
            try idle.send("GET /x HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try idle.readResponse().status == 200)
            #expect(try idle.readToEnd() == [], "no 408 on an idle keep-alive connection, just a close")

            let fresh = try RawHTTPClient(port: server.port)
            #expect(try fresh.readResponse().status == 408, "a connection that never sends a head gets 408")

            let slow = try RawHTTPClient(port: server.port)
            try slow.send("GET /x HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try slow.readResponse().status == 200)
            try slow.send("GET /x HTTP/1.1\r\nHo")
            #expect(try slow.readResponse().status == 408, "half a head after a request gets 408")
            #expect(
                await eventually {
                    server.server.recorder.journal.entries().contains { $0.status == 408 && $0.outcome == .timeout }
                }
            )
        }
    }

    @Test func requestsQueuedBehindADropAreJournaledAsUnanswered() async throws {
        try await withServer(
            "version: 1\nrules:\n  - {name: drop, path: /drop, fault: drop, delay: 200ms}\n  - {name: ok, path: /ok}\n"
        ) { server in
            let client = try RawHTTPClient(port: server.port)
            try client.send("GET /drop HTTP/1.1\r\nHost: x\r\n\r\nGET /ok HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try client.readToEnd() == [])
            #expect(await eventually { server.server.recorder.journal.entries().count == 2 })
            let entries = server.server.recorder.journal.entries()
            #expect(entries.map(\.target) == ["/drop", "/ok"])
            #expect(entries[1].status == 499)
            #expect(entries[1].outcome == .dropped)
        }
    }

    @Test func expectContinueNeverPrecedesAFault() async throws {
        try await withServer(
            "version: 1\nrules:\n  - {method: POST, path: /hang, fault: hang}\n  - {method: POST, path: /drop, fault: drop}\n"
        ) { server in
            let dropped = try RawHTTPClient(port: server.port)
            try dropped.send("POST /drop HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n")
            #expect(try dropped.readToEnd() == [], "no 100 Continue, not a byte")

            do {
                let hanging = try RawHTTPClient(port: server.port, timeout: 0.5)
                try hanging.send("POST /hang HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n")
                #expect(throws: RawHTTPClient.SocketError.self) { try hanging.readBytes(count: 1) }
                hanging.shutdownWrite()
                #expect(try hanging.isClosedByServer(within: 20), "the client's close is still seen")
            }
        }
    }

    @Test func http10ClientsGetAContentLengthInsteadOfChunks() async throws {
        try await withServer("version: 1\nrules:\n  - {path: /c, body: hello, chunked: true, chunkSize: 2}\n") {
            server in
            let client = try RawHTTPClient(port: server.port)
            try client.send("GET /c HTTP/1.0\r\n\r\n")
            let response = try client.readResponse()
            #expect(response.header("Transfer-Encoding") == nil)
            #expect(response.header("Content-Length") == "5")
            #expect(response.text == "hello")
        }
    }

    @Test func aCachedClientStillMeetsTheFault() async throws {
        try await withServer("version: 1\nrules:\n  - {path: /e, etag: v1, body: x, fault: bad-status}\n") { server in
            let client = try RawHTTPClient(port: server.port)
            try client.send("GET /e HTTP/1.1\r\nHost: x\r\nIf-None-Match: \"v1\"\r\n\r\n")
            #expect(String(decoding: client.readUntilEnd().bytes.prefix(17), as: UTF8.self) == "HTTP/1.1 Not Modi")
        }
    }
}
