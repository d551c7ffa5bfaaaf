import FaultlineCore
import Foundation
import Testing

/// What `faultline record` writes, from recorded exchanges, without a socket: the file must load, and served, give
/// back the recorded answers.
@Suite("Recording: the scenario written from what passed through")
struct RecordedScenarioTests {
    func exchange(
        _ target: String,
        method: String = "GET",
        status: Int = 200,
        headers: [HeaderField] = [HeaderField("Content-Type", "text/plain")],
        body: String = ""
    ) -> RecordedExchange {
        let request = IncomingRequest(method: method, target: target)
        return RecordedExchange(
            method: method,
            path: request.path,
            query: request.query,
            status: status,
            headers: headers + [
                HeaderField("Date", "Wed, 25 Nov 2026 10:00:00 GMT"),
                HeaderField("Content-Length", String(body.utf8.count)),
            ],
            body: .bytes(Array(body.utf8))
        )
    }

    /// The recorded scenario loaded back, with the engine that serves it.
    func served(_ exchanges: [RecordedExchange], keepSecrets: Bool = false) throws -> (RecordedScenario, RuleEngine) {
        let recorded = RecordedScenario.make(
            from: exchanges,
            upstream: "http://127.0.0.1:8081",
            bodiesFolder: "api-bodies",
            keepSecrets: keepSecrets
        )
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("recorded-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("api.yaml")
        try recorded.write(toFile: file.path)
        let scenario = try ScenarioLoader.load(files: [file.path])
        return (recorded, RuleEngine(scenario: scenario))
    }

    func text(_ response: ResolvedResponse) -> String? {
        guard case .bytes(let bytes, _) = response.body else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test func oneRulePerMethodPathAndQueryEachAnsweringWhatItGot() throws {
        let (recorded, engine) = try self.served([
            self.exchange("/orders", body: "all orders"),
            self.exchange("/orders?page=2", body: "page two"),
            self.exchange("/orders", method: "POST", status: 201, body: "created"),
            self.exchange("/orders?page=2&sort=asc", body: "page two, ascending"),
            self.exchange("/orders", body: "all orders"),
        ])
        #expect(recorded.ruleCount == 4)
        #expect(recorded.yaml.hasPrefix("# Recorded by `faultline record` from http://127.0.0.1:8081: 4 rules.\n"))
        let answers = [
            ("GET", "/orders", 200, "all orders"), ("GET", "/orders?page=2", 200, "page two"),
            ("GET", "/orders?sort=asc&page=2", 200, "page two, ascending"), ("POST", "/orders", 201, "created"),
        ]
        for (method, target, status, body) in answers {
            let decision = engine.decide(IncomingRequest(method: method, target: target))
            #expect(decision.response.status == status, "\(method) \(target)")
            #expect(self.text(decision.response) == body, "\(method) \(target)")
            #expect(decision.response.headers.first(named: "Content-Type") == "text/plain")
            #expect(
                !decision.response.headers.contains(named: "Date")
                    && !decision.response.headers.contains(named: "Content-Length")
            )
        }
        #expect(engine.decide(IncomingRequest(method: "GET", target: "/orders")).ruleLabel == "GET /orders")
    }

    @Test func changingAnswersBecomeASequenceWhoseLastStepRepeats() throws {
        let (recorded, engine) = try self.served([
            self.exchange("/flaky", status: 503, body: "busy"),
            self.exchange("/flaky", status: 503, body: "busy"),
            self.exchange("/flaky", body: "fine"),
        ])
        #expect(recorded.yaml.contains("sequence:"))
        #expect(recorded.yaml.contains("times: 2"))
        let statuses = (0..<5).map { _ in
            engine.decide(IncomingRequest(method: "GET", target: "/flaky")).response.status
        }
        #expect(statuses == [503, 503, 200, 200, 200])
    }

    @Test func secretsAreRedactedUnlessKept() throws {
        let headers = [
            HeaderField("Set-Cookie", "session=s3cret"), HeaderField("Set-Cookie", "theme=dark"),
            HeaderField("Authorization", "Bearer abc"), HeaderField("X-Public", "visible"),
            HeaderField("Connection", "close"), HeaderField("Transfer-Encoding", "chunked"),
        ]
        let (redacted, engine) = try self.served([self.exchange("/login", headers: headers, body: "hi")])
        #expect(!redacted.yaml.contains("s3cret") && !redacted.yaml.contains("abc"))
        let answer = engine.decide(IncomingRequest(method: "GET", target: "/login")).response
        #expect(answer.headers.values(named: "Set-Cookie") == ["REDACTED", "REDACTED"])
        #expect(answer.headers.first(named: "Authorization") == "REDACTED")
        #expect(answer.headers.first(named: "X-Public") == "visible")
        #expect(!answer.headers.contains(named: "Connection") && !answer.headers.contains(named: "Transfer-Encoding"))
        let (_, kept) = try self.served([self.exchange("/login", headers: headers, body: "hi")], keepSecrets: true)
        #expect(
            kept.decide(IncomingRequest(method: "GET", target: "/login")).response.headers.values(named: "Set-Cookie")
                == ["session=s3cret", "theme=dark"]
        )
    }

    @Test func textThatYAMLOrATemplateWouldChangeSurvivesOrGoesToAFile() throws {
        let tricky = [
            "true", "  leading spaces\nand a tab\there\n", "{\"json\": [1, 2, {\"k\": null}]}", "- not a list",
            "ends without newline\nline two",
            "trailing spaces   \n\n\n", "naïve café ✓", "# not a comment", "key: value", "@at", "'quoted'", "",
        ]
        let exchanges = tricky.enumerated().map { self.exchange("/t\($0.offset)", body: $0.element) }
        let (recorded, engine) = try self.served(exchanges)
        #expect(recorded.attachments.isEmpty)
        for (index, body) in tricky.enumerated() {
            let response = engine.decide(IncomingRequest(method: "GET", target: "/t\(index)")).response
            #expect(self.text(response) == (body.isEmpty ? nil : body), "body \(index): \(body.debugDescription)")
        }
        // A template would read `{query.x}` from the request; such text, binary bodies and large ones go to files.
        let large = String(repeating: "x", count: RecordedScenario.inlineLimit + 1)
        let files = try self.served([
            self.exchange("/template", body: "{query.x}"),
            RecordedExchange(
                method: "GET",
                path: "/binary",
                query: [],
                status: 200,
                headers: [HeaderField("Content-Type", "image/png")],
                body: .bytes([0x89, 0x50, 0x00, 0xFF])
            ),
            self.exchange("/large", body: large),
            self.exchange("/crlf", body: "a\r\nb"),
        ]).0
        #expect(
            files.attachments.map(\.relativePath) == [
                "api-bodies/1-get-template.txt", "api-bodies/2-get-binary.png", "api-bodies/3-get-large.txt",
                "api-bodies/4-get-crlf.txt",
            ]
        )
        #expect(files.yaml.contains("bodyFile: api-bodies/2-get-binary.png"))
    }

    @Test func pathsAQueryAndHeadKeepTheirMeaning() throws {
        let (recorded, engine) = try self.served([
            self.exchange("/files/*/{id}", body: "literal"),
            self.exchange("/doc", method: "HEAD", body: ""),
            self.exchange("/doc", body: "the document"),
            self.exchange("/moved", status: 301, headers: [HeaderField("Location", "/doc")], body: ""),
            self.exchange("/a?x=1&x=2", body: "first x"),
        ])
        #expect(recorded.yaml.contains("pathRegex: \"^/files/\\\\*/\\\\{id\\\\}$\""))
        #expect(
            self.text(engine.decide(IncomingRequest(method: "GET", target: "/files/*/%7Bid%7D")).response) == "literal"
        )
        #expect(engine.decide(IncomingRequest(method: "GET", target: "/files/x/7")).kind == .unmatched)
        let head = engine.decide(IncomingRequest(method: "HEAD", target: "/doc"))
        #expect(head.ruleLabel == "HEAD /doc")
        #expect(
            head.response.headers.first(named: "Content-Length") == "0",
            "a HEAD answer keeps the length it was sent with"
        )
        #expect(self.text(engine.decide(IncomingRequest(method: "GET", target: "/doc")).response) == "the document")
        let moved = engine.decide(IncomingRequest(method: "GET", target: "/moved")).response
        #expect(moved.status == 301)
        #expect(moved.location == "/doc")
        #expect(self.text(engine.decide(IncomingRequest(method: "GET", target: "/a?x=1")).response) == "first x")
    }
}
