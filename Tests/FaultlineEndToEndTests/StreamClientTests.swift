import FaultlineTestSupport
import Foundation
import Testing

/// Server-Sent Events and NDJSON from the built `faultline` with real clients: curl `-N`, Python's httpx with
/// httpx-sse, and sseclient-py (over Python's http.client), installed into a virtual environment by
/// `scripts/test-venv`. Event boundaries, timing as lower bounds, cuts, stalls, resets, resumption with
/// Last-Event-ID, and the examples' verdicts through `faultline run`.
@Suite("Streams with real SSE and NDJSON clients")
struct StreamClientTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func client(_ name: String) -> String {
        self.root.appendingPathComponent("Tests/clients/\(name)").path
    }

    static let scenario = """
        version: 1
        rules:
          - name: ticks
            path: /ticks
            events:
              - {data: one, id: "1", retry: 200ms}
              - {data: two, id: "2", delay: 300ms}
              - {data: "three\\nlines", id: "3", delay: 300ms}
              - {event: done, data: "[DONE]", id: "4", delay: 300ms}
          - name: resumable
            path: /resumable
            sequence:
              - events: &events
                  - {data: a, id: "1", retry: 300ms}
                  - {data: b, id: "2", delay: 100ms}
                  - {data: c, id: "3", delay: 100ms}
                  - {data: end, id: "4"}
                fault: {cutAfter: 2}
              - events: *events
          - name: stall
            path: /stall
            events: [{data: a, id: "1"}, {data: b, id: "2"}]
            fault: {stallAfter: 1}
          - name: reset
            path: /reset
            events: [{data: a, id: "1"}, {data: b, id: "2"}, {data: c}]
            fault: {resetAfterEvents: 2}
        expect:
          - {rule: resumable, count: 2, resumesStream: true, honorsRetry: true}
        """

    /// Runs `body` against `faultline serve` with the scenario above on a free port (with `http2`, on a listener that
    /// speaks HTTP/2 by prior knowledge too).
    func withServer(http2: Bool = false, _ body: (String) throws -> Void) throws {
        let folder = try TemporaryFolder()
        let text =
            http2
            ? Self.scenario.replacingOccurrences(
                of: "version: 1\n",
                with: "version: 1\nlisteners: [{port: 0, http2: true}]\n"
            ) : Self.scenario
        let scenario = try folder.write("streams.yaml", text)
        let server = try FaultlineProcess(["serve", scenario, "--port", "0"])
        defer {
            server.signal()
            server.waitForExit()
        }
        let url = try #require(try server.waitUntilListening().first)
        try body(url)
    }

    /// The JSON lines a Python client printed.
    func records(_ result: Command.Result) -> [[String: Any]] {
        result.lines.compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
        }
    }

    /// The control API's journal entries for `rule`.
    func journal(_ url: String, rule: String) throws -> [[String: Any]] {
        let text = try Curl.run(["-s", "\(url)/__faultline/journal?rule=\(rule)"]).stdout
        return (try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]]) ?? []
    }

    // MARK: - curl

    @Test func curlShowsEachEventAsItArrives() throws {
        try self.withServer { url in
            // Each line of curl's output stamped with the milliseconds since the request started.
            let stamped = try Command.run([
                "bash", "-c",
                "start=$(date +%s%N); curl -sN \(url)/ticks | while IFS= read -r line; do echo \"$(( ($(date +%s%N) - start) / 1000000 )) $line\"; done",
            ])
            let lines = stamped.lines.map { line -> (ms: Int, text: String) in
                let parts = line.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
                return (Int(parts[0]) ?? -1, parts.count > 1 ? String(parts[1]) : "")
            }
            #expect(
                lines.map(\.text) == [
                    "id: 1", "retry: 200", "data: one", "", "id: 2", "data: two", "", "id: 3", "data: three",
                    "data: lines", "",
                    "event: done", "id: 4", "data: [DONE]", "",
                ]
            )
            func arrival(_ text: String) -> Int { lines.first { $0.text == text }?.ms ?? -1 }
            #expect(arrival("data: two") >= 300)
            #expect(arrival("data: lines") >= 600)
            #expect(arrival("data: [DONE]") >= 900)
            // Half the schedule's length, to spare a loaded machine: curl -N printed the first event long before the last.
            #expect(arrival("data: [DONE]") - arrival("data: one") >= 450)
        }
    }

    @Test func curlSeesCutsStallsResetsAndResumes() throws {
        try self.withServer { url in
            let cut = try Curl.run(["-sN", "\(url)/resumable"])
            #expect(cut.exitCode == 18, "transfer closed with outstanding read data remaining: \(cut.stderr)")
            #expect(cut.stdout == "id: 1\nretry: 300\ndata: a\n\nid: 2\ndata: b\n\n")
            let resumed = try Curl.run(["-sN", "-H", "Last-Event-ID: 2", "\(url)/resumable"])
            #expect(resumed.exitCode == 0)
            #expect(resumed.stdout == "id: 3\ndata: c\n\nid: 4\ndata: end\n\n")
            let stalled = try Curl.run(["-sN", "--max-time", "1", "\(url)/stall"])
            #expect(stalled.exitCode == 28, "the read timed out")
            #expect(stalled.stdout == "id: 1\ndata: a\n\n")
            let reset = try Curl.run(["-sN", "\(url)/reset"])
            #expect(reset.exitCode == 56, "connection reset by peer")
            #expect(reset.stdout == "id: 1\ndata: a\n\nid: 2\ndata: b\n\n")
            let stall = try #require(try self.journal(url, rule: "stall").first)
            #expect(stall["outcome"] as? String == "client-closed")
            #expect(stall["eventsSent"] as? Int == 1)
            let resets = try #require(try self.journal(url, rule: "reset").first)
            #expect(resets["outcome"] as? String == "reset")
            #expect(resets["fault"] as? String == "resetAfterEvents")
        }
    }

    /// On HTTP/2 each event is DATA on its stream; a cut is RST_STREAM INTERNAL_ERROR after the events before it (seen frame by
    /// frame with nghttp: curl may drop data that arrives with a reset, as the protocol allows), a stall holds the
    /// stream, `Last-Event-ID` resumes, and the journal says HTTP/2 with the same outcomes as on HTTP/1.1.
    @Test func curlOverHTTP2SeesEventsCutsStallsAndResumes() throws {
        try self.withServer(http2: true) { url in
            let h2 = ["-sN", "--http2-prior-knowledge"]
            let ticks = try Curl.run(h2 + ["-w", "%{http_version}", "\(url)/ticks"])
            #expect(ticks.exitCode == 0)
            #expect(
                ticks.stdout
                    == "id: 1\nretry: 200\ndata: one\n\nid: 2\ndata: two\n\nid: 3\ndata: three\ndata: lines\n\nevent: done\nid: 4\ndata: [DONE]\n\n2"
            )
            // The cut on the wire, frame by frame (nghttp prints each frame and the body): both events, then the reset.
            let cut = try Command.run("nghttp", ["-v", "\(url)/resumable"], timeout: 20)
            let frames = cut.stdout.split(separator: "\n").filter { $0.contains("] recv ") }
            #expect(
                cut.stdout.contains("\nid: 1\nretry: 300\ndata: a\n\n[")
                    && cut.stdout.contains("\nid: 2\ndata: b\n\n["),
                "\(cut.stdout)"
            )
            #expect(frames.filter { $0.contains("recv DATA frame") }.count == 2, "an event a frame")
            let resetFrame = try #require(frames.firstIndex { $0.contains("recv RST_STREAM frame") }, "\(cut.stdout)")
            let lastData = try #require(frames.lastIndex { $0.contains("recv DATA frame") }, "\(cut.stdout)")
            #expect(lastData < resetFrame, "the events go before the reset")
            #expect(cut.stdout.contains("(error_code=INTERNAL_ERROR(0x02))"), "\(cut.stdout)")
            #expect(!cut.stdout.contains("data: c"))
            let resumed = try Curl.run(h2 + ["-H", "Last-Event-ID: 2", "\(url)/resumable"])
            #expect(resumed.exitCode == 0)
            #expect(resumed.stdout == "id: 3\ndata: c\n\nid: 4\ndata: end\n\n")
            let stalled = try Curl.run(h2 + ["--max-time", "1", "\(url)/stall"])
            #expect(stalled.exitCode == 28)
            #expect(stalled.stdout == "id: 1\ndata: a\n\n")
            let entries = try self.journal(url, rule: "resumable")
            #expect(entries.map { $0["version"] as? String } == ["HTTP/2", "HTTP/2"])
            #expect(entries.map { $0["outcome"] as? String } == ["dropped", "completed"])
            #expect(entries.map { $0["fault"] as? String } == ["cutAfter", nil])
            #expect(entries.map { $0["eventsSent"] as? Int } == [2, 2])
            #expect(
                !(entries.first?["responseHeaders"] as? [[String]] ?? []).contains { $0.first == "Transfer-Encoding" },
                "no chunked framing on HTTP/2"
            )
            let stall = try #require(try self.journal(url, rule: "stall").first)
            #expect(stall["outcome"] as? String == "client-closed")
            #expect(stall["eventsSent"] as? Int == 1)
        }
    }

    // MARK: - httpx and httpx-sse

    @Test func httpxSSEReadsEventBoundariesOnTheirSchedule() throws {
        let python = try Command.testPython()
        try self.withServer { url in
            let result = try Command.run([python, Self.client("sse_httpx.py"), "\(url)/ticks"])
            #expect(result.status == 0, "\(result.stderr)")
            let events = self.records(result).filter { $0["data"] != nil }
            #expect(events.map { $0["data"] as? String } == ["one", "two", "three\nlines", "[DONE]"])
            #expect(events.map { $0["id"] as? String } == ["1", "2", "3", "4"])
            #expect(events.map { $0["event"] as? String } == ["message", "message", "message", "done"])
            #expect(events.first?["retry"] as? Int == 200)
            let times = events.compactMap { $0["t"] as? Double }
            #expect(times.count == 4)
            for (index, time) in times.enumerated() where index > 0 {
                #expect(time >= 0.3 * Double(index), "event \(index + 1) at \(time) s")
            }
            #expect(times[3] - times[0] >= 0.45, "each event as it came, not the stream at the end")
        }
    }

    @Test func httpxSSEResumesACutStreamWithLastEventIDAfterTheRetry() throws {
        let python = try Command.testPython()
        try self.withServer { url in
            let result = try Command.run([python, Self.client("sse_httpx.py"), "--until", "end", "\(url)/resumable"])
            #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
            let records = self.records(result)
            let attempts = records.filter { $0["attempt"] != nil }
            #expect(
                attempts.map { $0["lastEventId"] as? String } == [nil, "2"],
                "the retry carried the last id it had"
            )
            #expect(records.compactMap { $0["data"] as? String } == ["a", "b", "c", "end"], "each event once")
            let error = try #require(records.first { $0["error"] != nil })
            #expect(
                error["error"] as? String == "RemoteProtocolError",
                "httpx sees the stream end without its last chunk"
            )
            let gap = (attempts[1]["t"] as? Double ?? 0) - (error["t"] as? Double ?? 0)
            #expect(gap >= 0.3, "it waited the 300 ms retry")
            let verdict = try Curl.run(["-s", "\(url)/__faultline/expectations"]).stdout
            #expect(verdict.hasPrefix("{\"met\":true,"), "\(verdict)")
            let entries = try self.journal(url, rule: "resumable")
            #expect(entries.map { $0["eventsSent"] as? Int } == [2, 2])
            #expect(entries.map { $0["outcome"] as? String } == ["dropped", "completed"])
        }
    }

    @Test func httpxSSESeesAStallAsAReadTimeout() throws {
        let python = try Command.testPython()
        try self.withServer { url in
            let result = try Command.run([
                python, Self.client("sse_httpx.py"), "--read-timeout", "0.5", "--reconnect", "never", "\(url)/stall",
            ])
            #expect(result.status == 1, "it gave up")
            let records = self.records(result)
            #expect(records.compactMap { $0["data"] as? String } == ["a"])
            let error = try #require(records.first { $0["error"] != nil })
            #expect(error["error"] as? String == "ReadTimeout")
            #expect(error["t"] as? Double ?? 0 >= 0.5)
            let entry = try #require(try self.journal(url, rule: "stall").first)
            #expect(entry["status"] as? Int == 200)
            #expect(entry["outcome"] as? String == "client-closed")
            #expect(entry["fault"] as? String == "stallAfter")
        }
    }

    // MARK: - sseclient-py

    @Test func sseclientPyReadsEventsResumesAndSeesFaults() throws {
        let python = try Command.testPython()
        try self.withServer { url in
            let all = self.records(try Command.run([python, Self.client("sse_sseclient.py"), "\(url)/ticks"]))
            let events = all.filter { $0["data"] != nil }
            #expect(events.map { $0["data"] as? String } == ["one", "two", "three\nlines", "[DONE]"])
            #expect(events.map { $0["event"] as? String } == ["message", "message", "message", "done"])
            #expect(events.first?["retry"] as? String == "200")
            #expect(
                events.dropFirst().compactMap { $0["t"] as? Double }.enumerated().allSatisfy {
                    $1 >= 0.3 * Double($0 + 1)
                }
            )
            #expect(all.last?["end"] as? String == "clean")
            let resumed = self.records(
                try Command.run([python, Self.client("sse_sseclient.py"), "--last-event-id", "2", "\(url)/ticks"])
            )
            #expect(resumed.compactMap { $0["data"] as? String } == ["three\nlines", "[DONE]"])
            let stalled = self.records(
                try Command.run([python, Self.client("sse_sseclient.py"), "--read-timeout", "0.5", "\(url)/stall"])
            )
            #expect(stalled.compactMap { $0["data"] as? String } == ["a"])
            #expect(stalled.last?["end"] as? String == "timeout")
            let reset = self.records(try Command.run([python, Self.client("sse_sseclient.py"), "\(url)/reset"]))
            #expect(reset.compactMap { $0["data"] as? String } == ["a", "b"])
            #expect(reset.last?["end"] as? String == "ConnectionResetError")
        }
    }

    // MARK: - The examples through faultline run

    /// `faultline run Scenarios/NAME -- COMMAND...`.
    func runExample(_ name: String, _ command: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        try FaultlineProcess.run(
            ["run", Self.root.appendingPathComponent("Scenarios/\(name)").path, "--"] + command,
            timeout: 120
        )
    }

    @Test func anExpectationFailsForAClientThatReconnectsTooSoon() throws {
        let python = try Command.testPython()
        let sse = [python, Self.client("sse_httpx.py"), "--chat", "--until", "[DONE]"]
        let impatient = try self.runExample(
            "llm-token-stream.yaml",
            sse + ["--reconnect", "impatient", "/v1/chat/completions"]
        )
        #expect(impatient.status == 1)
        #expect(impatient.stderr.contains("faultline: 2 of 3 expectations met\n"), "\(impatient.stderr)")
        #expect(impatient.stderr.contains("  FAIL chat honorsRetry: Request 2 came "))
        #expect(impatient.stderr.contains(" s after the stream of request 1 ended, which had set retry: 1.000 s.\n"))
        #expect(impatient.stderr.contains("  ok   chat resumesStream: "))
    }

    @Test func theLLMExampleGivesTheVerdictsItsCommentsPromise() throws {
        let python = try Command.testPython()
        let sse = [python, Self.client("sse_httpx.py"), "--chat", "--until", "[DONE]"]
        let good = try self.runExample("llm-token-stream.yaml", sse + ["/v1/chat/completions"])
        #expect(good.status == 0, "\(good.stderr)")
        #expect(good.stdout.contains("\"answer\": \"The answer to your question is 42.\""), "assembled exactly once")
        #expect(good.stderr.contains("faultline: 3 of 3 expectations met\n"))
        #expect(good.stderr.contains("requests at 0.000 s 200 cutAfter (4 events), "))
        let forgetful = try self.runExample(
            "llm-token-stream.yaml",
            sse + ["--reconnect", "forget", "/v1/chat/completions"]
        )
        #expect(forgetful.status == 1)
        #expect(
            forgetful.stderr.contains(
                "  FAIL chat resumesStream: After the stream of request 1 was cut after 4 events, the last with id '4', request 2 "
                    + "carried no Last-Event-ID: it started over.\n"
            ),
            "\(forgetful.stderr)"
        )
        #expect(
            forgetful.stdout.contains("\"answer\": \"The answer to yourThe answer to your question is 42.\""),
            "the first tokens twice"
        )
        let trusting = try self.runExample(
            "llm-token-stream.yaml",
            sse + ["--reconnect", "never", "/v1/chat/completions"]
        )
        #expect(trusting.stderr.contains("  FAIL chat count: 1 request; expected exactly 2.\n"), "\(trusting.stderr)")
    }

    @Test func theNDJSONExampleGivesTheVerdictsItsCommentsPromise() throws {
        let python = try Command.testPython()
        let ndjson = "\(python) \(Self.client("ndjson_httpx.py"))"
        let careful = try self.runExample(
            "ndjson-export.yaml",
            ["bash", "-c", "\(ndjson) /v1/orders/export && \(ndjson) /v1/orders/changes"]
        )
        #expect(careful.status == 0, "\(careful.stderr)")
        #expect(
            careful.stdout.components(separatedBy: "\"records\": 4").count == 3,
            "all four orders and all four changes"
        )
        #expect(careful.stderr.contains("faultline: 2 of 2 expectations met\n"))
        let trusting = try self.runExample(
            "ndjson-export.yaml",
            [
                "bash", "-c",
                "curl -s \"$FAULTLINE_URL/v1/orders/export\"; curl -s --max-time 2 \"$FAULTLINE_URL/v1/orders/changes\"; exit 0",
            ]
        )
        #expect(trusting.status == 1)
        #expect(trusting.stderr.contains("  FAIL export count: 1 request; expected exactly 2.\n"), "\(trusting.stderr)")
        #expect(trusting.stdout.split(separator: "\n").count == 4, "two orders and two changes kept")
    }
}
