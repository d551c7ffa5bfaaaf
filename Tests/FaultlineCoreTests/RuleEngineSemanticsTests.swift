import FaultlineCore
import Foundation
import Testing

@Suite("Rule engine: methods, media types, auth, rate limits")
struct RuleEngineSemanticsTests {
    @Test func answers405WithTheMethodsThatWouldWork() throws {
        let engine = try engine(
            """
            version: 1
            rules:
              - {method: [POST, PUT], path: /orders}
              - {method: GET, path: /orders}
              - {method: DELETE, path: /other}
            """
        )
        let decision = engine.decide(request("/orders", method: "PATCH"))
        #expect(decision.kind == .methodNotAllowed)
        #expect(decision.response.status == 405)
        #expect(decision.response.allow == ["GET", "HEAD", "POST", "PUT"])
        #expect(engine.decide(request("/orders", method: "HEAD")).kind == .rule, "a GET rule answers HEAD")
        #expect(engine.decide(request("/nowhere", method: "PATCH")).response.status == 404)
    }

    @Test func answers501ForMethodsNobodyDefines() throws {
        let engine = try engine("version: 1\nrules:\n  - {path: /x}\n  - {method: PURGE, path: /cache}\n")
        #expect(engine.decide(request("/elsewhere", method: "SUBSCRIBE")).response.status == 501)
        #expect(engine.decide(request("/elsewhere", method: "GET")).response.status == 404)
        #expect(
            engine.decide(request("/x", method: "SUBSCRIBE")).response.status == 200,
            "a rule with no method takes any"
        )
        #expect(engine.decide(request("/cache", method: "PURGE")).response.status == 200)
        #expect(
            engine.decide(request("/x", method: "PROPFIND")).response.status == 200,
            "a rule with no method takes any"
        )
    }

    @Test func checksContentTypeAndAccept() throws {
        let engine = try engine(
            """
            version: 1
            rules:
              - {method: POST, path: /upload, consumes: [application/json, "text/*"], status: 201}
              - {path: /report, produces: application/json, json: {ok: true}}
            """
        )
        func post(_ contentType: String) -> Int {
            engine.decide(
                request(
                    "/upload",
                    method: "POST",
                    headers: [HeaderField("Content-Type", contentType), HeaderField("Content-Length", "2")]
                )
            ).response.status
        }
        #expect(post("application/json") == 201)
        #expect(post("application/json; charset=utf-8") == 201)
        #expect(post("text/csv") == 201)
        #expect(post("application/xml") == 415)
        #expect(engine.decide(request("/upload", method: "POST")).response.status == 201, "no body, nothing to check")
        func get(_ accept: String?) -> Int {
            engine.decide(request("/report", headers: accept.map { [HeaderField("Accept", $0)] } ?? [])).response.status
        }
        #expect(get(nil) == 200)
        #expect(get("application/*") == 200)
        #expect(get("text/html") == 406)
        #expect(get("text/html, application/json;q=0") == 406)
    }

    @Test func requiresContentLengthWhenAsked() throws {
        let engine = try engine(
            "version: 1\nrules:\n  - {method: POST, path: /u, requireContentLength: true, status: 201}\n"
        )
        let chunked = request("/u", method: "POST", headers: [HeaderField("Transfer-Encoding", "chunked")])
        #expect(engine.decide(chunked).response.status == 411)
        let sized = request("/u", method: "POST", headers: [HeaderField("Content-Length", "3")])
        #expect(engine.decide(sized).response.status == 201)
    }

    @Test func checksBasicAndBearerCredentials() throws {
        let engine = try engine(
            """
            version: 1
            rules:
              - {path: /basic, auth: {basic: "alice:s3cret"}, body: welcome}
              - {path: /token, auth: {bearer: abc123, realm: api}}
              - {path: /proxy, auth: {basic: "p:q", proxy: true}}
              - path: /users/{user}
                auth: {basic: "{user}:pw"}
            """
        )
        func status(_ target: String, _ headers: [(String, String)] = []) -> Decision {
            engine.decide(request(target, headers: headers.map { HeaderField($0.0, $0.1) }))
        }
        let missing = status("/basic")
        #expect(missing.response.status == 401)
        #expect(missing.kind == .unauthorized)
        #expect(
            missing.response.headers.first(named: "WWW-Authenticate") == #"Basic realm="faultline", charset="UTF-8""#
        )
        let good = Data("alice:s3cret".utf8).base64EncodedString()
        let bad = Data("alice:nope".utf8).base64EncodedString()
        #expect(status("/basic", [("Authorization", "Basic \(good)")]).response.status == 200)
        #expect(
            status("/basic", [("Authorization", "basic \(good)")]).response.status == 200,
            "schemes are case-insensitive"
        )
        #expect(status("/basic", [("Authorization", "Basic \(bad)")]).response.status == 401)
        #expect(status("/basic", [("Authorization", "Bearer \(good)")]).response.status == 401)
        #expect(status("/token").response.headers.first(named: "WWW-Authenticate") == #"Bearer realm="api""#)
        let wrongToken = status("/token", [("Authorization", "Bearer nope")])
        #expect(
            wrongToken.response.headers.first(named: "WWW-Authenticate")
                == #"Bearer realm="api", error="invalid_token""#
        )
        #expect(status("/token", [("Authorization", "Bearer abc123")]).response.status == 200)
        let proxy = status("/proxy", [("Authorization", "Basic \(Data("p:q".utf8).base64EncodedString())")])
        #expect(proxy.response.status == 407, "a proxy reads Proxy-Authorization, not Authorization")
        #expect(proxy.response.headers.first(named: "Proxy-Authenticate") != nil)
        #expect(
            status("/proxy", [("Proxy-Authorization", "Basic \(Data("p:q".utf8).base64EncodedString())")]).response
                .status == 200
        )
        #expect(
            status("/users/bob", [("Authorization", "Basic \(Data("bob:pw".utf8).base64EncodedString())")]).response
                .status == 200
        )
        #expect(
            status("/users/eve", [("Authorization", "Basic \(Data("bob:pw".utf8).base64EncodedString())")]).response
                .status == 401
        )
    }

    @Test func rateLimitsWithASlidingWindow() throws {
        let engine = try engine("version: 1\nrules:\n  - {path: /r, rateLimit: {requests: 3, per: 10s}}\n")
        let start = ContinuousClock.now
        let statuses = (0..<5).map { engine.decide(request("/r"), now: start + .seconds($0)).response.status }
        #expect(statuses == [200, 200, 200, 429, 429])
        let limited = engine.decide(request("/r"), now: start + .milliseconds(5500))
        #expect(limited.kind == .rateLimited)
        // The oldest answer (at 0 s) leaves the window at 10 s: 4.5 s from now, rounded up.
        #expect(limited.response.retryAfter == "5")
        #expect(engine.decide(request("/r"), now: start + .milliseconds(10_001)).response.status == 200)
        #expect(engine.decide(request("/r"), now: start + .milliseconds(10_002)).response.status == 429)
        engine.reset()
        #expect(engine.decide(request("/r"), now: start + .milliseconds(10_003)).response.status == 200)
    }

    @Test func refusedRequestsDoNotAdvanceSequences() throws {
        let engine = try engine(
            """
            version: 1
            rules:
              - path: /s
                auth: {bearer: t}
                sequence: [{status: 503}, {status: 200}]
            """
        )
        #expect(engine.decide(request("/s")).response.status == 401)
        let authorized = [HeaderField("Authorization", "Bearer t")]
        #expect(engine.decide(request("/s", headers: authorized)).response.status == 503)
        #expect(engine.decide(request("/s", headers: authorized)).response.status == 200)
    }

    @Test func requestDataCannotBreakTheHead() throws {
        let engine = try engine(
            """
            version: 1
            rules:
              - path: /u/{id}
                headers: {X-Id: "{id}"}
              - path: /n/{n}
                status: 302
                location: "/n/{n+1}"
            """
        )
        let injected = engine.decide(request("/u/a%0D%0ASet-Cookie:%20x=1"))
        #expect(injected.response.status == 400)
        #expect(engine.decide(request("/u/fine")).response.headers == [HeaderField("X-Id", "fine")])
        #expect(engine.decide(request("/n/9223372036854775807")).response.status == 400, "no overflow trap")
        #expect(engine.decide(request("/n/41")).response.location == "/n/42")
    }

    @Test func hugeSequenceCountsDoNotOverflow() throws {
        let engine = try engine(
            """
            version: 1
            rules:
              - path: /s
                cycle: true
                sequence: [{status: 503, times: 9223372036854775807}, {status: 200, times: 9223372036854775807}]
            """
        )
        #expect(engine.decide(request("/s")).response.status == 503)
    }

    @Test func manyDoubleStarsStayFast() throws {
        let pattern = PathPattern(path: "/**/a/**/a/**/a/**/x")
        let path = "/" + Array(repeating: "a", count: 2000).joined(separator: "/")
        let start = ContinuousClock.now
        #expect(pattern.match(path) == nil)
        #expect(ContinuousClock.now - start < .seconds(5))
    }

    @Test func fillsEtagsAndKeepsLastModifiedFromTheRule() throws {
        let engine = try RuleEngine(
            scenario: load(
                """
                version: 1
                rules:
                  - path: /e/{tag}
                    etag: "{tag}"
                    body: x
                  - {path: /w, etag: 'W/"weak"', lastModified: "Wed, 21 Oct 2026 07:28:00 GMT", body: y}
                  - {path: /plain, body: z}
                """
            ),
            loadedAt: 1_700_000_000
        )
        let tagged = engine.decide(request("/e/v7")).response
        #expect(tagged.etag == #""v7""#)
        #expect(tagged.lastModified == 1_700_000_000)
        #expect(!tagged.lastModifiedIsExplicit)
        let weak = engine.decide(request("/w")).response
        #expect(weak.etag == #"W/"weak""#)
        #expect(weak.lastModified == HTTPDate.parse("Wed, 21 Oct 2026 07:28:00 GMT"))
        #expect(weak.lastModifiedIsExplicit)
        #expect(engine.decide(request("/e/a%22b")).response.status == 400, "a quote cannot go into an entity tag")
    }
}
