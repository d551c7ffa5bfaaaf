import FaultlineCore
import Testing

/// How a stream is planned (headers, resumption) and written (steps), without a socket.
@Suite("Streams: planning and write steps")
struct StreamPlanTests {
    static let events: [StreamItem] = (1...4).map { number in
        StreamItem(
            delay: number == 1 ? .zero : .milliseconds(100),
            payload: .bytes(Array("id: \(number)\ndata: e\(number)\n\n".utf8)),
            eventID: "\(number)"
        )
    }

    func response(
        _ items: [StreamItem] = Self.events,
        kind: ResolvedStream.Kind = .events,
        fault: Fault? = nil,
        keepOpen: Bool = false
    ) -> ResolvedResponse {
        var response = ResolvedResponse(status: 200)
        response.stream = ResolvedStream(
            kind: kind,
            items: items,
            keepOpen: keepOpen,
            contentType: kind == .events ? "text/event-stream" : "application/x-ndjson"
        )
        response.fault = fault
        return response
    }

    func plan(
        _ response: ResolvedResponse,
        method: String = "GET",
        headers: [(String, String)] = [],
        version: (Int, Int) = (1, 1)
    ) -> ResponsePlan {
        ResponsePlanner.plan(
            response,
            for: IncomingRequest(
                method: method,
                target: "/s",
                headers: headers.map { HeaderField($0.0, $0.1) },
                version: version
            ),
            date: "Fri, 04 Dec 2026 10:00:00 GMT"
        )
    }

    func steps(_ items: ArraySlice<StreamItem>) -> [WriteStep] {
        items.flatMap { item -> [WriteStep] in
            item.delay > .zero ? [.pause(item.delay), .chunk(item, whole: true)] : [.chunk(item, whole: true)]
        }
    }

    @Test func anEventStreamIsChunkedUncachedAndHasNoLength() {
        let plan = self.plan(self.response())
        #expect(
            plan.headers == [
                HeaderField("Date", "Fri, 04 Dec 2026 10:00:00 GMT"), HeaderField("Content-Type", "text/event-stream"),
                HeaderField("Cache-Control", "no-cache"), HeaderField("Transfer-Encoding", "chunked"),
            ]
        )
        #expect(plan.isChunked)
        #expect(!plan.closeAfter)
        #expect(plan.segments.isEmpty, "nothing of the stream is buffered as a body")
        #expect(
            plan.http1Steps == [.head(over: nil)] + self.steps(Self.events[...]) + [
                .endOfBody, .finish(.completed(closeAfter: false)),
            ]
        )
        let ndjson = self.plan(self.response(kind: .items))
        #expect(ndjson.headers.first(named: "Content-Type") == "application/x-ndjson")
        #expect(!ndjson.headers.contains(named: "Cache-Control"), "no-cache is for event streams")
    }

    /// Pieces handed out one at a time, counting how many were asked for.
    struct CountingPieces: BodyPieceSource {
        var left: Int
        mutating func nextPiece() -> [UInt8]? {
            guard self.left > 0 else { return nil }
            self.left -= 1
            return Array("piece".utf8)
        }
    }

    @Test func aProducedBodyIsOneStepThatMakesItsPiecesOnlyWhenAsked() {
        let produced = ProducedBody(CountingPieces(left: 2))
        var response = ResolvedResponse(status: 200)
        response.stream = ResolvedStream(kind: .items, items: [], contentType: "application/json", produced: produced)
        let plan = self.plan(response)
        #expect(
            plan.headers.first(named: "Transfer-Encoding") == "chunked"
                && !plan.headers.contains(named: "Content-Length")
        )
        #expect(
            plan.http1Steps == [
                .head(over: nil), .pieces(produced), .endOfBody, .finish(.completed(closeAfter: false)),
            ]
        )
        #expect(
            plan.http2Steps == [
                .head(over: nil, endStream: false), .pieces(produced), .endStream,
                .finish(.completed(closeAfter: false)),
            ]
        )
        #expect(
            self.plan(response, method: "HEAD").http1Steps == [
                .head(over: nil), .finish(.completed(closeAfter: false)),
            ]
        )
        // Planning made no piece: the writer asks for each.
        #expect(produced.next() == Array("piece".utf8))
        #expect(produced.next() == Array("piece".utf8))
        #expect(produced.next() == nil)
    }

    @Test func theRulesHeadersWinAndHTTP10GetsABodyEndedByTheClose() {
        var own = self.response()
        own.headers = [HeaderField("Content-Type", "text/plain"), HeaderField("Cache-Control", "max-age=60")]
        let lying = self.plan(own)
        #expect(lying.headers.first(named: "Content-Type") == "text/plain")
        #expect(lying.headers.values(named: "Cache-Control") == ["max-age=60"])
        let old = self.plan(self.response(), version: (1, 0))
        #expect(!old.headers.contains(named: "Transfer-Encoding"))
        #expect(!old.headers.contains(named: "Content-Length"))
        #expect(old.headers.first(named: "Connection") == "close")
        #expect(!old.isChunked)
        #expect(old.http1Steps.last == .finish(.completed(closeAfter: true)))
        #expect(!old.http1Steps.contains(.endOfBody))
        let head = self.plan(self.response(), method: "HEAD")
        #expect(head.headers.first(named: "Content-Type") == "text/event-stream")
        #expect(
            head.http1Steps == [.head(over: nil), .finish(.completed(closeAfter: false))],
            "HEAD gets the head only"
        )
        #expect(head.stream?.items.isEmpty == true)
    }

    @Test func lastEventIDResumesAfterTheEventItNames() {
        let resumed = self.plan(self.response(), headers: [("Last-Event-ID", "2")])
        #expect(resumed.stream?.items == Array(Self.events[2...]))
        let unknown = self.plan(self.response(), headers: [("Last-Event-ID", "99")])
        #expect(unknown.stream?.items == Self.events, "an unknown id starts over")
        let last = self.plan(self.response(), headers: [("Last-Event-ID", "4")])
        #expect(last.stream?.items == [], "after the last event, nothing is left to send")
        let items = self.plan(self.response(kind: .items), headers: [("Last-Event-ID", "2")])
        #expect(items.stream?.items == Self.events, "a stream of items has no events to resume after")
    }

    @Test func streamFaultsCountEvents() {
        let head: [WriteStep] = [.head(over: nil)]
        let cut = self.plan(self.response(fault: .cutAfter(2)))
        #expect(
            cut.http1Steps == head + self.steps(Self.events[..<2]) + [.finish(.dropped)],
            "no last chunk: the stream has no end"
        )
        #expect(cut.closeAfter)
        let stall = self.plan(self.response(fault: .stallAfter(1)))
        #expect(stall.http1Steps == head + self.steps(Self.events[..<1]) + [.hang(nil), .finish(.dropped)])
        let reset = self.plan(self.response(fault: .resetAfterEvents(3)))
        #expect(reset.http1Steps == head + self.steps(Self.events[..<3]) + [.finish(.reset)])
        let beyond = self.plan(self.response(fault: .cutAfter(10)))
        #expect(
            beyond.http1Steps == head + self.steps(Self.events[...]) + [.finish(.dropped)],
            "every event, then still no end"
        )
        let resumedCut = self.plan(self.response(fault: .cutAfter(1)), headers: [("Last-Event-ID", "1")])
        #expect(
            resumedCut.http1Steps == head + self.steps(Self.events[1..<2]) + [.finish(.dropped)],
            "counted from the resumption"
        )
        let open = self.plan(self.response(keepOpen: true))
        #expect(open.http1Steps == head + self.steps(Self.events[...]) + [.hang(nil), .finish(.dropped)])
        #expect(
            self.plan(self.response(keepOpen: true), method: "HEAD").http1Steps.last
                == .finish(.completed(closeAfter: false))
        )
    }

    @Test func theOtherFaultsWorkOnAStream() {
        // Each event is 16 bytes: a truncate of 20 sends the first and 4 bytes of the second, which does not count.
        let truncated = self.plan(self.response(fault: .truncate(20)))
        #expect(
            truncated.http1Steps == [
                .head(over: nil), .chunk(Self.events[0], whole: true), .pause(.milliseconds(100)),
                .chunk(Self.events[1].prefix(4), whole: false),
                .finish(.dropped),
            ]
        )
        let reset = self.plan(self.response(fault: .resetAfter(16)))
        #expect(reset.http1Steps == [.head(over: nil), .chunk(Self.events[0], whole: true), .finish(.reset)])
        #expect(self.plan(self.response(fault: .drop)).http1Steps == [.finish(.dropped)])
        #expect(
            self.plan(self.response(fault: .drop)).stream == ResponsePlan.StreamedBody(items: []),
            "journaled as a stream of no events"
        )
        #expect(self.plan(self.response(fault: .hang(nil))).http1Steps == [.hang(nil), .finish(.timedOut)])
        let slow = self.plan(self.response(fault: .slowHeaders(.seconds(1))))
        #expect(slow.http1Steps.first == .head(over: .seconds(1)))
        #expect(slow.http1Steps.last == .finish(.completed(closeAfter: false)))
        guard case .raw(let bytes, 200) = self.plan(self.response(fault: .badChunk)).http1Steps.first else {
            Issue.record("a bad chunk follows a readable head")
            return
        }
        #expect(
            String(decoding: bytes, as: UTF8.self).hasSuffix(
                "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\nnot a chunk\r\n"
            )
        )
        var delayed = self.response()
        delayed.delay = .milliseconds(300)
        delayed.bodyDelay = .milliseconds(200)
        #expect(
            Array(self.plan(delayed).http1Steps.prefix(3)) == [
                .delay(.milliseconds(300)), .head(over: nil), .bodyDelay(.milliseconds(200)),
            ]
        )
    }

    @Test func onHTTP2AStreamIsDataFramesAndItsFaultsTheirHTTP2Meaning() {
        func h2(_ response: ResolvedResponse, method: String = "GET") -> ResponsePlan {
            self.plan(response, method: method, version: (2, 0))
        }
        let items = Self.events[...].flatMap { item -> [HTTP2WriteStep] in
            item.delay > .zero ? [.pause(item.delay), .chunk(item, whole: true)] : [.chunk(item, whole: true)]
        }
        let head: [HTTP2WriteStep] = [.head(over: nil, endStream: false)]
        let whole = h2(self.response())
        #expect(!whole.headers.contains(named: "Transfer-Encoding"), "HTTP/2 frames the body itself")
        #expect(whole.http2Steps == head + items + [.endStream, .finish(.completed(closeAfter: false))])
        #expect(
            h2(self.response(fault: .cutAfter(4))).http2Steps == head + items + [
                .resetStream(.internalError), .finish(.dropped),
            ]
        )
        #expect(
            h2(self.response(fault: .resetAfterEvents(4))).http2Steps == head + items + [
                .closeConnection(reset: true), .finish(.reset),
            ]
        )
        #expect(h2(self.response(fault: .stallAfter(4))).http2Steps == head + items + [.hang(nil), .finish(.dropped)])
        #expect(h2(self.response(keepOpen: true)).http2Steps == head + items + [.hang(nil), .finish(.dropped)])
        #expect(
            h2(self.response(fault: .truncate(16))).http2Steps
                == head + [.chunk(Self.events[0], whole: true), .resetStream(.internalError), .finish(.reset)]
        )
        #expect(
            h2(self.response(), method: "HEAD").http2Steps == [
                .head(over: nil, endStream: true), .finish(.completed(closeAfter: false)),
            ]
        )
    }
}
