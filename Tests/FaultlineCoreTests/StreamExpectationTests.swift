import FaultlineCore
import Testing

/// `resumesStream` and `honorsRetry` judged from the journal, and the journal's stream fields.
@Suite("Streams: expectations and the journal")
struct StreamExpectationTests {
    /// A stream answer (or, with `events: nil`, another answer) arriving at `at` seconds, taking `ms` milliseconds.
    func entry(
        at: Double,
        ms: Double = 100,
        events: Int? = 3,
        lastID: String? = nil,
        retryMs: Int64? = nil,
        fault: String? = nil,
        lastEventIDHeader: String? = nil
    ) -> JournalEntry {
        var entry = JournalEntry(
            connection: 1,
            listener: "l",
            client: "c",
            receivedAt: 1000 + at,
            method: "GET",
            target: "/s",
            path: "/s",
            version: "HTTP/1.1",
            headers: lastEventIDHeader.map { [HeaderField("Last-Event-ID", $0)] } ?? [],
            bodyBytes: 0,
            rule: "r",
            step: nil,
            status: 200,
            responseHeaders: [],
            fault: fault,
            outcome: fault == nil ? .completed : .dropped,
            bytesSent: 0,
            bodyBytesSent: 0,
            firstByteMs: nil,
            totalMs: ms
        )
        entry.eventsSent = events
        entry.lastEventID = lastID
        entry.retryMs = retryMs
        return entry
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

    @Test func resumesStream() {
        let cut = self.entry(at: 0, lastID: "3", fault: "cutAfter")
        #expect(
            self.verdict(.resumesStream, [cut, self.entry(at: 1, lastEventIDHeader: "3")])
                == (
                    true,
                    "After each cut or stalled stream the client came back with the Last-Event-ID of the last event it had."
                )
        )
        #expect(
            self.verdict(.resumesStream, [cut, self.entry(at: 1)])
                == (
                    false,
                    "After the stream of request 1 was cut after 3 events, the last with id '3', request 2 carried no Last-Event-ID: it started over."
                )
        )
        #expect(
            self.verdict(.resumesStream, [cut, self.entry(at: 1, lastEventIDHeader: "2")])
                == (
                    false,
                    "After the stream of request 1 was cut after 3 events, the last with id '3', request 2 carried Last-Event-ID '2'."
                )
        )
        #expect(
            self.verdict(.resumesStream, [cut]) == (
                false, "After the stream of request 1 was cut after 3 events, the client never came back."
            )
        )
        let stalled = self.entry(at: 0, events: 1, lastID: "1", fault: "stallAfter")
        #expect(
            self.verdict(.resumesStream, [stalled, self.entry(at: 5)]).1
                == "After the stream of request 1 stalled after 1 event, the last with id '1', request 2 carried no Last-Event-ID: it started over."
        )
        // A stream cut before any event with an id: the client still holds the id it sent for it.
        let resumedThenCut = self.entry(
            at: 0,
            events: 0,
            lastID: nil,
            fault: "resetAfterEvents",
            lastEventIDHeader: "7"
        )
        #expect(self.verdict(.resumesStream, [resumedThenCut, self.entry(at: 1, lastEventIDHeader: "7")]).0)
        let noIDs = self.entry(at: 0, lastID: nil, fault: "cutAfter")
        #expect(
            self.verdict(.resumesStream, [noIDs, self.entry(at: 1)]).0,
            "no id was ever sent: nothing to send back"
        )
        #expect(
            self.verdict(.resumesStream, [noIDs, self.entry(at: 1, lastEventIDHeader: "x")]).1
                == "After the stream of request 1 was cut after 3 events, none with an id, request 2 carried Last-Event-ID 'x'."
        )
        #expect(
            self.verdict(.resumesStream, [self.entry(at: 0), self.entry(at: 1)])
                == (true, "No stream was cut or stalled, so there was nothing to resume.")
        )
        #expect(
            self.verdict(.resumesStream, [self.entry(at: 0, events: nil, fault: "truncate"), self.entry(at: 1)]).0,
            "a cut body is resumes'"
        )
    }

    @Test func honorsRetry() {
        let retried = self.entry(at: 0, ms: 500, retryMs: 2000, fault: "cutAfter")
        #expect(
            self.verdict(.honorsRetry, [retried, self.entry(at: 2.5)])
                == (true, "Every reconnection waited at least the last retry the stream had sent.")
        )
        #expect(self.verdict(.honorsRetry, [retried, self.entry(at: 2.45)]).0, "100 ms of slack")
        #expect(
            self.verdict(.honorsRetry, [retried, self.entry(at: 0.7)])
                == (false, "Request 2 came 0.200 s after the stream of request 1 ended, which had set retry: 2.000 s.")
        )
        // A client keeps the reconnection time across connections: a later stream without retry still asks for it.
        #expect(self.verdict(.honorsRetry, [retried, self.entry(at: 3), self.entry(at: 3.2)]).0 == false)
        #expect(
            self.verdict(.honorsRetry, [self.entry(at: 0), self.entry(at: 0.1)])
                == (true, "No reconnection followed a stream that had sent a retry, so there was nothing to honour.")
        )
    }

    @Test func theJournalNamesStreamFieldsForStreamsOnly() {
        var plain = self.entry(at: 0, events: nil)
        plain.id = 1
        #expect(plain.json.hasSuffix(",\"totalMs\":100}"), "other answers keep their exact form")
        var stream = self.entry(at: 0, events: 2, lastID: "2", retryMs: 1500)
        stream.id = 2
        #expect(stream.json.hasSuffix(",\"totalMs\":100,\"eventsSent\":2,\"lastEventId\":\"2\",\"retryMs\":1500}"))
        var none = self.entry(at: 0, events: 0)
        none.id = 3
        #expect(none.json.hasSuffix(",\"eventsSent\":0,\"lastEventId\":null,\"retryMs\":null}"))
        let report = ExpectationEvaluator.evaluate(
            [
                ClientExpectation(
                    rule: "r",
                    checks: [.count(min: 1, max: nil)],
                    sourceLocation: SourceLocation(file: "s", line: 1, column: 1)
                )
            ],
            journal: [self.entry(at: 0, events: 2, fault: "cutAfter")]
        )
        #expect(report.results[0].evidence == "requests at 0.000 s 200 cutAfter (2 events)")
    }
}
