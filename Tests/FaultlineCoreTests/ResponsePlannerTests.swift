import FaultlineCore
import Testing

@Suite("Response planning (HTTP semantics without a socket)")
struct ResponsePlannerTests {
    let date = "Thu, 26 Nov 2026 12:00:00 GMT"

    func plan(
        _ response: ResolvedResponse,
        method: String = "GET",
        version: (Int, Int) = (1, 1),
        headers: [HeaderField] = [],
        closing: Bool = false
    ) -> ResponsePlan {
        ResponsePlanner.plan(
            response,
            for: IncomingRequest(method: method, target: "/", headers: headers, version: version),
            date: self.date,
            serverIsClosing: closing
        )
    }

    func text(_ status: Int, _ body: String) -> ResolvedResponse {
        ResolvedResponse(status: status, body: .bytes(Array(body.utf8), contentType: "text/plain; charset=utf-8"))
    }

    @Test func aPlainAnswerCarriesDateTypeAndLength() {
        let plan = self.plan(self.text(200, "hello"))
        #expect(plan.status == 200)
        #expect(plan.reason == "OK")
        #expect(
            plan.headers == [
                HeaderField("Date", self.date), HeaderField("Content-Type", "text/plain; charset=utf-8"),
                HeaderField("Content-Length", "5"), HeaderField("Accept-Ranges", "bytes"),
                HeaderField("ETag", EntityTag.forBytes(Array("hello".utf8))),
            ]
        )
        #expect(plan.bodyLength == 5)
        #expect(!plan.closeAfter)
    }

    @Test func headGetsTheHeadersOfGetWithoutTheBody() {
        let get = self.plan(self.text(200, "hello"))
        let head = self.plan(self.text(200, "hello"), method: "HEAD")
        #expect(head.headers == get.headers)
        #expect(head.bodyLength == 0)
        #expect(head.segments.isEmpty, "HEAD must not send a body")
    }

    @Test(arguments: [100, 103, 204, 304])
    func bodilessStatusesHaveNoLength(status: Int) {
        let plan = self.plan(ResolvedResponse(status: status))
        #expect(!plan.headers.contains(named: "Content-Length"))
        #expect(!plan.headers.contains(named: "Content-Type"))
        #expect(plan.bodyLength == 0)
    }

    @Test func resetContentSaysZero() {
        #expect(self.plan(ResolvedResponse(status: 205)).headers.first(named: "Content-Length") == "0")
        #expect(self.plan(ResolvedResponse(status: 200)).headers.first(named: "Content-Length") == "0")
    }

    @Test func redirectsGetLocationAndAShortPage() {
        let plan = self.plan(ResolvedResponse(status: 302, location: "/next?a=<b>"))
        #expect(plan.headers.first(named: "Location") == "/next?a=<b>")
        #expect(plan.headers.first(named: "Content-Type") == "text/html; charset=utf-8")
        guard case .bytes(let bytes, _) = plan.source else {
            Issue.record("expected an HTML body")
            return
        }
        let html = String(decoding: bytes, as: UTF8.self)
        #expect(html.contains(#"<a href="/next?a=&lt;b&gt;">here</a>"#))
        #expect(plan.headers.first(named: "Content-Length") == String(bytes.count))
        let get = self.plan(ResolvedResponse(status: 302, location: "/next"))
        let head = self.plan(ResolvedResponse(status: 302, location: "/next"), method: "HEAD")
        #expect(head.bodyLength == 0)
        #expect(head.headers == get.headers)
    }

    @Test func keepAliveFollowsRFC9112() {
        #expect(!self.plan(self.text(200, "x")).closeAfter)
        let close = self.plan(self.text(200, "x"), headers: [HeaderField("Connection", "close")])
        #expect(close.closeAfter)
        #expect(close.headers.first(named: "Connection") == "close")
        let http10 = self.plan(self.text(200, "x"), version: (1, 0))
        #expect(http10.closeAfter)
        #expect(http10.headers.first(named: "Connection") == "close")
        let http10KeepAlive = self.plan(
            self.text(200, "x"),
            version: (1, 0),
            headers: [HeaderField("connection", "Keep-Alive")]
        )
        #expect(!http10KeepAlive.closeAfter)
        #expect(http10KeepAlive.headers.first(named: "Connection") == "keep-alive")
        #expect(self.plan(self.text(200, "x"), closing: true).closeAfter)
        let ruleSaysClose = ResolvedResponse(status: 200, headers: [HeaderField("Connection", "close")])
        #expect(self.plan(ruleSaysClose).closeAfter)
    }

    @Test func explicitHeadersOverrideAutomaticOnes() {
        var response = ResolvedResponse(
            status: 416,
            headers: [HeaderField("content-length", "999"), HeaderField("X-Extra", "1")],
            retryAfter: "5"
        )
        response.location = nil
        let plan = self.plan(response)
        #expect(
            plan.headers == [
                HeaderField("Date", self.date), HeaderField("Content-Range", "bytes */0"),
                HeaderField("Retry-After", "5"),
                HeaderField("content-length", "999"), HeaderField("X-Extra", "1"),
            ]
        )
    }

    @Test func status499DropsTheConnection() {
        let plan = self.plan(ResolvedResponse(status: 499, delay: .seconds(1)))
        #expect(plan.action == .drop)
        #expect(plan.delay == .seconds(1))
    }

    @Test func unregisteredStatusesHaveAnEmptyReasonUnlessTheRuleGivesOne() {
        #expect(self.plan(ResolvedResponse(status: 599)).reason == "")
        #expect(self.plan(ResolvedResponse(status: 200, reason: "Fine")).reason == "Fine")
        #expect(self.plan(ResolvedResponse(status: 413)).reason == "Content Too Large")
    }
}

@Suite("Response plan encoding")
struct ResponsePlanEncodingTests {
    @Test func theHeadLengthIsTheSerializedHeadsLength() {
        for status in [200, 404, 599] {
            let plan = ResponsePlanner.plan(
                ResolvedResponse(
                    status: status,
                    headers: [HeaderField("X-Ünïcode", "välue")],
                    body: .bytes(Array("hello".utf8), contentType: "text/plain")
                ),
                for: IncomingRequest(method: "GET", target: "/"),
                date: "Thu, 26 Nov 2026 12:00:00 GMT"
            )
            #expect(plan.headLength == plan.serializedHead().count)
        }
    }
}
