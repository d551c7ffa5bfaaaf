import FaultlineCore
import Testing

@Suite("Faults, timing and windows in the loader, the engine and the planner")
struct FaultTests {
    @Test func loadsEveryFaultForm() throws {
        let scenario = try load(
            """
            version: 1
            rules:
              - {path: /a, fault: drop}
              - {path: /b, fault: reset}
              - {path: /c, fault: hang}
              - {path: /d, fault: {hang: 5s}}
              - {path: /e, fault: {truncate: 100}}
              - {path: /f, fault: {resetAfter: 1KiB}}
              - {path: /g, fault: garbage}
              - {path: /h, fault: bad-chunk}
              - {path: /i, fault: bad-status}
              - {path: /j, fault: {slowHeaders: 2s}}
              - path: /k
                sequence:
                  - {fault: reset, times: 2}
                  - {status: 200}
            """
        )
        let engine = RuleEngine(scenario: scenario)
        let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"].map { path in
            engine.decide(request("/\(path)")).response.fault?.name ?? ""
        }
        #expect(
            names == [
                "drop", "reset", "hang", "hang", "truncate", "resetAfter", "garbage", "bad-chunk", "bad-status",
                "slowHeaders",
            ]
        )
    }

    @Test func reportsBadFaultsAndTimings() {
        #expect(
            problems(
                """
                version: 1
                rules:
                  - {path: /a, fault: dorp}
                  - {path: /b, fault: {truncat: 10}}
                  - {path: /c, fault: {truncate: lots}}
                  - {path: /d, fault: explode}
                  - {path: /e, throttle: fast}
                  - {path: /f, throttle: 0B/s}
                  - {path: /g, bodyDelay: soon}
                  - {path: /h, chunkSize: 1KiB}
                  - {path: /i, active: {after: later}}
                  - {path: /j, after: {requests: -1}}
                  - {path: /k, probability: often}
                """
            ) == [
                "3:23: Unknown fault 'dorp'; did you mean 'drop'?",
                "4:24: A fault mapping holds one of {truncate: N}, {resetAfter: N}, {hang: DURATION}, {slowHeaders: DURATION}, "
                    + "{rstStream: CODE}, {goaway: CODE}, {goawayAfter: CODE}, {cutAfter: N}, {stallAfter: N} or {resetAfterEvents: N}; "
                    + "did you mean 'truncate'?",
                "5:34: Expected a number of body bytes as a size, such as 512, 16KiB or 10MiB, found 'lots'.",
                "6:23: Unknown fault 'explode'; expected drop, reset, hang, garbage, bad-chunk, bad-status, {truncate: N}, {resetAfter: N}, "
                    + "{hang: DURATION}, {slowHeaders: DURATION}, {rstStream: CODE}, {goaway: CODE}, {goawayAfter: CODE}, or on a stream "
                    + "{cutAfter: N}, {stallAfter: N} or {resetAfterEvents: N}.",
                "7:26: Expected throttle as a rate such as 16KiB/s or 500B/s, or {over: DURATION}, found 'fast'.",
                "8:26: A throttle rate must be more than zero bytes per second.",
                "9:27: Expected a delay as a duration with a unit (500ms, 2s), {uniform: [MIN, MAX]} or {lognormal: {median: DURATION, sigma: NUMBER}}, found 'soon'.",
                "10:16: 'chunkSize' applies to a chunked body; add 'chunked: true'.",
                "11:32: Expected when the window opens as a duration with a unit, such as 500ms, 2s or 1m, found 'later'.",
                "12:34: Expected a number of requests of at least 0, found '-1'.",
                "13:29: Expected a probability from 0 to 1, found 'often'.",
            ]
        )
    }

    @Test func afterCountsFirstThenTimes() throws {
        let engine = try engine(
            """
            version: 1
            rules:
              - {name: flaky, path: /x, after: {requests: 2}, times: 3, status: 503}
              - {name: ok, path: /x}
            """
        )
        let labels = (0..<7).map { _ in engine.decide(request("/x")).ruleLabel ?? "" }
        #expect(labels == ["ok", "ok", "flaky", "flaky", "flaky", "ok", "ok"])
        let text = try FaultlineCoreTests.engine(
            "version: 1\nrules:\n  - {name: late, path: /x, after: {requests: 1}}\n"
        )
        .decide(request("/x")).bodyText
        #expect(text.contains("- late (s.yaml:3:5): it matches but steps aside for the first 1 request\n"))
    }

    @Test func outageWindowsCountFromTheStartOrTheLastReset() throws {
        let engine = try engine(
            """
            version: 1
            rules:
              - {name: outage, path: /pay, active: {after: 10s, for: 30s}, status: 503}
              - {name: pay, path: /pay}
            """
        )
        let start = ContinuousClock.now
        engine.reset(now: start)
        func status(at seconds: Double) -> Int {
            engine.decide(request("/pay"), now: start + .milliseconds(Int64(seconds * 1000))).response.status
        }
        #expect([0, 9.9, 10, 25, 39.9, 40, 100].map(status) == [200, 200, 503, 503, 503, 200, 200])
        engine.reset(now: start + .seconds(100))
        #expect(status(at: 105) == 200)
        #expect(status(at: 110) == 503)
        let open = try FaultlineCoreTests.engine(
            "version: 1\nrules:\n  - {path: /x, active: {after: 1m}, status: 503}\n"
        )
        #expect(
            open.decide(request("/x"), now: .now + .seconds(3600)).response.status == 503,
            "no 'for': open to the end"
        )
    }

    @Test func everyRandomChoiceRepeatsWithTheSeed() throws {
        let yaml = """
            version: 1
            rules:
              - {path: /g, fault: garbage, probability: 0.7}
              - {path: /g, delay: {uniform: [0ms, 1s]}, bodyDelay: {lognormal: {median: 100ms, sigma: 1}}}
            """
        func run(_ seed: UInt64) throws -> [String] {
            let engine = try RuleEngine(scenario: load(yaml), seed: seed)
            return (0..<50).map { _ in
                let response = engine.decide(request("/g")).response
                return "\(String(describing: response.fault)) \(response.delay) \(response.bodyDelay)"
            }
        }
        #expect(try run(7) == run(7))
        #expect(try run(7) != run(8))
    }

    @Test func aPerRequestSeedDecidesAloneAndTheProbabilityCanComeFromTheQuery() throws {
        let engine = try engine(
            """
            version: 1
            rules:
              - {name: fail, path: /u, probability: "{query.rate:0.5}", seed: "{query.seed:}", status: 500}
              - {name: ok, path: /u}
            """
        )
        let first = (1...40).map { engine.decide(request("/u?seed=\($0)")).response.status }
        let again = (1...40).map { engine.decide(request("/u?seed=\($0)")).response.status }
        #expect(first == again, "the same seed gives the same answer whatever came before")
        #expect(Set(first) == [200, 500])
        #expect((0..<20).allSatisfy { _ in engine.decide(request("/u?rate=1")).response.status == 500 })
        #expect((0..<20).allSatisfy { _ in engine.decide(request("/u?rate=0")).response.status == 200 })
        #expect(engine.decide(request("/u?rate=2")).response.status == 400)
    }

    func plan(_ yaml: String, _ target: String = "/x", method: String = "GET") throws -> ResponsePlan {
        let decision = try FaultlineCoreTests.engine(yaml, seed: 1).decide(request(target, method: method))
        return ResponsePlanner.plan(decision.response, for: request(target, method: method), date: "D")
    }

    @Test func plansFaults() throws {
        #expect(try self.plan("version: 1\nrules:\n  - {path: /x, fault: drop}\n").action == .drop)
        #expect(try self.plan("version: 1\nrules:\n  - {path: /x, status: 499, body: x}\n").action == .drop)
        #expect(try self.plan("version: 1\nrules:\n  - {path: /x, fault: reset}\n").action == .reset)
        #expect(try self.plan("version: 1\nrules:\n  - {path: /x, fault: hang}\n").action == .hang(nil))
        #expect(try self.plan("version: 1\nrules:\n  - {path: /x, fault: {hang: 2s}}\n").action == .hang(.seconds(2)))
        let truncated = try self.plan("version: 1\nrules:\n  - {path: /x, body: '0123456789', fault: {truncate: 4}}\n")
        #expect(truncated.action == .respond)
        #expect(truncated.headers.first(named: "Content-Length") == "10", "the true length is promised")
        #expect(truncated.cut == ResponsePlan.Cut(after: 4, reset: false))
        #expect(truncated.closeAfter)
        #expect(
            try self.plan("version: 1\nrules:\n  - {path: /x, body: '0123456789', fault: {resetAfter: 40}}\n").cut
                == ResponsePlan.Cut(after: 10, reset: true)
        )
        guard case .raw(let garbage) = try self.plan("version: 1\nrules:\n  - {path: /x, fault: garbage}\n").action
        else {
            Issue.record("garbage is raw bytes")
            return
        }
        #expect((64...1024).contains(garbage.count))
        guard
            case .raw(let badChunk) = try self.plan(
                "version: 1\nrules:\n  - {path: /x, body: hello, fault: bad-chunk}\n"
            ).action
        else {
            Issue.record("bad-chunk is raw bytes")
            return
        }
        let chunkText = String(decoding: badChunk, as: UTF8.self)
        #expect(chunkText.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(chunkText.contains("\r\nTransfer-Encoding: chunked\r\n"))
        #expect(!chunkText.contains("Content-Length"))
        #expect(chunkText.hasSuffix("\r\n\r\n5\r\nhello\r\nzz\r\nnot a chunk\r\n"))
        let badStatus = try self.plan("version: 1\nrules:\n  - {path: /x, fault: bad-status}\n")
        guard case .raw(let statusBytes) = badStatus.action else {
            Issue.record("bad-status is raw bytes")
            return
        }
        #expect(String(decoding: statusBytes, as: UTF8.self).hasPrefix("HTTP/1.1 OK 200\r\nDate: D\r\n"))
        #expect(badStatus.status == 499)
        #expect(
            try self.plan("version: 1\nrules:\n  - {path: /x, fault: {slowHeaders: 2s}}\n").slowHeaders == .seconds(2)
        )
    }

    @Test func plansBodyTiming() throws {
        let paced = try self.plan(
            "version: 1\nrules:\n  - {path: /x, bodySize: 10KiB, throttle: 2KiB/s, bodyDelay: 1s}\n"
        )
        #expect(paced.bytesPerSecond == 2048)
        #expect(paced.bodyDelay == .seconds(1))
        let spread = try self.plan("version: 1\nrules:\n  - {path: /x, bodySize: 100, throttle: {over: 4s}}\n")
        #expect(spread.bytesPerSecond == 25)
        let chunked = try self.plan("version: 1\nrules:\n  - {path: /x, body: hello, chunked: true, chunkSize: 2}\n")
        #expect(chunked.chunkSize == 2)
        #expect(chunked.headers.first(named: "Transfer-Encoding") == "chunked")
        #expect(!chunked.headers.contains(named: "Content-Length"))
        let head = try self.plan(
            "version: 1\nrules:\n  - {path: /x, body: hello, chunked: true, throttle: 1B/s}\n",
            method: "HEAD"
        )
        #expect(head.bytesPerSecond == nil, "no body, nothing to pace")
    }
}

@Suite("The journal")
struct JournalTests {
    func entry(_ rule: String?, status: Int = 200) -> JournalEntry {
        JournalEntry(
            connection: 1,
            listener: "127.0.0.1:8080",
            client: "127.0.0.1",
            receivedAt: 1_795_000_000.25,
            method: "GET",
            target: "/a?b=1",
            path: "/a",
            version: "HTTP/1.1",
            headers: [HeaderField("User-Agent", "curl/8"), HeaderField("Referer", "http://x/\"y\"")],
            bodyBytes: 0,
            rule: rule,
            step: nil,
            status: status,
            responseHeaders: [HeaderField("Content-Length", "2")],
            fault: nil,
            outcome: .completed,
            bytesSent: 80,
            bodyBytesSent: 2,
            firstByteMs: 1.5,
            totalMs: 2.25
        )
    }

    @Test func keepsTheNewestWithinItsCapacityAndCountsTheRest() {
        let journal = Journal(capacity: 3)
        for index in 0..<5 { journal.record(self.entry("r\(index % 2)")) }
        #expect(journal.entries().map(\.id) == [3, 4, 5])
        #expect(journal.droppedCount == 2)
        #expect(journal.entries(rule: "r0").map(\.id) == [3, 5])
        #expect(journal.entries(since: 3).map(\.id) == [4, 5])
        #expect(journal.entries(limit: 1).map(\.id) == [5])
        journal.clear()
        #expect(journal.entries().isEmpty)
        #expect(journal.record(self.entry(nil)).id == 6)
    }

    @Test func leavesOutExchangesFromBeforeTheLastClear() {
        let journal = Journal()
        let before = journal.generation
        journal.clear()
        #expect(journal.record(self.entry("late"), generation: before).id == 1, "numbered all the same")
        #expect(journal.entries().isEmpty)
        journal.record(self.entry("now"), generation: journal.generation)
        journal.record(self.entry("anyway"))
        #expect(journal.entries().map(\.rule) == ["now", "anyway"])
    }

    @Test func writesJSONInAFixedOrder() {
        var entry = self.entry("orders")
        entry.id = 7
        #expect(
            entry.json
                == #"{"id":7,"connection":1,"listener":"127.0.0.1:8080","client":"127.0.0.1","receivedAt":"2026-11-18T11:06:40.250Z","#
                + #""method":"GET","target":"/a?b=1","path":"/a","version":"HTTP/1.1","tls":null,"headers":[["User-Agent","curl/8"],["Referer","http://x/\"y\""]],"#
                + #""bodyBytes":0,"rule":"orders","step":null,"status":200,"responseHeaders":[["Content-Length","2"]],"fault":null,"#
                + #""outcome":"completed","bytesSent":80,"bodyBytesSent":2,"firstByteMs":1.5,"totalMs":2.25}"#
        )
    }

    @Test func escapesJSONStringsAndCopiesPlainOnesWhole() {
        #expect(JSONString.quoted("plain/ü✓") == #""plain/ü✓""#)
        #expect(JSONString.quoted("a\"b\\c\nd\re\tf\u{1}g") == #""a\"b\\c\nd\re\tf\u0001g""#)
        var output = "["
        JSONString.append("", to: &output)
        #expect(output == #"["""#)
    }

    @Test func writesNginxCombinedLogLines() {
        var entry = self.entry("orders", status: 499)
        entry.headers.append(HeaderField("Authorization", "Basic YWxpY2U6c2VjcmV0"))
        #expect(
            entry.accessLogLine
                == #"127.0.0.1 - alice [18/Nov/2026:11:06:40 +0000] "GET /a?b=1 HTTP/1.1" 499 2 "http://x/\x22y\x22" "curl/8""#
        )
    }
}
