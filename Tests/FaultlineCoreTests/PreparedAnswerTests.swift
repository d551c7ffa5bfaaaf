import FaultlineCore
import Testing

/// A response that never varies is planned once, when the scenario loads, for plain requests (`PreparedAnswer`). These
/// tests hold the prepared plan to the planner's own answer: every request below is planned both ways, and the bytes
/// and decisions must be the same.
@Suite("Prepared answers (a static response planned once)")
struct PreparedAnswerTests {
    let date = "Sat, 05 Dec 2026 00:30:00 GMT"

    static let scenario = """
        version: 1
        defaults:
          headers: {X-Served-By: faultline}
        rules:
          - {name: static, path: /static, status: 200, body: ok}
          - {name: typed, path: /json, status: 201, headers: {Content-Type: application/json, X-Extra: "1"}, body: "{}"}
          - {name: dated, path: /dated, status: 200, headers: {Date: "Mon, 01 Jan 2024 00:00:00 GMT"}, body: ok}
          - {name: empty, path: /empty, status: 204}
          - {name: moved, path: /moved, status: 301, location: /static}
          - {name: slow, path: /slow, status: 200, delay: 1s, body: later}
          - {name: closing, path: /closing, status: 200, headers: {Connection: close}, body: bye}
          - {name: teapot, path: /teapot, status: 418, reason: "Short And Stout", body: tea}
          - name: steps
            path: /steps
            sequence:
              - {status: 503, headers: {Retry-After: "1"}, times: 1}
              - {status: 200, body: back}
        """

    /// The requests every rule is asked: plain ones, and each field that makes a request not plain.
    static let requests: [(method: String, version: (Int, Int), headers: [HeaderField])] = [
        ("GET", (1, 1), []),
        ("GET", (1, 1), [HeaderField("Host", "example"), HeaderField("Accept", "*/*")]),
        ("GET", (1, 1), [HeaderField("Connection", "keep-alive")]),
        ("GET", (1, 1), [HeaderField("connection", "Keep-Alive")]),
        ("GET", (1, 1), [HeaderField("Connection", "close")]),
        ("GET", (1, 1), [HeaderField("Connection", "Upgrade"), HeaderField("Upgrade", "websocket")]),
        ("GET", (1, 0), []),
        ("GET", (1, 0), [HeaderField("Connection", "keep-alive")]),
        ("HEAD", (1, 1), []),
        ("POST", (1, 1), [HeaderField("Content-Length", "0")]),
        ("GET", (1, 1), [HeaderField("Range", "bytes=0-0")]),
        ("GET", (1, 1), [HeaderField("range", "bytes=1-")]),
        ("GET", (1, 1), [HeaderField("Range", "bytes=0-0"), HeaderField("If-Range", "\"nope\"")]),
        ("GET", (1, 1), [HeaderField("If-None-Match", "*")]),
        ("GET", (1, 1), [HeaderField("if-none-match", "\"x\"")]),
        ("GET", (1, 1), [HeaderField("If-Match", "\"x\"")]),
        ("GET", (1, 1), [HeaderField("If-Modified-Since", "Sat, 05 Dec 2099 00:00:00 GMT")]),
        ("GET", (1, 1), [HeaderField("If-Unmodified-Since", "Thu, 01 Jan 1970 00:00:00 GMT")]),
        ("GET", (2, 0), []),
    ]

    @Test(arguments: ["/static", "/json", "/dated", "/empty", "/moved", "/slow", "/closing", "/teapot", "/steps"])
    func aPreparedPlanIsThePlannersOwnAnswer(path: String) throws {
        for request in Self.requests {
            let engine = RuleEngine(
                scenario: try ScenarioLoader.load(yaml: Self.scenario, name: "prepared.yaml", baseDirectory: "/"),
                loadedAt: 1_700_000_000
            )
            let incoming = IncomingRequest(
                method: request.method,
                target: path,
                headers: request.headers,
                version: request.version
            )
            // Twice, so the sequence's second step (static too) is asked as well.
            for _ in 0..<2 {
                let reply = Reply(engine.decide(incoming))
                let fresh = ResponsePlanner.plan(reply.response, for: incoming, date: self.date)
                let prepared = ResponsePlanner.plan(
                    reply.response,
                    for: incoming,
                    date: self.date,
                    prepared: reply.preparedAnswer
                )
                let what = "\(request.method) \(path) HTTP/\(request.version.0).\(request.version.1) \(request.headers)"
                #expect(reply.preparedAnswer != nil, "\(what): a static response is prepared")
                let isPlain =
                    request.method == "GET" && request.version == (1, 1)
                    && request.headers.allSatisfy {
                        ["Host", "Accept"].contains($0.name) || $0.value.lowercased() == "keep-alive"
                    }
                #expect((prepared.wire != nil) == isPlain, "\(what): the prepared plan serves plain requests only")
                #expect(prepared.serializedHead(date: self.date) == fresh.serializedHead(date: self.date), "\(what)")
                #expect(prepared.action == fresh.action, "\(what)")
                #expect(prepared.segments == fresh.segments, "\(what)")
                #expect(prepared.closeAfter == fresh.closeAfter, "\(what)")
                #expect(prepared.delay == fresh.delay, "\(what)")
                #expect(prepared.dateIsAutomatic == fresh.dateIsAutomatic, "\(what)")
                #expect(prepared.isChunked == fresh.isChunked, "\(what)")
                if let wire = prepared.wire {
                    #expect(wire.wholeBody == fresh.wholeBody, "\(what)")
                    // The bytes made once are the head the serializer writes, the placeholder where the date goes.
                    #expect(wire.head == prepared.serializedHead(), "\(what)")
                    if let offset = wire.dateOffset {
                        let dated =
                            Array(wire.head[..<offset]) + Array(self.date.utf8)
                            + Array(wire.head[(offset + self.date.utf8.count)...])
                        #expect(dated == fresh.serializedHead(date: self.date), "\(what)")
                    } else {
                        #expect(path == "/dated", "\(what): only a rule's own Date leaves nothing to date")
                    }
                }
            }
        }
    }

    @Test func aResponseThatVariesOrSendsNoResponseIsNotPrepared() throws {
        let engine = RuleEngine(
            scenario: try ScenarioLoader.load(
                yaml: """
                    version: 1
                    rules:
                      - {path: "/templated/{id}", status: 200, body: "item {id}"}
                      - {path: /dropped, status: 200, fault: reset}
                      - {path: /cut, status: 200, body: "0123456789", fault: {truncate: 3}}
                      - {path: /gone, status: 499}
                    """,
                name: "varies.yaml",
                baseDirectory: "/"
            )
        )
        for path in ["/templated/7", "/dropped", "/cut", "/gone"] {
            let decision = engine.decide(IncomingRequest(method: "GET", target: path))
            #expect(decision.preparedAnswer == nil, "\(path)")
        }
    }

    @Test func changingAResponseDropsItsPreparedAnswer() throws {
        let engine = RuleEngine(
            scenario: try ScenarioLoader.load(
                yaml: "version: 1\nrules:\n  - {path: /static, status: 200, body: ok}\n",
                name: "change.yaml",
                baseDirectory: "/"
            )
        )
        var decision = engine.decide(IncomingRequest(method: "GET", target: "/static"))
        #expect(decision.preparedAnswer != nil)
        var reply = Reply(decision)
        #expect(reply.preparedAnswer != nil)
        decision.response.status = 500
        #expect(decision.preparedAnswer == nil)
        reply.response.headers.append(HeaderField("X-Late", "1"))
        #expect(reply.preparedAnswer == nil)
        let plan = ResponsePlanner.plan(
            reply.response,
            for: IncomingRequest(method: "GET", target: "/static"),
            date: self.date,
            prepared: reply.preparedAnswer
        )
        #expect(plan.headers.contains(HeaderField("X-Late", "1")))
    }

    @Test func aSmallInMemoryAnswerGoesOutWholeUnlessItsWritingIsShaped() throws {
        let engine = RuleEngine(
            scenario: try ScenarioLoader.load(
                yaml: """
                    version: 1
                    rules:
                      - {path: /plain, body: ok}
                      - {path: /delayed, delay: 1s, body: ok}
                      - {path: /empty, status: 204}
                      - {path: /paced, body: ok, throttle: 1KiB/s}
                      - {path: /later, body: ok, bodyDelay: 1s}
                      - {path: /chunked, body: ok, chunked: true}
                      - {path: /cut, body: "0123456789", fault: {truncate: 3}}
                      - {path: /generated, bodySize: 10}
                    """,
                name: "whole.yaml",
                baseDirectory: "/"
            )
        )
        func whole(_ path: String) -> [UInt8]? {
            let request = IncomingRequest(method: "GET", target: path)
            let reply = Reply(engine.decide(request))
            return ResponsePlanner.plan(reply.response, for: request, date: self.date).wholeBody
        }
        #expect(whole("/plain") == Array("ok".utf8))
        #expect(whole("/delayed") == Array("ok".utf8), "a delay is waited out before the one write")
        #expect(whole("/empty") == [])
        for path in ["/paced", "/later", "/chunked", "/cut", "/generated"] {
            #expect(whole(path) == nil, "\(path) takes the writer's steps")
        }
        // In memory, up to the limit and no further.
        for (size, goesWhole) in [
            (Int(ResponsePlan.wholeWriteLimit), true), (Int(ResponsePlan.wholeWriteLimit) + 1, false),
        ] {
            let body = [UInt8](repeating: UInt8(ascii: "x"), count: size)
            let plan = ResponsePlanner.plan(
                ResolvedResponse(status: 200, body: .bytes(body, contentType: "text/plain")),
                for: IncomingRequest(method: "GET", target: "/"),
                date: self.date
            )
            #expect((plan.wholeBody == body) == goesWhole, "\(size) bytes")
            #expect((plan.wholeBody == nil) == !goesWhole, "\(size) bytes")
        }
    }
}
