import FaultlineCore
import Testing

@Suite("Response planning: ranges, conditionals and automatic headers")
struct ResponsePlannerRangeTests {
    let date = "Thu, 26 Nov 2026 12:00:00 GMT"
    let body = Array("0123456789abcdefghij".utf8)

    func plan(
        _ response: ResolvedResponse,
        method: String = "GET",
        version: (Int, Int) = (1, 1),
        _ headers: [(String, String)] = []
    ) -> ResponsePlan {
        ResponsePlanner.plan(
            response,
            for: IncomingRequest(
                method: method,
                target: "/",
                headers: headers.map { HeaderField($0.0, $0.1) },
                version: version
            ),
            date: self.date
        )
    }

    var response: ResolvedResponse {
        ResolvedResponse(status: 200, body: .bytes(self.body, contentType: "text/plain"), lastModified: 1_000_000)
    }

    /// The bytes a plan sends, with slices taken from `body`.
    func bytes(_ plan: ResponsePlan) -> [UInt8] {
        plan.segments.flatMap { segment -> [UInt8] in
            switch segment {
            case .bytes(let bytes): return bytes
            case .slice(let offset, let length): return Array(self.body[Int(offset)..<Int(offset + length)])
            }
        }
    }

    @Test func fullAnswersAdvertiseRangesAndValidators() {
        let plan = self.plan(self.response)
        #expect(plan.headers.first(named: "Accept-Ranges") == "bytes")
        #expect(plan.headers.first(named: "ETag") == EntityTag.forBytes(self.body))
        #expect(plan.headers.first(named: "Last-Modified") == HTTPDate.format(secondsSince1970: 1_000_000))
        #expect(self.bytes(plan) == self.body)
    }

    @Test func answersOneRange() {
        let plan = self.plan(self.response, [("Range", "bytes=5-9")])
        #expect(plan.status == 206)
        #expect(plan.reason == "Partial Content")
        #expect(plan.headers.first(named: "Content-Range") == "bytes 5-9/20")
        #expect(plan.headers.first(named: "Content-Length") == "5")
        #expect(!plan.headers.contains(named: "Accept-Ranges"))
        #expect(self.bytes(plan) == Array("56789".utf8))
        let head = self.plan(self.response, method: "HEAD", [("Range", "bytes=5-9")])
        #expect(head.status == 206)
        #expect(head.segments.isEmpty)
    }

    @Test func answersSeveralRangesAsMultipart() throws {
        let plan = self.plan(self.response, [("Range", "bytes=0-1,-2")])
        #expect(plan.status == 206)
        let contentType = try #require(plan.headers.first(named: "Content-Type"))
        #expect(contentType.hasPrefix("multipart/byteranges; boundary="))
        let boundary = String(contentType.dropFirst("multipart/byteranges; boundary=".count))
        let text = String(decoding: self.bytes(plan), as: UTF8.self)
        #expect(
            text == "--\(boundary)\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-1/20\r\n\r\n01"
                + "\r\n--\(boundary)\r\nContent-Type: text/plain\r\nContent-Range: bytes 18-19/20\r\n\r\nij"
                + "\r\n--\(boundary)--\r\n"
        )
        #expect(plan.headers.first(named: "Content-Length") == String(text.utf8.count))
    }

    @Test func multipartPartsCarryTheRulesContentType() throws {
        var typed = self.response
        typed.headers = [HeaderField("Content-Type", "application/x-ndjson")]
        let plan = self.plan(typed, [("Range", "bytes=0-1,-2")])
        #expect(plan.headers.values(named: "Content-Type").count == 1)
        let contentType = try #require(plan.headers.first(named: "Content-Type"))
        #expect(contentType.hasPrefix("multipart/byteranges; boundary="))
        let text = String(decoding: self.bytes(plan), as: UTF8.self)
        #expect(text.contains("\r\nContent-Type: application/x-ndjson\r\nContent-Range: bytes 0-1/20\r\n"))
        #expect(!text.contains("text/plain"))
        #expect(
            self.plan(typed).headers.first(named: "Content-Type") == "application/x-ndjson",
            "a whole answer keeps it"
        )
    }

    @Test func answersUnsatisfiableRangesWith416() {
        let plan = self.plan(self.response, [("Range", "bytes=50-")])
        #expect(plan.status == 416)
        #expect(plan.headers.first(named: "Content-Range") == "bytes */20")
        #expect(!plan.headers.contains(named: "ETag"))
    }

    @Test func ignoresMalformedRangesAndRangesOnOtherMethods() {
        #expect(self.plan(self.response, [("Range", "bytes=x-y")]).status == 200)
        #expect(self.plan(self.response, method: "POST", [("Range", "bytes=0-1")]).status == 200)
        let notFound = ResolvedResponse(status: 404, body: .bytes(self.body, contentType: "text/plain"))
        #expect(self.plan(notFound, [("Range", "bytes=0-1")]).status == 404)
    }

    @Test func honoursIfRange() {
        let etag = EntityTag.forBytes(self.body)
        #expect(self.plan(self.response, [("Range", "bytes=0-1"), ("If-Range", etag)]).status == 206)
        #expect(self.plan(self.response, [("Range", "bytes=0-1"), ("If-Range", #""stale""#)]).status == 200)
        let date = HTTPDate.format(secondsSince1970: 1_000_000)
        #expect(self.plan(self.response, [("Range", "bytes=0-1"), ("If-Range", date)]).status == 206)
        let other = HTTPDate.format(secondsSince1970: 999_999)
        #expect(self.plan(self.response, [("Range", "bytes=0-1"), ("If-Range", other)]).status == 200)
    }

    @Test func aRuleThatSays206SendsTheWholeBodyAsOneRange() {
        var response = self.response
        response.status = 206
        let plan = self.plan(response)
        #expect(plan.status == 206)
        #expect(plan.headers.first(named: "Content-Range") == "bytes 0-19/20")
        #expect(self.bytes(plan) == self.body)
        #expect(self.plan(response, [("Range", "bytes=0-0")]).headers.first(named: "Content-Range") == "bytes 0-0/20")
    }

    @Test func notModifiedKeepsOnlyWhatACacheUpdates() {
        var response = self.response
        response.headers = [
            HeaderField("Cache-Control", "max-age=60"), HeaderField("Vary", "Accept"), HeaderField("X-Other", "1"),
            HeaderField("Expires", "Thu, 26 Nov 2026 13:00:00 GMT"),
        ]
        let plan = self.plan(response, [("If-None-Match", EntityTag.forBytes(self.body))])
        #expect(plan.status == 304)
        #expect(plan.segments.isEmpty)
        #expect(
            plan.headers.map(\.name) == ["Date", "ETag", "Last-Modified", "Cache-Control", "Vary", "Expires"]
        )
    }

    @Test func failedPreconditionsGet412() {
        let plan = self.plan(self.response, method: "PUT", [("If-Match", #""other""#)])
        #expect(plan.status == 412)
        #expect(!plan.headers.contains(named: "ETag"))
    }

    @Test func addsTheHeadersEachStatusNeeds() {
        #expect(
            self.plan(ResolvedResponse(status: 401)).headers.first(named: "WWW-Authenticate")
                == #"Basic realm="faultline""#
        )
        #expect(
            self.plan(ResolvedResponse(status: 407)).headers.first(named: "Proxy-Authenticate")
                == #"Basic realm="faultline""#
        )
        #expect(
            self.plan(ResolvedResponse(status: 405, allow: ["GET", "HEAD", "PUT"])).headers.first(named: "Allow")
                == "GET, HEAD, PUT"
        )
        let ruleSays = ResolvedResponse(status: 401, headers: [HeaderField("WWW-Authenticate", "Negotiate")])
        #expect(self.plan(ruleSays).headers.values(named: "WWW-Authenticate") == ["Negotiate"])
        let rangeNotSatisfiable = ResolvedResponse(status: 416, body: .bytes(self.body, contentType: "text/plain"))
        #expect(self.plan(rangeNotSatisfiable).headers.first(named: "Content-Range") == "bytes */20")
    }

    @Test func interimResponsesGoToHTTP11ClientsOnly() {
        let response = ResolvedResponse(
            status: 200,
            interim: [InterimResponse(status: 103, headers: [HeaderField("Link", "</a.css>")])]
        )
        #expect(self.plan(response).interim.count == 1)
        #expect(self.plan(response, version: (1, 0)).interim.isEmpty)
    }

    @Test func connectAndUpgradeCloseTheConnection() {
        #expect(self.plan(self.response, method: "CONNECT").closeAfter)
        #expect(self.plan(self.response, [("Connection", "Upgrade"), ("Upgrade", "h2c")]).closeAfter)
        #expect(!self.plan(self.response, [("Upgrade", "h2c")]).closeAfter)
    }

    @Test func anExplicitTransferEncodingReplacesContentLength() {
        let chunked = ResolvedResponse(
            status: 200,
            headers: [HeaderField("Transfer-Encoding", "chunked")],
            body: .bytes(self.body, contentType: "text/plain")
        )
        let plan = self.plan(chunked)
        #expect(!plan.headers.contains(named: "Content-Length"))
        #expect(plan.headers.first(named: "Transfer-Encoding") == "chunked")
        let head = self.plan(chunked, method: "HEAD")
        #expect(!head.headers.contains(named: "Transfer-Encoding"), "a bodiless answer never says chunked")
    }

    @Test func aBodyWhoseLastCodingIsNotChunkedEndsWithTheConnection() {
        func response(_ codings: String) -> ResolvedResponse {
            ResolvedResponse(
                status: 200,
                headers: [HeaderField("Transfer-Encoding", codings)],
                body: .bytes(self.body, contentType: "text/plain")
            )
        }
        let gzip = self.plan(response("gzip"))
        #expect(!gzip.isChunked)
        #expect(gzip.closeAfter, "RFC 9112 section 6.3: read until the server closes")
        #expect(gzip.headers.first(named: "Connection") == "close")
        let layered = self.plan(response("gzip, chunked"))
        #expect(layered.isChunked)
        #expect(!layered.closeAfter)
    }
}
