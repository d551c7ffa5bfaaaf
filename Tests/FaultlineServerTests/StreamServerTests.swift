import AsyncHTTPClient
import FaultlineCore
import FaultlineServer
import FaultlineTestSupport
import FaultlineTesting
import Foundation
import NIOCore
import NIOHTTP1
import Testing

/// Server-Sent Events and NDJSON streams over real sockets: AsyncHTTPClient reading the body as it arrives, and a
/// raw socket for the exact bytes, the cuts and the resets; the journal's record of each.
@Suite("Streams over real sockets")
struct StreamServerTests {
    static let scenario = """
        version: 1
        rules:
          - name: ticks
            path: /ticks
            events:
              - {data: one, id: "1", retry: 300ms}
              - {data: two, id: "2", delay: 200ms}
              - {data: "three\\nlines", id: "3", delay: 200ms}
              - {event: done, data: {ok: true}, comment: bye, delay: 200ms}
          - name: cut
            path: /cut
            events: [{data: a, id: "1"}, {data: b, id: "2", delay: 100ms}, {data: c, id: "3"}]
            fault: {cutAfter: 2}
          - name: stall
            path: /stall
            events: [{data: a, id: "1"}, {data: b, id: "2"}]
            fault: {stallAfter: 1}
          - name: reset
            path: /reset
            events: [{data: a, id: "1"}, {data: b, id: "2"}, {data: c, id: "3"}]
            fault: {resetAfterEvents: 2}
          - name: open
            path: /open
            events: [{comment: hello}]
            keepOpen: true
          - name: export
            path: /export
            stream: [{json: {id: 1}}, {json: {id: 2}, delay: 100ms}, {bytes: 200KiB}]
          - name: lines
            path: /lines
            stream: [{json: {id: 1}}, {json: {id: 2}}]
        """

    /// The events of /ticks as a client dispatches them.
    static let ticks: [SSEClient.Event] = [
        SSEClient.Event(id: "1", retry: 300, data: ["one"]),
        SSEClient.Event(id: "2", data: ["two"]),
        SSEClient.Event(id: "3", data: ["three", "lines"]),
        SSEClient.Event(type: "done", data: ["{\"ok\":true}"], comments: ["bye"]),
    ]

    func withClient<T: Sendable>(
        readTimeout: TimeAmount? = nil,
        _ body: (SSEClient) async throws -> T
    ) async throws -> T {
        var configuration = HTTPClient.Configuration()
        if let readTimeout { configuration.timeout.read = readTimeout }
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        do {
            let result = try await body(SSEClient(client: client))
            try await client.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    /// The journal's entry for the only request to `rule`, once it is there.
    func entry(_ server: RunningFaultline, rule: String) async -> JournalEntry? {
        _ = await eventually { !server.server.recorder.journal.entries(rule: rule).isEmpty }
        return server.server.recorder.journal.entries(rule: rule).last
    }

    @Test func eventsArriveOneByOneOnTheirSchedule() async throws {
        try await withServer(Self.scenario) { server in
            let reading = try await self.withClient { client in await client.read("\(server.url)/ticks") }
            #expect(reading.error == nil)
            #expect(reading.status == 200)
            #expect(reading.headers.first { $0.0.lowercased() == "content-type" }?.1 == "text/event-stream")
            #expect(reading.headers.first { $0.0.lowercased() == "cache-control" }?.1 == "no-cache")
            #expect(reading.events == Self.ticks)
            // Each event no sooner than its schedule (200 ms apart), counted from the request. (That each goes out
            // when due and not later is asserted on an embedded channel, with time moved by hand, and by the clients
            // in their own processes end to end: in this process, tests that block the cooperative threads can hold
            // this reader back for seconds.)
            for (index, arrival) in reading.arrivals.enumerated() {
                #expect(arrival >= 0.2 * Double(index), "event \(index + 1) came \(arrival) s after the request")
            }
            let entry = try #require(await self.entry(server, rule: "ticks"))
            #expect(entry.outcome == .completed)
            #expect(entry.eventsSent == 4)
            #expect(entry.lastEventID == "3", "the last event has no id: the client keeps 3")
            #expect(entry.retryMs == 300)
            let body =
                "id: 1\nretry: 300\ndata: one\n\nid: 2\ndata: two\n\nid: 3\ndata: three\ndata: lines\n\n: bye\nevent: done\ndata: {\"ok\":true}\n\n"
            #expect(entry.bodyBytesSent == Int64(body.utf8.count))
            #expect(entry.totalMs >= 600)
        }
    }

    @Test func lastEventIDResumesAfterThatEvent() async throws {
        try await withServer(Self.scenario) { server in
            let (resumed, unknown) = try await self.withClient { client in
                (
                    await client.read("\(server.url)/ticks", headers: [("Last-Event-ID", "2")]),
                    await client.read("\(server.url)/ticks", headers: [("Last-Event-ID", "nope")])
                )
            }
            #expect(resumed.events == Array(Self.ticks[2...]))
            #expect(unknown.events == Self.ticks, "an unknown id starts over")
            #expect(await eventually { server.server.recorder.journal.entries(rule: "ticks").count == 2 })
            #expect(server.server.recorder.journal.entries(rule: "ticks").map(\.eventsSent) == [2, 4])
        }
    }

    @Test func aCutStreamEndsWithoutItsEnd() async throws {
        try await withServer(Self.scenario) { server in
            let reading = try await self.withClient { client in await client.read("\(server.url)/cut") }
            // AsyncHTTPClient fails the body at once when the connection closes early, dropping what it had received
            // but not yet handed over: when "b" and the close arrive together, the client never sees "b". The bytes
            // on the wire are asserted exactly with a raw socket (below) and with curl and httpx (end to end).
            #expect([[["a"]], [["a"], ["b"]]].contains(reading.events.map(\.data)), "\(reading.events)")
            #expect(reading.error != nil, "the client sees the stream end early: \(String(describing: reading.error))")
            let entry = try #require(await self.entry(server, rule: "cut"))
            #expect(entry.status == 200)
            #expect(entry.outcome == .dropped)
            #expect(entry.fault == "cutAfter")
            #expect(entry.eventsSent == 2)
            #expect(entry.lastEventID == "2")
        }
    }

    @Test func aStallHoldsUntilTheClientsReadTimeout() async throws {
        try await withServer(Self.scenario) { server in
            let reading = try await self.withClient(readTimeout: .milliseconds(500)) { client in
                await client.read("\(server.url)/stall")
            }
            // The event reaches this reader unless it was held back past the timeout, which AsyncHTTPClient then
            // drops with the rest of the body (see the cut test); what was sent is the journal's, exactly.
            #expect([[], [["a"]]].contains(reading.events.map(\.data)), "\(reading.events)")
            #expect(
                reading.error.map { "\($0)" }?.contains("readTimeout") == true,
                "\(String(describing: reading.error))"
            )
            let entry = try #require(await self.entry(server, rule: "stall"))
            #expect(entry.status == 200)
            #expect(entry.outcome == .clientClosed)
            #expect(entry.fault == "stallAfter")
            #expect(entry.eventsSent == 1)
            #expect(entry.totalMs >= 500)
        }
    }

    @Test func resetAfterEventsSendsAnRST() async throws {
        try await withServer(Self.scenario) { server in
            let client = try RawHTTPClient(port: server.port)
            try client.send("GET /reset HTTP/1.1\r\nHost: x\r\n\r\n")
            let (bytes, error) = client.readUntilEnd()
            #expect(error?.isReset == true, "ECONNRESET after the events; got \(String(describing: error))")
            let text = String(decoding: bytes, as: UTF8.self)
            #expect(text.hasSuffix("\r\n\r\nf\r\nid: 1\ndata: a\n\n\r\nf\r\nid: 2\ndata: b\n\n\r\n"), "\(text)")
            let entry = try #require(await self.entry(server, rule: "reset"))
            #expect(entry.outcome == .reset)
            #expect(entry.fault == "resetAfterEvents")
            #expect(entry.eventsSent == 2)
        }
    }

    @Test func theBytesOnTheWireAreChunkedEventsAndTheLastChunk() async throws {
        try await withServer(Self.scenario) { server in
            let client = try RawHTTPClient(port: server.port)
            try client.send("GET /lines HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            let text = String(decoding: try client.readToEnd(), as: UTF8.self)
            let head = try #require(text.split(separator: "\r\n\r\n", maxSplits: 1).first)
            #expect(head.hasPrefix("HTTP/1.1 200 OK\r\nDate: "))
            #expect(
                head.hasSuffix(
                    "\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\nConnection: close"
                )
            )
            #expect(text.hasSuffix("\r\n\r\n9\r\n{\"id\":1}\n\r\n9\r\n{\"id\":2}\n\r\n0\r\n\r\n"))
            // HTTP/1.0 has no chunks: the body is the items, ended by the close.
            let old = try RawHTTPClient(port: server.port)
            try old.send("GET /lines HTTP/1.0\r\n\r\n")
            let oldText = String(decoding: try old.readToEnd(), as: UTF8.self)
            #expect(
                oldText.hasSuffix(
                    "\r\nContent-Type: application/x-ndjson\r\nConnection: close\r\n\r\n{\"id\":1}\n{\"id\":2}\n"
                )
            )
            // A cut stream has no last chunk.
            let cut = try RawHTTPClient(port: server.port)
            try cut.send("GET /cut HTTP/1.1\r\nHost: x\r\n\r\n")
            let cutText = String(decoding: cut.readUntilEnd().bytes, as: UTF8.self)
            #expect(cutText.hasSuffix("\r\n\r\nf\r\nid: 1\ndata: a\n\n\r\nf\r\nid: 2\ndata: b\n\n\r\n"))
        }
    }

    @Test func keepOpenHoldsTheStreamUntilTheClientLeaves() async throws {
        try await withServer(Self.scenario) { server in
            do {
                let client = try RawHTTPClient(port: server.port, timeout: 0.5)
                try client.send("GET /open HTTP/1.1\r\nHost: x\r\n\r\n")
                let response = try client.readResponse(bodyExpected: false)
                #expect(response.status == 200)
                let (bytes, error) = client.readUntilEnd()
                #expect(String(decoding: bytes, as: UTF8.self).hasSuffix("9\r\n: hello\n\n\r\n"))
                #expect(error?.isTimeout == true, "the stream stays open: \(String(describing: error))")
            }
            let entry = try #require(await self.entry(server, rule: "open"))
            #expect(entry.outcome == .clientClosed)
            #expect(entry.eventsSent == 1)
            #expect(entry.fault == nil)
        }
    }

    @Test func aLargeItemGoesOutAsTheClientTakesIt() async throws {
        try await withServer(Self.scenario) { server in
            let body = try await self.withClient { sse in
                let response = try await sse.client.execute(
                    HTTPClientRequest(url: "\(server.url)/export"),
                    timeout: .seconds(30)
                )
                #expect(response.headers.first(name: "content-type") == "application/octet-stream")
                return try await response.body.collect(upTo: 1 << 20)
            }
            #expect(body.readableBytes == 18 + 200 * 1024)
            #expect(body.getString(at: 0, length: 18) == "{\"id\":1}\n{\"id\":2}\n")
            let entry = try #require(await self.entry(server, rule: "export"))
            #expect(entry.eventsSent == 3)
            #expect(entry.bodyBytesSent == 18 + 200 * 1024)
            #expect(entry.outcome == .completed)
        }
    }

    /// A Swift client that behaves as an EventSource (waits `retry`, sends `Last-Event-ID`) meets the expectations;
    /// one that reconnects at once fails `honorsRetry`, with the sentence `verify()` throws. The first stream stalls
    /// and the client leaves it once it has both events, so it has every event it was sent whatever the timing
    /// (AsyncHTTPClient drops what it has not handed over when a cut or a timeout fails the body: see the cut test).
    @Test func anEventSourceLikeClientMeetsTheStreamExpectations() async throws {
        let scenario = """
            version: 1
            rules:
              - name: feed
                path: /feed
                sequence:
                  - events: &events [{data: a, id: "1", retry: 300ms}, {data: b, id: "2"}, {data: c, id: "3"}]
                    fault: {stallAfter: 2}
                  - events: *events
            expect:
              - {rule: feed, count: 2, resumesStream: true, honorsRetry: true}
            """
        for patient in [true, false] {
            try await withServer(scenario) { server in
                let readings = try await self.withClient { client in
                    let first = await client.read("\(server.url)/feed", stopAfter: 2)
                    let retry = first.events.compactMap(\.retry).last ?? 0
                    if patient { try await Task.sleep(for: .milliseconds(retry + 20)) }
                    let lastID = first.events.compactMap(\.id).last ?? ""
                    return [first, await client.read("\(server.url)/feed", headers: [("Last-Event-ID", lastID)])]
                }
                #expect(readings[0].error == nil && readings[0].events.count == 2, "the client left the stalled stream")
                #expect(readings.flatMap(\.events).map(\.data) == [["a"], ["b"], ["c"]], "each event once")
                // The server journals an exchange once the socket has taken its last byte: a moment after the client
                // may have read it.
                #expect(await eventually { server.journal().count == 2 })
                if patient {
                    try server.verify()
                } else {
                    do throws(ExpectationFailure) {
                        try server.verify()
                        Issue.record("a client that reconnects at once must fail honorsRetry")
                    } catch {
                        #expect(error.description.contains("FAIL feed honorsRetry: Request 2 came "))
                        #expect(
                            error.description.contains(
                                "after the stream of request 1 ended, which had set retry: 0.300 s."
                            )
                        )
                        #expect(error.description.contains("ok   feed resumesStream: "))
                    }
                }
            }
        }
    }
}
