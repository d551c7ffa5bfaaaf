/// Checks a scenario's expectations against the journal. Pure: the entries carry every time it needs.
public enum ExpectationEvaluator {
    /// The slack `honorsRetryAfter` allows for clock granularity (DESIGN section 3).
    public static let retryAfterTolerance = 0.1
    /// The slack `minInterval` allows.
    public static let intervalTolerance = 0.01

    /// `droppedEntries`: exchanges the bounded journal let go of. With any, no check can be judged (a `never` or
    /// a `count` would be judged on part of the run), so each fails and says why.
    public static func evaluate(
        _ expectations: [ClientExpectation],
        journal: [JournalEntry],
        droppedEntries: Int = 0
    ) -> ExpectationReport {
        var results: [ExpectationReport.Result] = []
        for expectation in expectations {
            let entries = journal.filter { $0.rule == expectation.rule }.sorted { $0.receivedAt < $1.receivedAt }
            let evidence = self.evidence(entries)
            for check in expectation.checks {
                var (met, reason, requestIDs) = self.check(check, entries)
                if droppedEntries > 0 {
                    met = false
                    reason =
                        "Cannot be judged: the journal let go of its \(droppedEntries) oldest exchange"
                        + "\(droppedEntries == 1 ? "" : "s") (raise --journal-size). On what it kept: \(reason)"
                }
                results.append(
                    ExpectationReport.Result(
                        rule: expectation.rule,
                        check: check.name,
                        met: met,
                        reason: reason,
                        evidence: evidence,
                        sourceLocation: expectation.sourceLocation,
                        requestIDs: requestIDs
                    )
                )
            }
        }
        return ExpectationReport(results: results)
    }

    /// Whether the check is met, a sentence saying why, and the journal ids of the requests that show it (for a
    /// failed check, the ones that broke it; empty when no request in particular does).
    static func check(_ check: ClientExpectation.Check, _ entries: [JournalEntry]) -> (Bool, String, [Int]) {
        let count = entries.count
        let requests = "\(count) request\(count == 1 ? "" : "s")"
        switch check {
        case .count(let min, let max):
            let expected: String =
                if min == max, let min { "exactly \(min)" } else if let min, let max {
                    "\(min) to \(max)"
                } else if let min {
                    "at least \(min)"
                } else { "at most \(max ?? 0)" }
            let met = count >= (min ?? 0) && count <= (max ?? Int.max)
            return (met, "\(requests); expected \(expected).", [])

        case .never:
            return (
                count == 0, count == 0 ? "The rule was never hit." : "The rule was hit: \(requests).", entries.map(\.id)
            )

        case .honorsRetryAfter:
            var asked = 0
            for (index, (previous, next)) in zip(entries, entries.dropFirst()).enumerated() {
                guard let wait = self.retryAfterSeconds(previous) else { continue }
                asked += 1
                let gap = next.receivedAt - previous.finishedAt
                if gap + self.retryAfterTolerance < wait {
                    return (
                        false,
                        "Request \(index + 2) came \(self.seconds(gap)) after an answer that said Retry-After: "
                            + "\(self.seconds(wait)) (request \(index + 1)).",
                        [previous.id, next.id]
                    )
                }
            }
            return (
                true,
                asked == 0
                    ? "No answer carried Retry-After, so there was nothing to honour."
                    : "Every request waited at least the Retry-After of the answer before it.", []
            )

        case .minInterval(let interval):
            let wanted = Double(interval.nanoseconds) / 1e9
            for (index, (previous, next)) in zip(entries, entries.dropFirst()).enumerated() {
                let gap = next.receivedAt - previous.finishedAt
                if gap + self.intervalTolerance < wanted {
                    return (
                        false,
                        "Request \(index + 2) came \(self.seconds(gap)) after the answer to request \(index + 1); expected at least \(self.seconds(wanted)).",
                        [previous.id, next.id]
                    )
                }
            }
            return (
                true,
                count < 2
                    ? "Fewer than two requests, so no interval to judge."
                    : "Every request waited at least \(self.seconds(wanted)).", []
            )

        case .backoff(let factor, let tolerance):
            let gaps = zip(entries, entries.dropFirst()).map { $1.receivedAt - $0.finishedAt }
            guard gaps.count >= 2 else {
                return (
                    false, "Backoff needs at least three requests to judge; there were \(count).", entries.map(\.id)
                )
            }
            let low = factor * (1 - tolerance)
            let high = factor * (1 + tolerance)
            for index in 1..<gaps.count {
                let ratio = gaps[index - 1] > 0 ? gaps[index] / gaps[index - 1] : .infinity
                if ratio < low || ratio > high {
                    return (
                        false,
                        "The wait before request \(index + 2) was \(self.seconds(gaps[index])), \(self.ratio(ratio)) the wait "
                            + "before it (\(self.seconds(gaps[index - 1]))); expected about \(self.ratio(factor)) "
                            + "(±\(Int((tolerance * 100).rounded())) %).",
                        [entries[index].id, entries[index + 1].id]
                    )
                }
            }
            return (
                true,
                "Each wait grew by about \(self.ratio(factor)): \(gaps.map(self.seconds).joined(separator: ", ")).", []
            )

        case .resumes:
            var cuts = 0
            for (index, entry) in entries.enumerated() where entry.fault == "truncate" || entry.fault == "resetAfter" {
                cuts += 1
                let expectedStart = self.rangeStart(of: entry) + entry.bodyBytesSent
                guard index + 1 < entries.count else {
                    return (
                        false,
                        "Request \(index + 1) was cut after \(entry.bodyBytesSent) bytes and the client never asked for the rest.",
                        [entry.id]
                    )
                }
                let range = entries[index + 1].headers.first(named: "Range")
                guard let range,
                    range.replacingSpaces() == "bytes=\(expectedStart)-"
                        || range.replacingSpaces().hasPrefix("bytes=\(expectedStart)-")
                else {
                    return (
                        false,
                        "Request \(index + 1) was cut at byte \(expectedStart); request \(index + 2) asked for "
                            + "\(range.map { "'\($0)'" } ?? "the whole body") instead of 'bytes=\(expectedStart)-'.",
                        [entry.id, entries[index + 1].id]
                    )
                }
            }
            return (
                true,
                cuts == 0
                    ? "No answer was cut, so there was nothing to resume."
                    : "After each cut answer the client asked for exactly the rest.", []
            )

        case .revalidates:
            var checked = 0
            for (index, (previous, next)) in zip(entries, entries.dropFirst()).enumerated() {
                let etag = previous.responseHeaders.first(named: "ETag")
                let lastModified = previous.responseHeaders.first(named: "Last-Modified")
                guard etag != nil || lastModified != nil else { continue }
                checked += 1
                let sentTags = EntityTag.list(next.headers.values(named: "If-None-Match"))
                let matchesTag =
                    etag.map { tag in sentTags.map { $0.contains { EntityTag.weaklyEqual($0, tag) } } ?? true } ?? false
                let matchesDate = lastModified.map { next.headers.first(named: "If-Modified-Since") == $0 } ?? false
                if !matchesTag && !matchesDate {
                    return (
                        false,
                        "Request \(index + 2) did not revalidate: the answer before it had "
                            + [etag.map { "ETag \($0)" }, lastModified.map { "Last-Modified \($0)" }].compactMap { $0 }
                            .joined(separator: " and ")
                            + ", but it sent neither If-None-Match nor If-Modified-Since with them.",
                        [previous.id, next.id]
                    )
                }
            }
            return (
                true,
                checked == 0
                    ? "No repeat request followed an answer with a validator."
                    : "Every repeat request sent the validators of the answer before it.", []
            )

        case .resumesStream:
            return self.resumesStream(entries)

        case .honorsRetry:
            return self.honorsRetry(entries)

        case .maxConcurrent(let limit):
            var events: [(time: Double, delta: Int, id: Int)] = []
            for entry in entries {
                events.append((entry.receivedAt, 1, entry.id))
                events.append((entry.finishedAt, -1, entry.id))
            }
            // Ends before starts at the same instant: back-to-back requests are not concurrent.
            events.sort { $0.time < $1.time || ($0.time == $1.time && $0.delta < $1.delta) }
            var open: [Int] = []
            var peak: [Int] = []
            for event in events {
                if event.delta > 0 { open.append(event.id) } else { open.removeAll { $0 == event.id } }
                if open.count > peak.count { peak = open }
            }
            return (
                peak.count <= limit,
                "At most \(peak.count) request\(peak.count == 1 ? " was" : "s were") in flight at once; expected at most \(limit).",
                peak.count <= limit ? [] : peak
            )
        }
    }

    /// Seconds a Retry-After asks for, from a number or an HTTP date (against the answer's Date).
    static func retryAfterSeconds(_ entry: JournalEntry) -> Double? {
        guard let value = entry.responseHeaders.first(named: "Retry-After")?.trimmingSpaces() else { return nil }
        if let seconds = Int(value) { return Double(seconds) }
        guard let date = HTTPDate.parse(value) else { return nil }
        let now =
            entry.responseHeaders.first(named: "Date").flatMap(HTTPDate.parse).map(Double.init) ?? entry.receivedAt
        return max(0, Double(date) - now)
    }

    /// Where a partial answer started: `S` of `Content-Range: bytes S-E/L`, else 0.
    static func rangeStart(of entry: JournalEntry) -> Int64 {
        guard let range = entry.responseHeaders.first(named: "Content-Range"), range.hasPrefix("bytes "),
            let dash = range.firstIndex(of: "-")
        else { return 0 }
        return Int64(range[range.index(range.startIndex, offsetBy: 6)..<dash]) ?? 0
    }

    /// The requests to a rule, timed from the first: `0.000 s 503, 2.104 s 503, 4.210 s 200`.
    static func evidence(_ entries: [JournalEntry]) -> String {
        guard let first = entries.first else { return "" }
        let shown = entries.prefix(12).map { entry -> String in
            var text = "\(self.seconds(entry.receivedAt - first.receivedAt)) \(entry.status)"
            if let fault = entry.fault { text += " \(fault)" }
            if let events = entry.eventsSent { text += " (\(events) event\(events == 1 ? "" : "s"))" }
            if let retryAfter = entry.responseHeaders.first(named: "Retry-After") {
                text += " (Retry-After \(retryAfter))"
            }
            return text
        }
        let more = entries.count > shown.count ? ", ... (\(entries.count - shown.count) more)" : ""
        return "requests at " + shown.joined(separator: ", ") + more
    }

    static func seconds(_ value: Double) -> String {
        // A Retry-After can be any number a scenario or a request chose: only a sane one is written to the millisecond.
        guard value.isFinite, abs(value) < 1e12 else { return "\(value) s" }
        let milliseconds = Int((value * 1000).rounded())
        let whole = milliseconds / 1000
        let fraction = abs(milliseconds % 1000)
        return
            "\(milliseconds < 0 && whole == 0 ? "-" : "")\(whole).\(fraction < 10 ? "00" : fraction < 100 ? "0" : "")\(fraction) s"
    }

    static func ratio(_ value: Double) -> String {
        guard value.isFinite else { return "infinitely" }
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)x"
    }
}

extension String {
    /// The string without any space or tab.
    func replacingSpaces() -> String {
        String(self.filter { $0 != " " && $0 != "\t" })
    }
}
