import FaultlineCore
import Foundation
import Testing

/// Loads YAML text as the file `s.yaml` and returns the scenario, failing the test on any error.
func load(_ yaml: String, directory: String = "/tmp") throws -> Scenario {
    try ScenarioLoader.load(yaml: yaml, name: "s.yaml", baseDirectory: directory)
}

/// Loads YAML text that must be refused and returns its diagnostics as `LINE:COLUMN: MESSAGE` strings.
func problems(_ yaml: String, directory: String = "/tmp") -> [String] {
    do {
        _ = try ScenarioLoader.load(yaml: yaml, name: "s.yaml", baseDirectory: directory)
        return []
    } catch {
        return error.diagnostics.map { "\($0.location.line):\($0.location.column): \($0.message)" }
    }
}

@Suite("Scenario loading and validation")
struct ScenarioLoaderTests {
    @Test func loadsEveryCoreKey() throws {
        let scenario = try load(
            """
            version: 1
            name: orders-outage
            seed: 42
            listeners:
              - port: 0
                host: 127.0.0.1
            defaults:
              headers: {Server: faultline}
            rules:
              - name: orders
                method: [get, POST]
                path: /api/orders
                match:
                  query: {page: "2"}
                  headers: {X-Tenant: acme}
                probability: 0.25
                times: 3
                status: 503
                reason: Busy
                headers: {Content-Type: text/plain}
                body: "try later"
                retryAfter: 2
                delay: {uniform: [100ms, 900ms]}
              - path: /api/items
                sequence:
                  - {status: 503, retryAfter: 1, times: 2}
                  - {status: 200, json: {items: [], ok: true, n: 1.5, s: "yes"}}
                cycle: true
              - pathRegex: '^/api/\\d+$'
                status: 301
                location: /api/v2
                delay: {lognormal: {median: 200ms, sigma: 0.5}}
              - path: /gen
                bodySize: 10MiB
            """
        )
        #expect(scenario.name == "orders-outage")
        #expect(scenario.seed == 42)
        #expect(
            scenario.listeners == [
                ListenerSpec(
                    host: "127.0.0.1",
                    port: 0,
                    sourceLocation: SourceLocation(file: "s.yaml", line: 5, column: 5)
                )
            ]
        )
        #expect(scenario.defaultHeaders == [HeaderField("Server", "faultline")])
        #expect(scenario.rules.count == 4)
        let orders = scenario.rules[0]
        #expect(orders.label == "orders")
        #expect(orders.methods == ["GET", "POST"])
        #expect(orders.path?.source == "/api/orders")
        #expect(orders.queryConditions == [QueryItem("page", "2")])
        #expect(orders.headerConditions == [HeaderField("X-Tenant", "acme")])
        #expect(orders.probability == .fixed(0.25))
        #expect(orders.times == 3)
        #expect(orders.defaultHeaders == [HeaderField("Server", "faultline")])
        #expect(orders.sourceLocation.line == 10)
        guard case .single(let response) = orders.response else {
            Issue.record("expected a single response")
            return
        }
        #expect(response.status == .fixed(503))
        #expect(response.reason == "Busy")
        #expect(response.retryAfter == .fixed(.seconds(2)))
        #expect(response.delay == .fixed(.uniform(.milliseconds(100), .milliseconds(900))))
        #expect(scenario.rules[1].label == "rules[1]")
        guard case .sequence(let steps, let cycle) = scenario.rules[1].response else {
            Issue.record("expected a sequence")
            return
        }
        #expect(cycle)
        #expect(steps.count == 2)
        #expect(steps[0].times == 2)
        guard case .json(let json) = steps[1].body else {
            Issue.record("expected a JSON body")
            return
        }
        #expect(String(decoding: json, as: UTF8.self) == #"{"items":[],"ok":true,"n":1.5,"s":"yes"}"#)
        guard case .single(let generated) = scenario.rules[3].response,
            case .generated(.fixed(let size)) = generated.body
        else {
            Issue.record("expected a generated body")
            return
        }
        #expect(size == 10 * 1024 * 1024)
    }

    @Test func reportsUnknownKeysWithASuggestion() {
        #expect(
            problems(
                """
                version: 1
                rules:
                  - path: /x
                    stauts: 503
                    retry_after: 2
                    colour: blue
                """
            ) == [
                "4:5: Unknown key 'stauts' in a rule; did you mean 'status'?",
                "5:5: Unknown key 'retry_after' in a rule; did you mean 'retryAfter'?",
                "6:5: Unknown key 'colour' in a rule; expected one of: name, method, path, pathRegex, match, "
                    + "produces, consumes, probability, seed, times, after, active, enabled, sequence, cycle, "
                    + "requireContentLength, auth, rateLimit, status, reason, headers, body, bodyFile, bodySize, json, "
                    + "retryAfter, location, delay, etag, lastModified, interim, fault, bodyDelay, throttle, chunked, "
                    + "chunkSize, events, stream, keepOpen, proxy, proxyTimeout, proxyCA, proxyInsecure.",
            ]
        )
    }

    @Test func reportsEveryProblemInTheFileAtOnce() {
        let found = problems(
            """
            version: 1
            rules:
              - path: /a
                status: 700
              - path: /b
                delay: 5 seconds
              - path: /c
                bodySize: lots
              - path: /d
                probability: 1.5
              - path: /e
                times: 0
            """
        )
        #expect(
            found == [
                "4:13: Expected a status code from 100 to 599, found 700.",
                "6:12: Expected a delay as a duration with a unit (500ms, 2s), {uniform: [MIN, MAX]} or "
                    + "{lognormal: {median: DURATION, sigma: NUMBER}}, found '5 seconds'.",
                "8:15: Expected the body size as a size, such as 512, 16KiB or 10MiB, found 'lots'.",
                "10:18: Expected a probability from 0 to 1, found '1.5'.",
                "12:12: Expected a number of times of at least 1, found '0'.",
            ]
        )
    }

    @Test func requiresLocationOnRedirects() {
        #expect(
            problems(
                """
                version: 1
                rules:
                  - path: /old
                    status: 301
                  - path: /seq
                    sequence:
                      - status: 200
                      - status: 308
                """
            ) == [
                "4:5: A 301 response needs a 'location' saying where the resource moved.",
                "8:9: A 308 response needs a 'location' saying where the resource moved.",
            ]
        )
    }

    @Test func refusesBodiesOnBodilessStatuses() {
        #expect(
            problems(
                """
                version: 1
                rules:
                  - {path: /a, status: 204, body: "no"}
                  - {path: /b, status: 304, json: {a: 1}}
                  - {path: /c, status: 103, bodySize: 10}
                """
            ) == [
                "3:29: A 204 response never carries a body; remove 'body' or choose another status.",
                "4:29: A 304 response never carries a body; remove 'json' or choose another status.",
                "5:29: A 103 response never carries a body; remove 'bodySize' or choose another status.",
            ]
        )
    }

    @Test func refusesMoreThanOneBody() {
        #expect(
            problems(
                """
                version: 1
                rules:
                  - path: /a
                    body: text
                    bodySize: 10
                """
            ) == ["5:5: A response has one body, but 'body' and 'bodySize' each give one; keep one of them."]
        )
    }

    @Test func checksBodyFiles() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "faultline-\(UInt64.random(in: 0...UInt64.max))"
        )
        let scenarios = directory.appendingPathComponent("scenarios")
        try FileManager.default.createDirectory(
            at: scenarios.appendingPathComponent("data"),
            withIntermediateDirectories: true
        )
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data("payload".utf8).write(to: scenarios.appendingPathComponent("data/x.bin"))
        try Data("secret".utf8).write(to: directory.appendingPathComponent("outside.txt"))
        try FileManager.default.createSymbolicLink(
            at: scenarios.appendingPathComponent("data/link.txt"),
            withDestinationURL: directory.appendingPathComponent("outside.txt")
        )

        let good = try load("version: 1\nrules:\n  - {path: /x, bodyFile: data/x.bin}\n", directory: scenarios.path)
        guard case .single(let response) = good.rules[0].response, case .file(let file) = response.body else {
            Issue.record("expected a file body")
            return
        }
        #expect(file.path == scenarios.appendingPathComponent("data/x.bin").resolvingSymlinksInPath().path)

        let found = problems(
            """
            version: 1
            rules:
              - {path: /a, bodyFile: data/missing.bin}
              - {path: /b, bodyFile: ../outside.txt}
              - {path: /c, bodyFile: data/link.txt}
              - {path: /d, bodyFile: data}
            """,
            directory: scenarios.path
        )
        #expect(found.count == 4)
        #expect(found[0].hasPrefix("3:26: The body file 'data/missing.bin' does not exist"))
        #expect(found[1].hasPrefix("4:26: The body file '../outside.txt' lies outside the scenario's folder"))
        #expect(found[2].hasPrefix("5:26: The body file 'data/link.txt' lies outside the scenario's folder"))
        #expect(found[3] == "6:26: The body file 'data' is a folder, not a file.")
    }

    @Test func reportsInvalidRegexAndConflictingPaths() {
        #expect(
            problems(
                """
                version: 1
                rules:
                  - pathRegex: '^/api/(\\d+$'
                  - path: /a
                    pathRegex: '^/a$'
                  - path: relative
                """
            ) == [
                "3:16: '^/api/(\\d+$' is not a valid regular expression.",
                "5:5: A rule takes 'path' or 'pathRegex', not both.",
                "6:11: Expected a path starting with /, found 'relative'.",
            ]
        )
    }

    @Test func reportsWrongTypes() {
        #expect(
            problems(
                """
                version: 1
                seed: -3
                rules:
                  - path: [/a, /b]
                    headers: [X-A]
                    method: {get: true}
                  - match: {cookies: a}
                  - notARule
                """
            ) == [
                "2:7: Expected a seed as a whole number from 0 to 18446744073709551615, found '-3'.",
                "4:11: Expected a path starting with /, found a list.",
                "6:13: Expected a method such as GET, or a list of methods, found a mapping.",
                "5:14: Expected response headers as a mapping of header names to values, found a list.",
                "7:13: Unknown key 'cookies' in match; expected one of: headers, query, clientCert.",
                "8:5: Expected a rule as a mapping of keys to values, found 'notARule'.",
            ]
        )
    }

    @Test func requiresVersionOne() {
        #expect(problems("rules: []\n") == ["1:1: A scenario starts with 'version: 1'; this file has no version."])
        #expect(
            problems("version: 2\nrules: []\n") == ["1:10: Expected version 1 (the only format version), found '2'."]
        )
        #expect(problems("") == ["1:1: The scenario is empty; it needs at least 'version: 1' and some 'rules'."])
    }

    @Test func reportsYAMLSyntaxErrorsWithTheirPlace() {
        // A key out of line is explained in the author's terms (NewcomerErrorTests has more); other syntax errors
        // keep libyaml's words, at libyaml's place.
        #expect(
            problems("version: 1\nrules:\n  - path: /a\n   status: [200\n")
                == [
                    "4:4: The key 'status' starts in column 4, but the key 'path' above it (line 3) starts in column 5; "
                        + "the keys of one mapping must start in the same column."
                ]
        )
        let found = problems("version: 1\nrules:\n  - path: /a\n    status: [200\n")
        #expect(found.count == 1)
        #expect(found[0].hasPrefix("5:"), "got \(found)")
        #expect(found[0].contains("The YAML is malformed"))
        #expect(
            problems("version: 1\nrules:\n  - path: /a\n    path: /b\n").first?.contains(
                "'path' appears more than once"
            ) == true
        )
    }

    @Test func checksExpectations() throws {
        let scenario = try load(
            """
            version: 1
            rules:
              - {name: orders, path: /orders}
              - {path: /other}
            expect:
              - {rule: orders, count: {min: 2, max: 4}, honorsRetryAfter: true, minInterval: 500ms}
              - {rule: orders, backoff: {factor: 2, tolerance: 0.1}, resumes: true, revalidates: true, maxConcurrent: 2}
              - {rule: "rules[1]", never: true, count: 0}
            """
        )
        #expect(scenario.expectations.map(\.rule) == ["orders", "orders", "rules[1]"])
        #expect(
            scenario.expectations[0].checks == [
                .count(min: 2, max: 4), .honorsRetryAfter, .minInterval(.milliseconds(500)),
            ]
        )
        #expect(
            scenario.expectations[1].checks == [
                .backoff(factor: 2, tolerance: 0.1), .resumes, .revalidates, .maxConcurrent(2),
            ]
        )
        #expect(scenario.expectations[2].checks == [.never, .count(min: 0, max: 0)])
        #expect(
            problems(
                """
                version: 1
                rules:
                  - {name: orders, path: /orders}
                expect:
                  - {rule: ordres, count: 1}
                  - {count: 1}
                  - {rule: orders, count: {min: 3, max: 1}}
                  - {rule: orders, backoff: {tolerance: 0.2}}
                  - {rule: orders, never: false}
                  - {rule: orders, honoursRetryAfter: true}
                """
            ) == [
                "5:12: No rule is called 'ordres'; did you mean 'orders'?",
                "6:5: An expectation needs a 'rule' naming the rule it checks.",
                "7:27: count's min 3 is above its max 1.",
                "8:29: backoff needs a 'factor', such as {factor: 2, tolerance: 0.25}.",
                "9:27: 'never: false' checks nothing; leave it out.",
                "10:20: Unknown key 'honoursRetryAfter' in an expectation; did you mean 'honorsRetryAfter'?",
            ]
        )
    }

    @Test func checksSequencesAndCycle() {
        #expect(
            problems(
                """
                version: 1
                rules:
                  - path: /a
                    status: 200
                    sequence: [{status: 503}]
                  - path: /b
                    cycle: true
                  - path: /c
                    sequence: []
                  - path: /d
                    sequence:
                      - {status: 503, times: many, name: x}
                """
            ) == [
                "4:5: 'status' cannot stand beside 'sequence'; put it in each step of the sequence.",
                "7:5: 'cycle' applies to a 'sequence'; this rule has none.",
                "9:15: Expected 'sequence' as a non-empty list of responses, found a list.",
                "12:36: Unknown key 'name' in a sequence step; expected one of: status, reason, headers, body, "
                    + "bodyFile, bodySize, json, retryAfter, location, delay, etag, lastModified, interim, fault, "
                    + "bodyDelay, throttle, chunked, chunkSize, events, stream, keepOpen, proxy, proxyTimeout, proxyCA, proxyInsecure, times.",
                "12:30: Expected a number of times of at least 1, found 'many'.",
            ]
        )
    }

    @Test func checksDelaysAndRetryAfter() {
        #expect(
            problems(
                """
                version: 1
                rules:
                  - {path: /a, delay: {uniform: [2s, 1s]}}
                  - {path: /b, delay: {unifrom: [1s, 2s]}}
                  - {path: /c, delay: {lognormal: {median: 1s}}}
                  - {path: /d, retryAfter: soon}
                  - {path: /e, retryAfter: "Wed, 21 Oct 2026 07:28:00 GMT"}
                """
            ) == [
                "3:33: The shortest delay must not be longer than the longest.",
                "4:24: Unknown delay distribution 'unifrom'; did you mean 'uniform'?",
                "5:35: A lognormal delay needs both 'median' and 'sigma'.",
                "6:28: Expected Retry-After as a number of seconds or an HTTP date such as 'Wed, 21 Oct 2026 07:28:00 GMT', found 'soon'.",
            ]
        )
    }

    @Test func refusesHeaderInjection() {
        #expect(
            problems(
                """
                version: 1
                rules:
                  - path: /a
                    headers:
                      "Bad Name": x
                      X-Ok: "a\\r\\nInjected: yes"
                """
            ) == [
                "5:7: 'Bad Name' is not a valid header name; use letters, digits and - only.",
                "6:13: The value of header 'X-Ok' contains a line break or a control character.",
            ]
        )
    }

    @Test func mergesFilesInOrder() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "faultline-merge-\(UInt64.random(in: 0...UInt64.max))"
        )
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let first = directory.appendingPathComponent("a.yaml").path
        let second = directory.appendingPathComponent("b.yaml").path
        try "version: 1\nseed: 1\ndefaults: {headers: {X-From: a}}\nrules:\n  - {name: one, path: /a}\n".write(
            toFile: first,
            atomically: true,
            encoding: .utf8
        )
        try "version: 1\nseed: 2\nrules:\n  - {path: /b}\n  - {name: three, path: /c}\n".write(
            toFile: second,
            atomically: true,
            encoding: .utf8
        )
        let scenario = try ScenarioLoader.load(files: [first, second])
        #expect(scenario.rules.map(\.label) == ["one", "rules[1]", "three"])
        #expect(scenario.seed == 1)
        #expect(scenario.rules[0].defaultHeaders == [HeaderField("X-From", "a")])
        #expect(scenario.rules[1].defaultHeaders == [])
        #expect(scenario.rules[1].sourceLocation.file == second)

        do {
            _ = try ScenarioLoader.load(files: [first, directory.appendingPathComponent("nope.yaml").path])
            Issue.record("a missing file must be an error")
        } catch {
            #expect(
                error.description
                    == "\(directory.appendingPathComponent("nope.yaml").path):1:1: error: The scenario file does not exist."
            )
        }
    }

    @Test func printsErrorsInCompilerFormat() {
        do {
            _ = try ScenarioLoader.load(
                yaml: "version: 1\nrules:\n  - {path: /a, status: 99}\n",
                name: "api.yaml",
                baseDirectory: "/tmp"
            )
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "api.yaml:3:24: error: Expected a status code from 100 to 599, found 99.")
        }
    }

    @Test func refusesAliasBombsInsteadOfExpandingThem() {
        // Nine levels of ten aliases would be a billion values.
        var json = "      l0: &l0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n"
        for level in 1...8 {
            json +=
                "      l\(level): &l\(level) [" + Array(repeating: "*l\(level - 1)", count: 10).joined(separator: ", ")
                + "]\n"
        }
        let jsonProblems = problems("version: 1\nrules:\n  - path: /j\n    json:\n" + json)
        #expect(jsonProblems.count == 1)
        #expect(jsonProblems.first?.contains("more than 100,000 values") ?? false, "\(jsonProblems)")

        var rules = "  - &r0 {path: /m, body: ok}\n"
        for level in 1...6 {
            rules +=
                "  - &r\(level) {<<: [" + Array(repeating: "*r\(level - 1)", count: 10).joined(separator: ", ") + "]}\n"
        }
        let mergeProblems = problems("version: 1\nrules:\n" + rules)
        #expect(mergeProblems.count == 1)
        #expect(mergeProblems.first?.contains("merges more than 10000 mappings") ?? false, "\(mergeProblems)")
    }

    @Test func theBuiltInScenarioLoads() throws {
        let scenario = try DefaultScenario.load()
        #expect(scenario.rules.count > 5)
        #expect(scenario.rules.allSatisfy { $0.name != nil })
        // Every text body ends in a newline, as curl users expect (a bare line break in a YAML double-quoted
        // string would fold into a space).
        let engine = RuleEngine(scenario: scenario)
        for target in ["/get", "/etag/v1", "/cache", "/delay/0"] {
            let text = engine.decide(request(target)).bodyText
            #expect(text.hasSuffix("\n") && !text.hasSuffix(" \n") && !text.hasSuffix(" "), "\(target): \(text)")
        }
    }
}

@Suite("Scenario loading: HTTP semantics keys")
struct ScenarioSemanticsKeysTests {
    @Test func loadsTheSemanticsKeys() throws {
        let scenario = try load(
            """
            version: 1
            limits: {maxBodySize: 1MiB, maxURILength: 2KiB, maxHeaderSize: 16KiB, requestTimeout: 5s}
            rules:
              - path: /a
                method: POST
                consumes: application/json
                produces: [application/json, text/plain]
                requireContentLength: true
                auth: {bearer: t0k3n, realm: api}
                rateLimit: {requests: 10, per: 1s}
                etag: v1
                lastModified: "Wed, 21 Oct 2026 07:28:00 GMT"
                interim:
                  - {status: 103, headers: {Link: "</style.css>; rel=preload; as=style"}}
            """
        )
        #expect(scenario.limits.maxBodySize == 1 << 20)
        #expect(scenario.limits.maxURILength == 2048)
        #expect(scenario.limits.maxHeaderSize == 16384)
        #expect(scenario.limits.requestTimeout == .seconds(5))
        let rule = scenario.rules[0]
        #expect(rule.consumes == ["application/json"])
        #expect(rule.produces == ["application/json", "text/plain"])
        #expect(rule.requireContentLength)
        #expect(rule.auth?.realm == "api")
        #expect(rule.rateLimit == RateLimit(requests: 10, per: .seconds(1)))
        guard case .single(let response) = rule.response else {
            Issue.record("expected a single response")
            return
        }
        #expect(response.etag?.literalText == "v1")
        #expect(
            response.interim == [
                InterimResponse(status: 103, headers: [HeaderField("Link", "</style.css>; rel=preload; as=style")])
            ]
        )
    }

    @Test func reportsProblemsInTheSemanticsKeys() {
        #expect(
            problems(
                """
                version: 1
                limits: {maxBodySize: big, requestTimeout: 0s, maxHeaders: 1}
                rules:
                  - {path: /a, auth: {basic: nocolon}}
                  - {path: /b, auth: {realm: x}}
                  - {path: /c, rateLimit: {requests: 0, per: 1s}}
                  - {path: /d, rateLimit: {requests: 5}}
                  - {path: /e, produces: json}
                  - {path: /f, lastModified: yesterday}
                  - {path: /g, etag: 'a"b'}
                  - {path: /h, interim: [{status: 200}, {status: 101}, {headers: {}}]}
                  - {path: /i, method: FOO}
                """
            ) == [
                "2:48: Unknown key 'maxHeaders' in limits; did you mean 'maxHeaderSize'?",
                "2:23: Expected the largest request body as a size, such as 512, 16KiB or 10MiB, found 'big'.",
                "2:44: The request timeout must be longer than zero.",
                "4:30: Expected Basic credentials as user:password, found 'nocolon'.",
                "5:22: An auth needs 'basic: \"user:password\"' or 'bearer: TOKEN'.",
                "6:38: Expected a number of requests of at least 1, found '0'.",
                "7:27: A rate limit needs both 'requests' and 'per', such as {requests: 10, per: 1s}.",
                "8:26: 'json' is not a media type; expected TYPE/SUBTYPE such as application/json.",
                "9:30: Expected lastModified as an HTTP date such as 'Wed, 21 Oct 2026 07:28:00 GMT', found 'yesterday'.",
                "10:22: 'a\"b' is not an entity tag; it cannot contain quotes or spaces inside.",
                "11:35: Expected an informational status from 100 to 199, found '200'.",
                "11:50: 101 Switching Protocols cannot be an interim response; it ends HTTP on the connection.",
                "11:56: An interim response needs a 'status' from 100 to 199.",
                "12:24: Faultline cannot receive the method FOO: its HTTP parser answers such requests with 501 before any rule sees them.",
            ]
        )
    }

    @Test func mergeKeysShareHeadersAndFirstSourceWins() throws {
        let scenario = try load(
            """
            version: 1
            rules:
              - &base {path: /a, status: 201, headers: &common {X-A: "1"}}
              - <<: [{path: /b, body: first}, {path: /c, status: 202, body: second}]
                headers: {<<: *common, X-B: "2"}
            """
        )
        #expect(scenario.rules.count == 2)
        #expect(scenario.rules[1].path?.source == "/b")
        guard case .single(let response) = scenario.rules[1].response else {
            Issue.record("expected a single response")
            return
        }
        #expect(response.status == .fixed(202))
        #expect(response.headers.map(\.name) == ["X-A", "X-B"])
    }
}
