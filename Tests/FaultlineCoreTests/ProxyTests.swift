import Crypto
import FaultlineCore
import Foundation
import SwiftASN1
import Testing
import X509

/// `proxy` answers without a socket: the upstream URL, the headers that cross, how an upstream's answer is planned
/// with the rule on top, the loader's keys, and the journal's `upstream` field.
@Suite("Proxy: URLs, headers, planning and loading")
struct ProxyTests {
    let date = "Thu, 26 Nov 2026 12:00:00 GMT"

    func upstream(_ text: String) throws -> UpstreamURL {
        try UpstreamURL.parse(text).get()
    }

    // MARK: - The upstream URL

    @Test func upstreamURLsTakeABasePathAndTheRequestsPathAndQuery() throws {
        let plain = try self.upstream("http://127.0.0.1:8081")
        #expect(plain.url(for: "/orders?page=2") == "http://127.0.0.1:8081/orders?page=2")
        #expect(plain.authority == "127.0.0.1:8081")
        let based = try self.upstream("HTTPS://API.example.com/v1/")
        #expect(based.description == "https://api.example.com/v1")
        #expect(based.authority == "api.example.com", "the default port is not written")
        #expect(based.url(for: "/orders?page=2") == "https://api.example.com/v1/orders?page=2")
        #expect(based.url(for: "/") == "https://api.example.com/v1/")
        #expect(
            based.url(for: "http://front.test/x?y=1") == "https://api.example.com/v1/x?y=1",
            "absolute-form keeps path and query"
        )
        #expect(
            plain.url(for: "/a%20b/{c}?q=\"x y\"") == "http://127.0.0.1:8081/a%20b/%7Bc%7D?q=%22x%20y%22",
            "what was encoded stays, the rest is encoded"
        )
        #expect(plain.url(for: "*") == "http://127.0.0.1:8081/")
        let v6 = try self.upstream("http://[::1]:9000/base")
        #expect(v6.host == "::1")
        #expect(v6.url(for: "/x") == "http://[::1]:9000/base/x")
    }

    @Test func unusableUpstreamURLsSayWhy() {
        func problem(_ text: String) -> String? {
            if case .failure(let error) = UpstreamURL.parse(text) { return error.description }
            return nil
        }
        #expect(problem("ftp://x")?.contains("is not an http:// or https:// URL") == true)
        #expect(problem("http://x/a?b=1")?.contains("query or a fragment") == true)
        #expect(problem("http://user:pw@x")?.contains("user information") == true)
        #expect(problem("http://x:99999")?.contains("port that is not a number from 1 to 65535") == true)
        #expect(problem("http://")?.contains("names no host") == true)
        #expect(problem("http://x/a b")?.contains("spaces or control characters") == true)
    }

    // MARK: - Headers

    @Test func hopByHopHeadersAndThoseConnectionNamesAreDroppedBothWays() throws {
        let url = try self.upstream("http://127.0.0.1:8081")
        let request = [
            HeaderField("Host", "front.test"), HeaderField("Connection", "keep-alive, X-Trace"),
            HeaderField("X-Trace", "1"), HeaderField("Keep-Alive", "timeout=5"), HeaderField("TE", "trailers"),
            HeaderField("Accept", "*/*"), HeaderField("Proxy-Authorization", "Basic eA=="),
            HeaderField("Upgrade", "h2c"),
            HeaderField("Content-Length", "3"), HeaderField("Expect", "100-continue"),
            HeaderField("If-None-Match", "\"v1\""),
            HeaderField("Range", "bytes=0-9"),
        ]
        #expect(
            ProxyHeaders.forRequest(request, upstream: url) == [
                HeaderField("Host", "127.0.0.1:8081"), HeaderField("Accept", "*/*"),
                HeaderField("If-None-Match", "\"v1\""),
                HeaderField("Range", "bytes=0-9"),
            ]
        )
        let response = [
            HeaderField("Server", "nginx"), HeaderField("Connection", "close, X-Hop"), HeaderField("X-Hop", "a"),
            HeaderField("Transfer-Encoding", "chunked"), HeaderField("ETag", "\"v1\""), HeaderField("Trailer", "X"),
            HeaderField("Set-Cookie", "a=1"), HeaderField("Set-Cookie", "b=2"),
        ]
        #expect(
            ProxyHeaders.forResponse(response) == [
                HeaderField("Server", "nginx"), HeaderField("ETag", "\"v1\""), HeaderField("Set-Cookie", "a=1"),
                HeaderField("Set-Cookie", "b=2"),
            ]
        )
    }

    // MARK: - Planning the upstream's answer

    func plan(
        _ head: UpstreamHead,
        rule: ResolvedResponse = ResolvedResponse(status: 200),
        method: String = "GET",
        version: (Int, Int) = (1, 1),
        headers: [HeaderField] = []
    ) -> ResponsePlan {
        ResponsePlanner.plan(
            upstream: head,
            response: rule,
            for: IncomingRequest(method: method, target: "/", headers: headers, version: version),
            date: self.date
        )
    }

    @Test func theUpstreamsAnswerPassesAsItCameWithNothingOfFaultlinesOwn() {
        let head = UpstreamHead(
            status: 200,
            reason: "Fine",
            headers: [
                HeaderField("Server", "nginx"), HeaderField("Date", "Wed, 25 Nov 2026 10:00:00 GMT"),
                HeaderField("Content-Type", "text/html"), HeaderField("Content-Length", "1234"),
                HeaderField("Last-Modified", "Tue, 24 Nov 2026 10:00:00 GMT"), HeaderField("Connection", "keep-alive"),
            ]
        )
        let plan = self.plan(head, headers: [HeaderField("Range", "bytes=0-1"), HeaderField("If-None-Match", "*")])
        #expect(plan.status == 200, "ranges and conditionals are the upstream's business")
        #expect(plan.reason == "Fine")
        #expect(
            plan.headers == [
                HeaderField("Server", "nginx"), HeaderField("Date", "Wed, 25 Nov 2026 10:00:00 GMT"),
                HeaderField("Content-Type", "text/html"), HeaderField("Content-Length", "1234"),
                HeaderField("Last-Modified", "Tue, 24 Nov 2026 10:00:00 GMT"),
            ],
            "no ETag, Accept-Ranges or Date of Faultline's own; the upstream's Date kept"
        )
        #expect(!plan.dateIsAutomatic)
        #expect(plan.upstreamBody == ResponsePlan.UpstreamBody(length: 1234))
        #expect(plan.segments.isEmpty)
        #expect(plan.http1Steps == [.head(over: nil), .body(BodyWrite()), .finish(.completed(closeAfter: false))])
    }

    @Test func aBodyOfUnknownLengthIsChunkedOrForHTTP10EndsWithTheConnection() {
        let head = UpstreamHead(status: 200, reason: "OK", headers: [HeaderField("Transfer-Encoding", "chunked")])
        let chunked = self.plan(head)
        #expect(chunked.headers == [HeaderField("Date", self.date), HeaderField("Transfer-Encoding", "chunked")])
        #expect(chunked.isChunked)
        #expect(chunked.upstreamBody == ResponsePlan.UpstreamBody(length: nil))
        #expect(
            chunked.http1Steps == [
                .head(over: nil), .body(BodyWrite(chunked: true)), .finish(.completed(closeAfter: false)),
            ]
        )
        let old = self.plan(head, version: (1, 0))
        #expect(old.headers == [HeaderField("Date", self.date), HeaderField("Connection", "close")])
        #expect(!old.isChunked)
        #expect(old.closeAfter)
    }

    @Test func headAnd304KeepTheUpstreamsLengthAndSendNoBody() {
        let head = UpstreamHead(
            status: 200,
            reason: "OK",
            headers: [HeaderField("Content-Length", "99"), HeaderField("ETag", "\"a\"")]
        )
        let forHead = self.plan(head, method: "HEAD")
        #expect(forHead.headers.first(named: "Content-Length") == "99")
        #expect(forHead.upstreamBody == nil)
        #expect(forHead.http1Steps == [.head(over: nil), .finish(.completed(closeAfter: false))])
        let notModified = self.plan(
            UpstreamHead(status: 304, reason: "Not Modified", headers: [HeaderField("ETag", "\"a\"")])
        )
        #expect(notModified.status == 304)
        #expect(notModified.headers == [HeaderField("Date", self.date), HeaderField("ETag", "\"a\"")])
        #expect(notModified.upstreamBody == nil)
    }

    @Test func aFaultOnlyHTTP2HasMeetsAnHTTP11ClientOfAProxiedAnswerWithAReset() {
        // As for a rule's own answer (the planner's one decision of the faults that send no response).
        let head = UpstreamHead(status: 200, reason: "OK", headers: [HeaderField("Content-Length", "5000")])
        var rule = ResolvedResponse(status: 200)
        rule.fault = .rstStream(.refusedStream, afterBytes: nil)
        let overHTTP11 = self.plan(head, rule: rule)
        #expect(overHTTP11.action == .reset)
        #expect(overHTTP11.fault == .rstStream(.refusedStream, afterBytes: nil), "journaled under the fault's name")
        let overHTTP2 = self.plan(head, rule: rule, version: (2, 0))
        #expect(overHTTP2.action == .respond)
        #expect(overHTTP2.http2Steps.contains(.resetStream(.refusedStream)))
        rule.fault = .drop
        #expect(self.plan(head, rule: rule).action == .drop)
    }

    @Test func theRulesHeadersDelaysPaceAndFaultApplyOnTop() {
        let head = UpstreamHead(
            status: 200,
            reason: "OK",
            headers: [HeaderField("Content-Length", "5000"), HeaderField("Cache-Control", "max-age=60")]
        )
        var rule = ResolvedResponse(
            status: 200,
            headers: [HeaderField("Cache-Control", "no-store"), HeaderField("X-Faultline", "on")]
        )
        rule.delay = .milliseconds(200)
        rule.bodyDelay = .seconds(1)
        rule.bytesPerSecond = 1024
        rule.fault = .truncate(1000)
        rule.retryAfter = "2"
        let plan = self.plan(head, rule: rule)
        #expect(
            plan.headers == [
                HeaderField("Date", self.date), HeaderField("Retry-After", "2"), HeaderField("Content-Length", "5000"),
                HeaderField("Cache-Control", "no-store"), HeaderField("X-Faultline", "on"),
            ],
            "the true Content-Length, the rule's headers replacing the upstream's"
        )
        #expect(plan.closeAfter, "a cut body ends the connection")
        #expect(plan.cut == ResponsePlan.Cut(after: 1000, reset: false))
        #expect(
            plan.http1Steps == [
                .delay(.milliseconds(200)), .head(over: nil), .bodyDelay(.seconds(1)),
                .body(BodyWrite(bytesPerSecond: 1024, cutAfter: 1000)), .finish(.dropped),
            ]
        )
        var cutChunked = ResolvedResponse(status: 200)
        cutChunked.fault = .truncate(10)
        #expect(
            self.plan(UpstreamHead(status: 200, reason: "OK", headers: []), rule: cutChunked).cut?.after == 10,
            "a body of unknown length is cut at N"
        )
        var dropped = ResolvedResponse(status: 200)
        dropped.fault = .drop
        #expect(self.plan(head, rule: dropped).http1Steps == [.finish(.dropped)])
    }

    @Test func anUpstreamFailureIsOneLineOfText() throws {
        let response = ResponsePlanner.upstreamFailure(
            status: 502,
            cause: "connection refused",
            upstream: try self.upstream("http://127.0.0.1:9"),
            defaultHeaders: [HeaderField("Server", "faultline")]
        )
        #expect(response.status == 502)
        guard case .bytes(let bytes, _) = response.body else {
            Issue.record("a text body")
            return
        }
        #expect(
            String(decoding: bytes, as: UTF8.self) == "Faultline: upstream http://127.0.0.1:9: connection refused\n"
        )
        #expect(response.headers == [HeaderField("Server", "faultline")])
    }

    // MARK: - Loading

    @Test func proxyKeysLoadOnRulesAndSteps() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("proxy-ca-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let authority = try TestCertificates.authorityPEM()
        try Data(authority.utf8).write(to: folder.appendingPathComponent("ca.pem"))
        let scenario = try load(
            """
            version: 1
            rules:
              - path: /a
                proxy: https://api.example.com/v1
                proxyTimeout: 2s
                proxyCA: ca.pem
                headers: {X-Extra: "1"}
                fault: {truncate: 100}
              - path: /b
                sequence:
                  - {status: 503, times: 2}
                  - {proxy: "https://api.example.com", proxyInsecure: true}
              - {path: /c, proxy: "http://127.0.0.1:8081"}
            """,
            directory: folder.path
        )
        guard case .single(let a) = scenario.rules[0].response,
            case .sequence(let steps, _) = scenario.rules[1].response,
            case .single(let c) = scenario.rules[2].response
        else {
            Issue.record("unexpected rule shapes")
            return
        }
        #expect(a.proxy?.upstream.description == "https://api.example.com/v1")
        #expect(a.proxy?.timeout == .seconds(2))
        #expect(
            a.proxy?.trust
                == .certificateAuthority(file: folder.appendingPathComponent("ca.pem").standardizedFileURL.path)
        )
        #expect(steps[0].proxy == nil)
        #expect(steps[1].proxy?.trust == ProxySpec.Trust.none)
        #expect(
            c.proxy
                == ProxySpec(
                    upstream: try self.upstream("http://127.0.0.1:8081"),
                    timeout: .seconds(30),
                    trust: .system
                )
        )
        #expect(RuleEngine(scenario: scenario).hasProxyRules)
        #expect(!RuleEngine(scenario: try load("version: 1\nrules: [{path: /x}]\n")).hasProxyRules)
    }

    @Test func proxyKeysThatCannotWorkAreRefusedWithTheReason() {
        #expect(
            problems(
                """
                version: 1
                rules:
                  - {path: /a, proxy: "http://x", status: 200, body: hi}
                  - {path: /b, proxyTimeout: 1s}
                  - {path: /c, proxy: "http://x", proxyInsecure: true}
                  - {path: /d, proxy: "ftp://x"}
                  - {path: /e, proxy: "http://x", proxyTimeout: 0s}
                  - {path: /f, proxy: "https://x", proxyCA: missing.pem}
                """
            ) == [
                "3:35: 'status' cannot stand beside 'proxy': a proxied answer's status, body and framing are the upstream's "
                    + "(add or replace header fields with 'headers').",
                "3:48: 'body' cannot stand beside 'proxy': a proxied answer's status, body and framing are the upstream's "
                    + "(add or replace header fields with 'headers').",
                "4:16: 'proxyTimeout' applies to a 'proxy' answer; add 'proxy: URL' or remove it.",
                "5:35: 'proxyInsecure' applies to an https:// upstream; http://x is plain HTTP.",
                "6:23: Expected the upstream as an http:// or https:// URL, such as https://api.example.com/v1: "
                    + "'ftp://x' is not an http:// or https:// URL.",
                "7:49: The proxy timeout must be longer than zero.",
                "8:45: The upstream CA certificate file 'missing.pem' does not exist (looked for /tmp/missing.pem).",
            ]
        )
    }

    @Test func aProxyDecisionAsksForTheBody() throws {
        var response = ResolvedResponse(status: 200)
        response.proxy = ProxySpec(upstream: try self.upstream("http://x"))
        response.fault = .drop
        #expect(
            Decision(kind: .rule, response: response).earlyAnswer == .askForBody,
            "the upstream gets the body; the fault meets its answer"
        )
    }

    // MARK: - The journal

    @Test func theJournalsUpstreamFieldComesOnlyWithProxiedAnswers() {
        var entry = JournalEntry(
            connection: 1,
            listener: "127.0.0.1:8080",
            client: "127.0.0.1:5000",
            receivedAt: 0,
            method: "GET",
            target: "/x",
            path: "/x",
            version: "HTTP/1.1",
            headers: [],
            bodyBytes: 0,
            rule: "upstream",
            step: nil,
            status: 502,
            responseHeaders: [],
            fault: nil,
            outcome: .completed,
            bytesSent: 10,
            bodyBytesSent: 5,
            firstByteMs: 1,
            totalMs: 2
        )
        #expect(entry.json.hasSuffix("\"firstByteMs\":1,\"totalMs\":2}"))
        entry.upstream = UpstreamOutcome(url: "http://127.0.0.1:9/x", status: nil, milliseconds: 1.5)
        #expect(
            entry.json.hasSuffix(
                "\"totalMs\":2,\"upstream\":{\"url\":\"http://127.0.0.1:9/x\",\"status\":null,\"ms\":1.5}}"
            )
        )
        entry.upstream?.status = 200
        #expect(entry.json.hasSuffix("\"upstream\":{\"url\":\"http://127.0.0.1:9/x\",\"status\":200,\"ms\":1.5}}"))
    }

    @Test func thePassThroughRuleComesLast() throws {
        let scenario = try load(
            "version: 1\ndefaults: {headers: {Server: faultline}}\nrules: [{path: /x, status: 503}]\n"
        )
        let proxy = ProxySpec(upstream: try self.upstream("http://127.0.0.1:8081"))
        let served = scenario.appending(Rule.passThrough(to: proxy))
        #expect(served.rules.count == 2)
        #expect(served.rules[1].index == 1)
        #expect(served.rules[1].label == "upstream")
        #expect(served.rules[1].defaultHeaders == [HeaderField("Server", "faultline")])
        let engine = RuleEngine(scenario: served)
        #expect(engine.decide(IncomingRequest(method: "GET", target: "/x")).response.status == 503)
        let passed = engine.decide(IncomingRequest(method: "POST", target: "/elsewhere?q=1"))
        #expect(passed.ruleLabel == "upstream")
        #expect(passed.response.proxy == proxy)
    }
}

/// A CA certificate made at run time (never a committed blob), for `proxyCA`.
enum TestCertificates {
    static func authorityPEM() throws -> String {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName { CommonName("Faultline proxy test CA") }
        let now = Date()
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-60),
            notValidAfter: now.addingTimeInterval(3600),
            issuer: name,
            subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            },
            issuerPrivateKey: .init(key)
        )
        return try certificate.serializeAsPEM().pemString
    }
}
