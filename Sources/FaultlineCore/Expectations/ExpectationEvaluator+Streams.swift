/// The expectations on streams: `resumesStream` and `honorsRetry`, judged from the journal's `lastEventId` and
/// `retryMs` of each stream answer and the `Last-Event-ID` of the request after it.
extension ExpectationEvaluator {
    /// The faults after which a client must resume a stream: it was cut, reset or stalled before its end.
    static let streamInterruptions: [String: String] = [
        "cutAfter": "was cut", "truncate": "was cut", "resetAfterEvents": "was reset", "resetAfter": "was reset",
        "stallAfter": "stalled",
    ]

    /// Every request after a cut or stalled stream carries `Last-Event-ID` equal to the id of the last event that
    /// stream sent (or, when it sent none, the id the request for it carried: the client still holds that one).
    static func resumesStream(_ entries: [JournalEntry]) -> (Bool, String, [Int]) {
        var interrupted = 0
        for (index, entry) in entries.enumerated() {
            guard entry.eventsSent != nil, let fault = entry.fault, let verb = self.streamInterruptions[fault] else {
                continue
            }
            interrupted += 1
            let events = entry.eventsSent ?? 0
            let what = "the stream of request \(index + 1) \(verb) after \(events) event\(events == 1 ? "" : "s")"
            guard index + 1 < entries.count else {
                return (false, "After \(what), the client never came back.", [entry.id])
            }
            let next = entries[index + 1]
            let expected = entry.lastEventID ?? entry.headers.first(named: "Last-Event-ID")
            let sent = next.headers.first(named: "Last-Event-ID")
            let ids = [entry.id, next.id]
            switch (expected, sent) {
            case (let expected?, let sent?) where !expected.isEmpty && sent == expected:
                continue
            case (let expected?, nil) where !expected.isEmpty:
                return (
                    false,
                    "After \(what), the last with id '\(expected)', request \(index + 2) carried no Last-Event-ID: it started over.",
                    ids
                )
            case (let expected?, let sent?) where !expected.isEmpty:
                return (
                    false,
                    "After \(what), the last with id '\(expected)', request \(index + 2) carried Last-Event-ID '\(sent)'.",
                    ids
                )
            case (_, let sent?) where !sent.isEmpty:
                return (
                    false, "After \(what), none with an id, request \(index + 2) carried Last-Event-ID '\(sent)'.", ids
                )
            default:
                continue
            }
        }
        if interrupted == 0 { return (true, "No stream was cut or stalled, so there was nothing to resume.", []) }
        return (
            true,
            "After each cut or stalled stream the client came back with the Last-Event-ID of the last event it had.", []
        )
    }

    /// No request came sooner after a stream ended than the last `retry` sent (a client keeps it across
    /// reconnections), from the end of that answer to the next request's arrival, with 100 ms of slack.
    static func honorsRetry(_ entries: [JournalEntry]) -> (Bool, String, [Int]) {
        var retry: Double?
        var judged = 0
        for (index, (previous, next)) in zip(entries, entries.dropFirst()).enumerated() {
            guard previous.eventsSent != nil else { continue }
            if let milliseconds = previous.retryMs { retry = Double(milliseconds) / 1000 }
            guard let wait = retry else { continue }
            judged += 1
            let gap = next.receivedAt - previous.finishedAt
            if gap + self.retryAfterTolerance < wait {
                return (
                    false,
                    "Request \(index + 2) came \(self.seconds(gap)) after the stream of request \(index + 1) ended, "
                        + "which had set retry: \(self.seconds(wait)).",
                    [previous.id, next.id]
                )
            }
        }
        if judged == 0 {
            return (
                true, "No reconnection followed a stream that had sent a retry, so there was nothing to honour.", []
            )
        }
        return (true, "Every reconnection waited at least the last retry the stream had sent.", [])
    }
}
