import FaultlineCore
import Testing

@Suite("Expectations checked against a journal")
struct ExpectationTests {
    /// A journal entry for `rule` arriving at `at` seconds and taking `ms` milliseconds.
    func entry(
        _ rule: String = "r",
        at: Double,
        ms: Double = 10,
        status: Int = 200,
        headers: [HeaderField] = [],
        response: [HeaderField] = [],
        fault: String? = nil,
        bodyBytesSent: Int64 = 0,
        connection: Int = 1
    ) -> JournalEntry {
        JournalEntry(
            connection: connection,
            listener: "l",
            client: "c",
            receivedAt: 1000 + at,
            method: "GET",
            target: "/",
            path: "/",
            version: "HTTP/1.1",
            headers: headers,
            bodyBytes: 0,
            rule: rule,
            step: nil,
            status: status,
            responseHeaders: response,
            fault: fault,
            outcome: .completed,
            bytesSent: 0,
            bodyBytesSent: bodyBytesSent,
            firstByteMs: nil,
            totalMs: ms
        )
    }

    func verdict(_ check: ClientExpectation.Check, _ entries: [JournalEntry]) -> (Bool, String) {
        let report = ExpectationEvaluator.evaluate(
            [
                ClientExpectation(
                    rule: "r",
                    checks: [check],
                    sourceLocation: SourceLocation(file: "s", line: 1, column: 1)
                )
            ],
            journal: entries
        )
        return (report.results[0].met, report.results[0].reason)
    }

    @Test func count() {
        let three = [self.entry(at: 0), self.entry(at: 1), self.entry(at: 2), self.entry("other", at: 3)]
        #expect(self.verdict(.count(min: 3, max: 3), three) == (true, "3 requests; expected exactly 3."))
        #expect(self.verdict(.count(min: 4, max: nil), three) == (false, "3 requests; expected at least 4."))
        #expect(self.verdict(.count(min: nil, max: 2), three).0 == false)
        #expect(self.verdict(.never, three) == (false, "The rule was hit: 3 requests."))
        #expect(self.verdict(.never, []) == (true, "The rule was never hit."))
    }

    @Test func honorsRetryAfter() {
        let busy = [HeaderField("Retry-After", "2")]
        let patient = [self.entry(at: 0, ms: 10, status: 503, response: busy), self.entry(at: 2.0, status: 200)]
        #expect(self.verdict(.honorsRetryAfter, patient).0)
        // 1.95 s after the answer ended: within the 100 ms tolerance.
        #expect(
            self.verdict(
                .honorsRetryAfter,
                [self.entry(at: 0, ms: 0, status: 503, response: busy), self.entry(at: 1.95)]
            ).0
        )
        let impatient = [self.entry(at: 0, ms: 10, status: 503, response: busy), self.entry(at: 0.5)]
        #expect(
            self.verdict(.honorsRetryAfter, impatient) == (
                false, "Request 2 came 0.490 s after an answer that said Retry-After: 2.000 s (request 1)."
            )
        )
        let dated = [
            HeaderField("Date", "Thu, 26 Nov 2026 12:00:00 GMT"),
            HeaderField("Retry-After", "Thu, 26 Nov 2026 12:00:05 GMT"),
        ]
        #expect(self.verdict(.honorsRetryAfter, [self.entry(at: 0, response: dated), self.entry(at: 3)]).0 == false)
        #expect(self.verdict(.honorsRetryAfter, [self.entry(at: 0, response: dated), self.entry(at: 5.1)]).0)
        #expect(
            self.verdict(.honorsRetryAfter, [self.entry(at: 0), self.entry(at: 0.1)]) == (
                true, "No answer carried Retry-After, so there was nothing to honour."
            )
        )
    }

    @Test func aJournalThatLetEntriesGoCannotJudge() {
        let report = ExpectationEvaluator.evaluate(
            [
                ClientExpectation(
                    rule: "r",
                    checks: [.never],
                    sourceLocation: SourceLocation(file: "s", line: 1, column: 1)
                )
            ],
            journal: [],
            droppedEntries: 3
        )
        #expect(!report.allMet, "a never judged on part of the run is not a pass")
        #expect(
            report.results[0].reason
                == "Cannot be judged: the journal let go of its 3 oldest exchanges (raise --journal-size). On what it kept: The rule was never hit."
        )
    }

    @Test func anAbsurdRetryAfterIsReportedNotATrap() {
        let huge = [HeaderField("Retry-After", "99999999999999999")]
        let verdict = self.verdict(.honorsRetryAfter, [self.entry(at: 0, response: huge), self.entry(at: 1)])
        #expect(verdict.0 == false)
        #expect(verdict.1.contains("Retry-After: 1e+17 s"))
    }

    @Test func minInterval() {
        #expect(
            self.verdict(.minInterval(.seconds(1)), [self.entry(at: 0, ms: 0), self.entry(at: 1), self.entry(at: 2.5)])
                .0
        )
        #expect(
            self.verdict(.minInterval(.seconds(1)), [self.entry(at: 0, ms: 0), self.entry(at: 1), self.entry(at: 1.5)])
                == (false, "Request 3 came 0.490 s after the answer to request 2; expected at least 1.000 s.")
        )
    }

    @Test func backoff() {
        // Waits of 1, 2 and 4 seconds after each answer.
        let doubling = [
            self.entry(at: 0, ms: 0), self.entry(at: 1, ms: 0), self.entry(at: 3, ms: 0), self.entry(at: 7, ms: 0),
        ]
        #expect(
            self.verdict(.backoff(factor: 2, tolerance: 0.25), doubling) == (
                true, "Each wait grew by about 2.0x: 1.000 s, 2.000 s, 4.000 s."
            )
        )
        let steady = [
            self.entry(at: 0, ms: 0), self.entry(at: 1, ms: 0), self.entry(at: 2, ms: 0), self.entry(at: 3, ms: 0),
        ]
        #expect(
            self.verdict(.backoff(factor: 2, tolerance: 0.25), steady) == (
                false,
                "The wait before request 3 was 1.000 s, 1.0x the wait before it (1.000 s); expected about 2.0x (±25 %)."
            )
        )
        #expect(self.verdict(.backoff(factor: 2, tolerance: 0.25), [self.entry(at: 0), self.entry(at: 1)]).0 == false)
    }

    @Test func resumes() {
        let cut = self.entry(
            at: 0,
            response: [HeaderField("Content-Length", "1000")],
            fault: "truncate",
            bodyBytesSent: 300
        )
        #expect(self.verdict(.resumes, [cut, self.entry(at: 1, headers: [HeaderField("Range", "bytes=300-")])]).0)
        #expect(
            self.verdict(.resumes, [cut, self.entry(at: 1)]) == (
                false, "Request 1 was cut at byte 300; request 2 asked for the whole body instead of 'bytes=300-'."
            )
        )
        #expect(
            self.verdict(.resumes, [cut]) == (
                false, "Request 1 was cut after 300 bytes and the client never asked for the rest."
            )
        )
        let partial = self.entry(
            at: 0,
            status: 206,
            response: [HeaderField("Content-Range", "bytes 300-999/1000")],
            fault: "resetAfter",
            bodyBytesSent: 200
        )
        #expect(
            self.verdict(.resumes, [partial, self.entry(at: 1, headers: [HeaderField("Range", "bytes=500-")])]).0,
            "a cut range resumes from its own start"
        )
        #expect(self.verdict(.resumes, [self.entry(at: 0)]).0)
    }

    @Test func revalidates() {
        let tagged = self.entry(
            at: 0,
            response: [HeaderField("ETag", #""v1""#), HeaderField("Last-Modified", "Wed, 21 Oct 2026 07:28:00 GMT")]
        )
        #expect(
            self.verdict(.revalidates, [tagged, self.entry(at: 1, headers: [HeaderField("If-None-Match", #""v1""#)])]).0
        )
        #expect(
            self.verdict(
                .revalidates,
                [
                    tagged,
                    self.entry(at: 1, headers: [HeaderField("If-Modified-Since", "Wed, 21 Oct 2026 07:28:00 GMT")]),
                ]
            ).0
        )
        #expect(
            self.verdict(.revalidates, [tagged, self.entry(at: 1, headers: [HeaderField("If-None-Match", #""v0""#)])]).0
                == false
        )
        #expect(self.verdict(.revalidates, [tagged, self.entry(at: 1)]).1.hasPrefix("Request 2 did not revalidate"))
    }

    @Test func maxConcurrent() {
        let overlapping = [
            self.entry(at: 0, ms: 1000, connection: 1), self.entry(at: 0.5, ms: 1000, connection: 2),
            self.entry(at: 0.6, ms: 100, connection: 3), self.entry(at: 3, ms: 100, connection: 1),
        ]
        #expect(
            self.verdict(.maxConcurrent(3), overlapping) == (
                true, "At most 3 requests were in flight at once; expected at most 3."
            )
        )
        #expect(self.verdict(.maxConcurrent(2), overlapping).0 == false)
        let backToBack = [self.entry(at: 0, ms: 1000), self.entry(at: 1, ms: 1000)]
        #expect(self.verdict(.maxConcurrent(1), backToBack).0)
    }

    @Test func theReportSaysWhatFailedAndShowsTheRequests() {
        let report = ExpectationEvaluator.evaluate(
            [
                ClientExpectation(
                    rule: "r",
                    checks: [.count(min: 1, max: 1), .never],
                    sourceLocation: SourceLocation(file: "s.yaml", line: 4, column: 5)
                )
            ],
            journal: [self.entry(at: 0, status: 503, response: [HeaderField("Retry-After", "1")])]
        )
        #expect(!report.allMet)
        #expect(
            report.text == """
                faultline: 1 of 2 expectations met
                  ok   r count: 1 request; expected exactly 1.
                  FAIL r never: The rule was hit: 1 request.
                       requests at 0.000 s 503 (Retry-After 1)

                """
        )
        #expect(report.json.hasPrefix(#"{"met":false,"results":[{"rule":"r","check":"count","met":true,"#))
    }

    @Test func aFailedCheckNamesTheRequestsThatBrokeIt() {
        func ids(_ check: ClientExpectation.Check, _ entries: [JournalEntry]) -> [Int] {
            let numbered = entries.enumerated().map { index, entry in
                var entry = entry
                entry.id = 10 + index
                return entry
            }
            let report = ExpectationEvaluator.evaluate(
                [
                    ClientExpectation(
                        rule: "r",
                        checks: [check],
                        sourceLocation: SourceLocation(file: "s", line: 1, column: 1)
                    )
                ],
                journal: numbered
            )
            return report.results[0].requestIDs
        }
        let busy = [HeaderField("Retry-After", "2")]
        let storm = [self.entry(at: 0, response: busy), self.entry(at: 2.5, response: busy), self.entry(at: 2.7)]
        #expect(
            ids(.honorsRetryAfter, storm) == [11, 12],
            "the answer with Retry-After and the request too soon after it"
        )
        #expect(ids(.minInterval(.seconds(1)), storm) == [11, 12])
        #expect(ids(.never, storm) == [10, 11, 12])
        #expect(ids(.count(min: 5, max: nil), storm) == [], "no request in particular breaks a count")
        #expect(ids(.honorsRetryAfter, [self.entry(at: 0, response: busy), self.entry(at: 3)]) == [], "met")
        let overlapping = [
            self.entry(at: 0, ms: 1000, connection: 1), self.entry(at: 0.5, ms: 1000, connection: 2),
            self.entry(at: 0.6, ms: 100, connection: 3), self.entry(at: 3, ms: 100, connection: 1),
        ]
        #expect(ids(.maxConcurrent(2), overlapping) == [10, 11, 12], "the three in flight at once")
        #expect(
            ids(
                .backoff(factor: 2, tolerance: 0.1),
                [self.entry(at: 0, ms: 0), self.entry(at: 1, ms: 0), self.entry(at: 1.5, ms: 0)]
            ) == [11, 12]
        )
    }
}
