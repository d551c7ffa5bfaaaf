import FaultlineCore
import Testing

/// Every fault is a way of writing: a plan becomes the steps the writer carries out.
@Suite("Write steps and the body pacer")
struct WriteStepTests {
    func plan(_ response: ResolvedResponse, method: String = "GET", headers: [(String, String)] = []) -> ResponsePlan {
        ResponsePlanner.plan(
            response,
            for: IncomingRequest(method: method, target: "/x", headers: headers.map { HeaderField($0.0, $0.1) }),
            date: "Fri, 04 Dec 2026 10:00:00 GMT"
        )
    }

    func response(_ body: String = "hello", status: Int = 200, fault: Fault? = nil) -> ResolvedResponse {
        var response = ResolvedResponse(status: status, body: .bytes(Array(body.utf8), contentType: "text/plain"))
        response.fault = fault
        return response
    }

    @Test func aPlainAnswerIsAHeadABodyAndAKeptConnection() {
        #expect(
            self.plan(self.response()).http1Steps == [
                .head(over: nil), .body(BodyWrite()), .finish(.completed(closeAfter: false)),
            ]
        )
        #expect(
            self.plan(self.response(), method: "HEAD").http1Steps == [
                .head(over: nil), .finish(.completed(closeAfter: false)),
            ]
        )
        var delayed = self.response()
        delayed.delay = .seconds(2)
        delayed.bodyDelay = .milliseconds(300)
        delayed.interim = [InterimResponse(status: 103, headers: [HeaderField("Link", "</a.css>")])]
        #expect(
            self.plan(delayed, headers: [("Connection", "close")]).http1Steps == [
                .delay(.seconds(2)),
                .interim([InterimResponse(status: 103, headers: [HeaderField("Link", "</a.css>")])]),
                .head(over: nil), .bodyDelay(.milliseconds(300)), .body(BodyWrite()),
                .finish(.completed(closeAfter: true)),
            ]
        )
    }

    @Test func faultsAreStepsOfWriting() {
        #expect(self.plan(self.response(fault: .drop)).http1Steps == [.finish(.dropped)])
        #expect(self.plan(self.response(status: 499)).http1Steps == [.finish(.dropped)])
        #expect(self.plan(self.response(fault: .reset)).http1Steps == [.finish(.reset)])
        #expect(self.plan(self.response(fault: .hang(nil))).http1Steps == [.hang(nil), .finish(.timedOut)])
        #expect(
            self.plan(self.response(fault: .hang(.seconds(5)))).http1Steps == [.hang(.seconds(5)), .finish(.timedOut)]
        )
        #expect(
            self.plan(self.response(fault: .truncate(2))).http1Steps
                == [.head(over: nil), .body(BodyWrite(cutAfter: 2)), .finish(.dropped)]
        )
        #expect(
            self.plan(self.response(fault: .resetAfter(3))).http1Steps
                == [.head(over: nil), .body(BodyWrite(cutAfter: 3)), .finish(.reset)]
        )
        #expect(
            self.plan(self.response(fault: .slowHeaders(.seconds(3)))).http1Steps
                == [.head(over: .seconds(3)), .body(BodyWrite()), .finish(.completed(closeAfter: false))]
        )
        guard
            case .raw(let garbage, nil) = self.plan(self.response(fault: .garbage(key: 7, length: 100))).http1Steps
                .first
        else {
            Issue.record("garbage is raw bytes with no status line")
            return
        }
        #expect(garbage.count == 100)
        guard case .raw(let badStatus, nil) = self.plan(self.response(fault: .badStatus)).http1Steps.first else {
            Issue.record("a bad status line carries no readable status")
            return
        }
        #expect(String(decoding: badStatus, as: UTF8.self).hasPrefix("HTTP/1.1 OK 200\r\n"))
        let badChunk = self.plan(self.response(fault: .badChunk)).http1Steps
        guard case .raw(let chunks, 200) = badChunk.first else {
            Issue.record("a bad chunk follows a readable 200 head")
            return
        }
        #expect(String(decoding: chunks, as: UTF8.self).hasSuffix("\r\n\r\n5\r\nhello\r\nzz\r\nnot a chunk\r\n"))
        #expect(badChunk.last == .finish(.dropped))
    }

    @Test func aChunkedBodyIsFramedEvenWhenEmpty() {
        var chunked = self.response("")
        chunked.headers = [HeaderField("Transfer-Encoding", "chunked")]
        #expect(
            self.plan(chunked).http1Steps == [
                .head(over: nil), .body(BodyWrite(chunked: true)), .finish(.completed(closeAfter: false)),
            ]
        )
        var pieces = self.response(String(repeating: "x", count: 100))
        pieces.chunkSize = 10
        #expect(self.plan(pieces).http1Steps.contains(.body(BodyWrite(chunked: true, pieceSize: 10))))
    }

    @Test func theHeadIsDatedWhenWritten() {
        let plan = self.plan(self.response())
        let later = String(decoding: plan.serializedHead(date: "Fri, 04 Dec 2026 10:00:07 GMT"), as: UTF8.self)
        #expect(later.hasPrefix("HTTP/1.1 200 OK\r\nDate: Fri, 04 Dec 2026 10:00:07 GMT\r\n"))
        var own = self.response()
        own.headers = [HeaderField("Date", "Mon, 01 Jan 2001 00:00:00 GMT")]
        let lying = String(
            decoding: self.plan(own).serializedHead(date: "Fri, 04 Dec 2026 10:00:07 GMT"),
            as: UTF8.self
        )
        #expect(lying.contains("\r\nDate: Mon, 01 Jan 2001 00:00:00 GMT\r\n"), "a rule's own Date is sent as written")
        #expect(!lying.contains("10:00:07"))
    }

    @Test func thePacerSpreadsAThrottledBodyAndStopsAtTheCut() {
        let plain = BodyPacer(pieceSize: 64)
        #expect(plain.next(sent: 0, elapsed: .zero) == .write(64))
        let cut = BodyPacer(pieceSize: 64, cutAfter: 100)
        #expect(cut.next(sent: 64, elapsed: .zero) == .write(36))
        #expect(cut.next(sent: 100, elapsed: .zero) == .cut)
        // 1,000 bytes a second: 50 bytes a tick; nothing is due at the start, the first piece 50 ms in.
        let throttled = BodyPacer(pieceSize: 64 * 1024, bytesPerSecond: 1000)
        #expect(throttled.next(sent: 0, elapsed: .zero) == .wait(.milliseconds(50)))
        #expect(throttled.next(sent: 0, elapsed: .milliseconds(50)) == .write(50))
        #expect(throttled.next(sent: 50, elapsed: .milliseconds(50)) == .wait(.milliseconds(50)))
        #expect(throttled.next(sent: 50, elapsed: .milliseconds(60)) == .write(10), "what is due, no more")
        #expect(throttled.next(sent: 0, elapsed: .seconds(1)) == .write(50), "never more than a tick's worth at once")
    }
}
