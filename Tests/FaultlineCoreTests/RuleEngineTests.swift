import FaultlineCore
import Foundation
import Testing

/// A GET (or other method) request for `target`.
func request(_ target: String, method: String = "GET", headers: [HeaderField] = []) -> IncomingRequest {
    IncomingRequest(method: method, target: target, headers: headers)
}

/// A rule engine for a scenario given as YAML.
func engine(_ yaml: String, seed: UInt64? = nil) throws -> RuleEngine {
    RuleEngine(scenario: try load(yaml), seed: seed)
}

extension Decision {
    var bodyText: String {
        guard case .bytes(let bytes, _) = self.response.body else { return "" }
        return String(decoding: bytes, as: UTF8.self)
    }
}

@Suite("Rule engine")
struct RuleEngineTests {
    @Test func firstMatchingRuleWins() throws {
        let engine = try engine(
            """
            version: 1
            rules:
              - {name: post, method: POST, path: /api/orders, status: 201}
              - {name: tenant, path: /api/orders, match: {headers: {x-tenant: acme}}, status: 202}
              - {name: page, path: /api/orders, match: {query: {page: "2"}}, status: 206}
              - {name: any, path: /api/orders, status: 200}
            """
        )
        #expect(engine.decide(request("/api/orders", method: "POST")).ruleLabel == "post")
        #expect(engine.decide(request("/api/orders", headers: [HeaderField("X-Tenant", "acme")])).ruleLabel == "tenant")
        #expect(engine.decide(request("/api/orders", headers: [HeaderField("X-Tenant", "other")])).ruleLabel == "any")
        #expect(engine.decide(request("/api/orders?page=2")).ruleLabel == "page")
        #expect(engine.decide(request("/api/orders?page=3")).ruleLabel == "any")
        #expect(engine.decide(request("/api/orders?page=2")).response.status == 206)
    }

    @Test func matchesGlobsAndRegexes() {
        let star = PathPattern(path: "/api/*/items")
        #expect(star.match("/api/42/items") == [:])
        #expect(star.match("/api/42/x/items") == nil)
        #expect(star.match("/api//items") == [:])
        let deep = PathPattern(path: "/files/**")
        #expect(deep.match("/files/a/b/c.txt") != nil)
        #expect(deep.match("/files") != nil, "** also matches no segment at all, as Ant-style globs do")
        #expect(deep.match("/filesystem") == nil)
        #expect(deep.match("/files/") != nil)
        let middle = PathPattern(path: "/a/**/z")
        #expect(middle.match("/a/z") != nil)
        #expect(middle.match("/a/b/c/z") != nil)
        #expect(middle.match("/a/b/c/y") == nil)
        let partial = PathPattern(path: "/download/*.iso")
        #expect(partial.match("/download/big.iso") != nil)
        #expect(partial.match("/download/big.img") == nil)
        let capture = PathPattern(path: "/users/{id}/posts/{post}")
        #expect(capture.match("/users/7/posts/12") == ["id": "7", "post": "12"])
        #expect(capture.match("/users//posts/12") == nil)
        let regex = PathPattern.regex(try! PathRegex(#"^/api/(?<id>\d+)$"#))
        #expect(regex.match("/api/123") == ["id": "123"])
        #expect(regex.match("/api/12a") == nil)
        #expect(PathPattern(path: "/exact").match("/exact/") == nil)
    }

    @Test func decodesTargets() {
        let decoded = request("/a%20b/c?x=1&y=two+words&z=%26&flag")
        #expect(decoded.path == "/a b/c")
        #expect(
            decoded.query == [
                QueryItem("x", "1"), QueryItem("y", "two words"), QueryItem("z", "&"), QueryItem("flag", ""),
            ]
        )
        #expect(request("http://example.com/p?q=1").path == "/p")
        #expect(request("http://example.com").path == "/")
    }

    @Test func timesLetsTheNextRuleAnswer() throws {
        let engine = try engine(
            """
            version: 1
            rules:
              - {name: fail, path: /x, status: 503, times: 3}
              - {name: ok, path: /x, status: 200}
            """
        )
        let statuses = (0..<5).map { _ in engine.decide(request("/x")).response.status }
        #expect(statuses == [503, 503, 503, 200, 200])
        engine.reset()
        #expect(engine.decide(request("/x")).response.status == 503)
    }

    @Test func sequencesAdvanceAndRepeatTheirLastStep() throws {
        let engine = try engine(
            """
            version: 1
            rules:
              - path: /items
                sequence:
                  - {status: 503, retryAfter: 1, times: 2}
                  - {status: 429}
                  - {status: 200}
              - path: /cycle
                cycle: true
                sequence:
                  - {status: 500, times: 2}
                  - {status: 200}
            """
        )
        let items = (0..<6).map { _ in engine.decide(request("/items")) }
        #expect(items.map(\.response.status) == [503, 503, 429, 200, 200, 200])
        #expect(items.map(\.step) == [0, 0, 1, 2, 2, 2])
        #expect(items[0].response.retryAfter == "1")
        let cycle = (0..<7).map { _ in engine.decide(request("/cycle")).response.status }
        #expect(cycle == [500, 500, 200, 500, 500, 200, 500])
    }

    @Test func sequencesAreExactUnderConcurrentRequests() async throws {
        let engine = try engine(
            """
            version: 1
            rules:
              - path: /s
                sequence:
                  - {status: 503, times: 500}
                  - {status: 200}
            """
        )
        let statuses = await withTaskGroup(of: Int.self) { group in
            for _ in 0..<2000 {
                group.addTask { engine.decide(request("/s")).response.status }
            }
            var all: [Int] = []
            for await status in group { all.append(status) }
            return all
        }
        #expect(statuses.filter { $0 == 503 }.count == 500)
        #expect(statuses.filter { $0 == 200 }.count == 1500)
    }

    @Test func probabilityIsReproducibleFromTheSeed() throws {
        let yaml = """
            version: 1
            rules:
              - {name: flaky, path: /f, status: 500, probability: 0.3}
              - {name: ok, path: /f, status: 200}
            """
        func run(seed: UInt64) throws -> [Int] {
            let engine = try engine(yaml, seed: seed)
            return (0..<200).map { _ in engine.decide(request("/f")).response.status }
        }
        let first = try run(seed: 42)
        #expect(try run(seed: 42) == first)
        #expect(try run(seed: 43) != first)
        let failures = first.filter { $0 == 500 }.count
        #expect((30...90).contains(failures), "0.3 of 200 requests is about 60, got \(failures)")
        // The stream is fixed by the algorithm, not by the platform: these are the first choices for seed 42.
        #expect(Array(first.prefix(12)) == Array(try run(seed: 42).prefix(12)))
    }

    @Test func theSeededGeneratorIsStableAcrossReleases() {
        // Known values pin the algorithm (xoshiro256** seeded through SplitMix64, checked against an independent
        // implementation), so a replay with the same seed gives the same choices on every machine and release.
        var generator = SeededGenerator(seed: 42)
        #expect(
            (0..<3).map { _ in generator.next() } == [
                0x1578_0B2E_0C2E_C716, 0x6104_D986_6D11_3A7E, 0xAE17_5332_39E4_99A1,
            ]
        )
    }

    @Test func randomDelaysStayInBoundsAndRepeatWithTheSeed() throws {
        let yaml = """
            version: 1
            seed: 7
            rules:
              - {path: /u, delay: {uniform: [100ms, 300ms]}}
              - {path: /l, delay: {lognormal: {median: 200ms, sigma: 0.5}}}
            """
        let first = try engine(yaml)
        let second = try engine(yaml)
        let uniform = (0..<100).map { _ in first.decide(request("/u")).response.delay }
        #expect(uniform.allSatisfy { $0 >= .milliseconds(100) && $0 <= .milliseconds(300) })
        #expect(uniform == (0..<100).map { _ in second.decide(request("/u")).response.delay })
        let lognormal = (0..<1001).map { _ in first.decide(request("/l")).response.delay }.sorted()
        let median = lognormal[500]
        #expect(median > .milliseconds(150) && median < .milliseconds(260), "median \(median)")
        #expect(first.seed == 7)
        #expect(!first.seedWasDrawn)
        #expect(first.usesRandomness)
    }

    @Test func drawsAndReportsASeedWhenNoneIsGiven() throws {
        let engine = try engine("version: 1\nrules:\n  - {path: /f, probability: 0.5}\n")
        #expect(engine.seedWasDrawn)
        #expect(engine.usesRandomness)
        let fixed = try FaultlineCoreTests.engine("version: 1\nrules:\n  - {path: /f}\n")
        #expect(!fixed.usesRandomness)
    }

    @Test func aRequestTheRuleCannotAnswerDoesNotCountAsAnAnswer() throws {
        let engine = try engine(
            """
            version: 1
            rules:
              - path: /s/{code}
                rateLimit: {requests: 1, per: 1m}
                sequence:
                  - status: "{code}"
                  - status: 201
            """
        )
        #expect(engine.decide(request("/s/999")).response.status == 400)
        #expect(engine.decide(request("/s/999")).response.status == 400)
        #expect(
            engine.decide(request("/s/202")).response.status == 202,
            "still the first step, and the rate limit's one slot"
        )
        #expect(engine.decide(request("/s/202")).response.status == 429)
    }

    @Test func templatesMayNameCapturesOfAPathWrittenAfterThem() throws {
        let engine = try engine(
            """
            version: 1
            rules:
              - auth: {bearer: "{id}"}
                path: /u/{id}
                body: ok
              - probability: "{rate}"
                pathRegex: '^/p/(?<rate>[01])$'
                body: p
            """
        )
        #expect(
            engine.decide(request("/u/7", headers: [HeaderField("Authorization", "Bearer 7")])).response.status == 200
        )
        #expect(
            engine.decide(request("/u/7", headers: [HeaderField("Authorization", "Bearer {id}")])).response.status
                == 401
        )
        #expect(engine.decide(request("/p/1")).bodyText == "p")
        #expect(engine.decide(request("/p/0")).response.status == 404)
    }

    @Test func fillsTemplatesFromThePathAndQuery() throws {
        let engine = try engine(
            """
            version: 1
            rules:
              - pathRegex: '^/status/(?<code>[0-9]+)$'
                status: "{code}"
              - path: /redirect/{n}
                status: 302
                location: "/redirect/{n-1}"
              - path: /delay/{d}
                delay: "{d}"
                body: "waited {d} for {query.who:nobody}"
              - path: /bytes/{size}
                bodySize: "{size}"
            """
        )
        #expect(engine.decide(request("/status/418")).response.status == 418)
        let invalid = engine.decide(request("/status/999"))
        #expect(invalid.kind == .badRequest)
        #expect(invalid.response.status == 400)
        #expect(invalid.bodyText.contains("'999' is not a status code from 100 to 599"))
        #expect(engine.decide(request("/redirect/3")).response.location == "/redirect/2")
        let delayed = engine.decide(request("/delay/2?who=me"))
        #expect(delayed.response.delay == .seconds(2))
        #expect(delayed.bodyText == "waited 2 for me")
        #expect(engine.decide(request("/delay/250ms")).response.delay == .milliseconds(250))
        #expect(engine.decide(request("/delay/250ms")).bodyText == "waited 250ms for nobody")
        #expect(engine.decide(request("/delay/soon")).response.status == 400)
        guard case .generated(_, let size) = engine.decide(request("/bytes/2KiB")).response.body else {
            Issue.record("expected generated bytes")
            return
        }
        #expect(size == 2048)
    }

    @Test func literalBracesInBodiesAreLeftAlone() throws {
        let engine = try engine(#"version: 1\#nrules:\#n  - {path: /j, body: '{"ok": true, "x": {y}}'}\#n"#)
        #expect(engine.decide(request("/j")).bodyText == #"{"ok": true, "x": {y}}"#)
    }

    @Test func unmatchedRequestsGetA404NamingTheClosestRules() throws {
        let engine = try engine(
            """
            version: 1
            defaults: {headers: {Server: faultline}}
            rules:
              - {name: orders, method: GET, path: /api/orders, match: {headers: {X-Tenant: acme}, query: {page: "2"}}}
              - {name: pay, method: POST, path: /api/pay}
              - {name: health, path: /health}
              - {name: other, path: /something/else/entirely}
            """
        )
        let decision = engine.decide(request("/api/orders?page=3", headers: [HeaderField("x-tenant", "umbrella")]))
        #expect(decision.kind == .unmatched)
        #expect(decision.response.status == 404)
        #expect(decision.response.headers == [HeaderField("Server", "faultline")])
        let text = decision.bodyText
        #expect(text.hasPrefix("Faultline: no rule matched GET /api/orders?page=3\n"))
        #expect(
            text.contains(
                #"- orders (s.yaml:4:5): the header X-Tenant is "umbrella", not "acme"; the query parameter page is "3", not "2""#
            )
        )
        let far = engine.decide(request("/nothing/like/it")).bodyText
        #expect(far.components(separatedBy: "\n- ").count - 1 == 3, "names at most three rules")
        let wrongMethodAndPath = engine.decide(request("/api/payy")).bodyText
        #expect(
            wrongMethodAndPath.contains(
                "- pay (s.yaml:5:5): the method GET is not POST; the path /api/payy does not match the path /api/pay\n"
            )
        )
    }

    @Test func aLargeScenarioStillNamesTheNearestPathFirst() throws {
        var yaml = "version: 1\nrules:\n"
        for index in 0..<2000 { yaml += "  - {name: r\(index), path: /api/resource\(index)/items}\n" }
        let engine = try engine(yaml)
        let text = engine.decide(request("/api/resource1999/itemz")).bodyText
        let first = text.components(separatedBy: "\n- ").dropFirst().first ?? ""
        #expect(first.hasPrefix("r1999 "), "\(text)")
    }

    @Test func explainsRulesThatSteppedAside() throws {
        let engine = try engine("version: 1\nrules:\n  - {name: once, path: /x, times: 1}\n")
        #expect(engine.decide(request("/x")).response.status == 200)
        let text = engine.decide(request("/x")).bodyText
        #expect(text.contains("- once (s.yaml:3:5): it matches but has already answered its 1 time\n"))
    }

    @Test func ruleHeadersOverrideDefaults() throws {
        let engine = try engine(
            """
            version: 1
            defaults: {headers: {Server: faultline, X-Env: test}}
            rules:
              - {path: /x, headers: {server: custom, Set-Cookie: [a=1, b=2]}}
            """
        )
        #expect(
            engine.decide(request("/x")).response.headers == [
                HeaderField("X-Env", "test"), HeaderField("server", "custom"), HeaderField("Set-Cookie", "a=1"),
                HeaderField("Set-Cookie", "b=2"),
            ]
        )
    }
}

@Suite("Rule index")
struct RuleIndexTests {
    @Test func theIndexNeverHidesARuleThatMatches() throws {
        let scenario = try load(
            """
            version: 1
            rules:
              - {path: /a/b}
              - {path: /a/*}
              - {path: /a/*/c}
              - {path: /a/**}
              - {path: "/**/z"}
              - {path: "/x/{id}/y"}
              - {path: /x/y*}
              - {pathRegex: '^/r/'}
              - {method: GET}
              - {path: /}
              - {path: /a/b/c/d}
            """
        )
        let engine = RuleEngine(scenario: scenario)
        let paths = [
            "/", "/a", "/a/", "/a/b", "/a/c", "/a/b/c", "/a/q/c", "/a/b/c/d", "/a/b/z", "/q/z", "/x/1/y", "/x/yes",
            "/r/1", "/nothing",
        ]
        for path in paths {
            let request = IncomingRequest(method: "POST", target: path)
            let expected = scenario.rules.first { $0.path?.match(path) != nil && $0.methods == nil }?.index
            #expect(engine.decide(request).ruleIndex == expected, "\(path)")
        }
    }

    @Test func aThousandRulesAreALookupNotAScan() throws {
        var yaml = "version: 1\nrules:\n"
        for index in 0..<1000 {
            yaml +=
                "  - {path: /api/v1/resource\(index), body: r\(index)}\n  - {path: /api/v2/items\(index)/*/detail, body: g\(index)}\n"
        }
        yaml += "  - {path: /static, body: ok}\n"
        let engine = RuleEngine(scenario: try load(yaml))
        #expect(engine.decide(request("/static")).ruleIndex == 2000)
        #expect(engine.decide(request("/api/v2/items7/abc/detail")).ruleIndex == 15)
        #expect(engine.decide(request("/api/v1/resource999")).ruleIndex == 1998)
    }
}
