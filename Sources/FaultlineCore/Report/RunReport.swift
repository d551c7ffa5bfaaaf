/// The run as a picture: one self-contained HTML page made from the journal and the verdict, for a person to read
/// after a red CI job. The verdict comes first (every expectation with its sentence, failing ones first, linked to
/// their requests), then the timeline (one lane per rule and one for unmatched requests, each request a mark from its
/// arrival to its last byte, Retry-After bands, the gaps between requests), then the journal as a table, paged past
/// `pageSize` rows.
///
/// The page makes no request to any network resource: its style sheet, its SVG and its one script (hover details
/// only) are inline, and its Content-Security-Policy forbids anything else. Every request's mark in the SVG carries
/// `data-id`, the journal id; a binned mark carries the ids it stands for, separated by spaces (so
/// `[data-id~="12"]` finds the mark that holds request 12).
///
/// Rendering is a pure function of the values below, so it is tested without a server.
public struct RunReport: Sendable {
    /// Rows per page of the journal table.
    public static let pageSize = 500

    /// The journal, oldest first.
    public var journal: [JournalEntry]
    /// The verdict on the client.
    public var verdict: ExpectationReport
    /// The scenario's rule labels (`name` or `rules[N]`) in order: one lane each, also for rules never hit.
    public var rules: [String]
    /// When the scenario was loaded (or last reset), in seconds since 1970: the timeline's zero.
    public var loadedAt: Double
    /// When the report is written, in seconds since 1970.
    public var generatedAt: Double
    /// The scenario's name, if it has one.
    public var scenarioName: String?
    /// Exchanges the bounded journal let go of.
    public var droppedEntries: Int

    public init(
        journal: [JournalEntry],
        verdict: ExpectationReport,
        rules: [String],
        loadedAt: Double,
        generatedAt: Double,
        scenarioName: String? = nil,
        droppedEntries: Int = 0
    ) {
        self.journal = journal
        self.verdict = verdict
        self.rules = rules
        self.loadedAt = loadedAt
        self.generatedAt = generatedAt
        self.scenarioName = scenarioName
        self.droppedEntries = droppedEntries
    }

    /// The page.
    public func html() -> String {
        let layout = TimelineLayout(journal: self.journal, rules: self.rules, loadedAt: self.loadedAt)
        var html = ""
        // About 250 bytes a request: reserve once rather than grow a string of megabytes step by step.
        html.reserveCapacity(24_000 + self.journal.count * 260)
        html += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        html += "<meta http-equiv=\"Content-Security-Policy\" content=\"\(ReportAssets.contentSecurityPolicy)\">\n"
        html += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        html += "<meta name=\"color-scheme\" content=\"light dark\">\n<meta name=\"generator\" content=\"faultline\">\n"
        html += "<title>"
        html += self.verdictWord
        html += " · Faultline report"
        if let name = self.scenarioName {
            html += ": "
            HTMLText.append(HTMLText.shortened(name, to: 80), to: &html)
        }
        html += "</title>\n<style>\n"
        html += ReportAssets.style
        html += "\n</style>\n</head>\n<body>\n"
        self.appendHeader(to: &html)
        self.appendVerdict(to: &html)
        self.appendTimeline(layout, to: &html)
        self.appendJournal(early: layout.early, to: &html)
        html += "<div id=\"tip\" hidden></div>\n<script>"
        html += ReportAssets.script
        html += "</script>\n</body>\n</html>\n"
        return html
    }

    // MARK: - Header and verdict

    private var failed: [ExpectationReport.Result] { self.verdict.results.filter { !$0.met } }

    /// `FAIL`, `PASS` or `NO EXPECTATIONS`.
    private var verdictWord: String {
        self.verdict.results.isEmpty ? "NO EXPECTATIONS" : self.verdict.allMet ? "PASS" : "FAIL"
    }

    private func appendHeader(to html: inout String) {
        html += "<header>\n<h1>Faultline report"
        if let name = self.scenarioName {
            html += ": "
            HTMLText.append(HTMLText.shortened(name, to: 120), to: &html)
        }
        html += "</h1>\n<p class=\"meta\">"
        html += String(self.journal.count)
        html += self.journal.count == 1 ? " request" : " requests"
        html += " · scenario loaded "
        html += HTTPDate.format(secondsSince1970: Int64(self.loadedAt.rounded(.down)))
        html += " · report written "
        html += HTTPDate.format(secondsSince1970: Int64(self.generatedAt.rounded(.down)))
        html += "</p>\n</header>\n"
        if self.droppedEntries > 0 {
            html += "<p class=\"warn\">The journal let go of its "
            html += String(self.droppedEntries)
            html += " oldest exchange\(self.droppedEntries == 1 ? "" : "s") (raise --journal-size): "
            html += "the timeline and the table show the ones it kept.</p>\n"
        }
    }

    private func appendVerdict(to html: inout String) {
        html += "<section id=\"verdict\">\n<h2>Verdict</h2>\n"
        let results = self.verdict.results
        let failed = self.failed
        if results.isEmpty {
            html += "<p class=\"banner none\">No expectations: the scenario has no <code>expect:</code> block.</p>\n"
        } else if failed.isEmpty {
            html +=
                "<p class=\"banner ok\">PASS: all \(results.count) expectation\(results.count == 1 ? "" : "s") met</p>\n"
        } else {
            html += "<p class=\"banner fail\">FAIL: \(failed.count) of \(results.count) expectation"
            html += "\(results.count == 1 ? "" : "s") not met</p>\n"
        }
        guard !results.isEmpty else {
            html += "</section>\n"
            return
        }
        // The rule's requests in the order the evaluator numbers them ("request 2"), for the links.
        var byRule: [String: [JournalEntry]] = [:]
        for entry in self.journal {
            if let rule = entry.rule { byRule[rule, default: []].append(entry) }
        }
        for rule in byRule.keys { byRule[rule]?.sort { $0.receivedAt < $1.receivedAt } }

        html += "<ol class=\"checks\">\n"
        // Failing first; within each, the scenario's order.
        for result in failed + results.filter(\.met) {
            let entries = byRule[result.rule] ?? []
            let named = result.requestIDs.isEmpty ? entries.map(\.id) : result.requestIDs
            let linked = named.prefix(8)
            // Hovering over the expectation lights its requests up on the timeline (a few hundred are plenty).
            html += "<li class=\"check \(result.met ? "ok" : "fail")\" data-ref=\""
            html += named.prefix(500).map(String.init).joined(separator: " ")
            html += "\"><span class=\"badge\">"
            html += result.met ? "ok" : "FAIL"
            html += "</span> <code>"
            HTMLText.append(result.rule, to: &html)
            html += "</code> <b>"
            HTMLText.append(result.check, to: &html)
            html += "</b>: <span class=\"why\">"
            HTMLText.append(result.reason, to: &html)
            html += "</span>\n<div class=\"more reqs\">"
            html +=
                result.requestIDs.isEmpty
                ? "Requests to the rule: " : (result.met ? "Requests: " : "The requests that broke it: ")
            if linked.isEmpty { html += "none" }
            for id in linked {
                let position = entries.firstIndex { $0.id == id }
                let entry = position.map { entries[$0] }
                html += "<a href=\"#e\(id)\" data-ref=\"\(id)\">"
                if let position { html += "request \(position + 1) " }
                html += "(#\(id)"
                if let entry {
                    html += ", \(entry.status)"
                    if let fault = entry.fault {
                        html += " "
                        HTMLText.append(HTMLText.shortened(fault, to: 24), to: &html)
                    }
                    html += " at "
                    ReportNumber.append(entry.receivedAt - self.loadedAt, 3, to: &html)
                    html += " s"
                }
                html += ")</a> "
            }
            if named.count > linked.count {
                html += "and \(named.count - linked.count) more"
            }
            // The evidence line of the text report is what the timeline below draws: only where it is written.
            html += "</div>\n<div class=\"more\">expected in "
            HTMLText.append(result.sourceLocation.description, to: &html)
            html += "</div></li>\n"
        }
        html += "</ol>\n</section>\n"
    }

    // MARK: - Journal table

    /// The table's columns; the style sheet aligns the numeric ones by position (classes on 10,000 rows' cells
    /// would cost most of a megabyte).
    private static let columns = [
        "#", "arrived (s)", "method", "target", "rule", "status", "fault", "outcome", "first byte (ms)", "total (ms)",
        "bytes sent", "Retry-After", "note",
    ]

    private func appendJournal(early: [Int: Double], to html: inout String) {
        html += "<section id=\"journal\">\n<h2>Journal</h2>\n"
        let pages = (self.journal.count + Self.pageSize - 1) / Self.pageSize
        if pages > 1 {
            html += "<p class=\"hint\">\(self.journal.count) requests in pages of \(Self.pageSize); "
            html += "a mark or a link on this page opens the page of its request.</p>\n<nav class=\"pager\">Pages: "
            for page in 0..<pages {
                let first = self.journal[page * Self.pageSize].id
                let last = self.journal[min(self.journal.count, (page + 1) * Self.pageSize) - 1].id
                html += "<a href=\"#p\(page + 1)\">#\(first)–\(last)</a>"
            }
            html += "</nav>\n"
        }
        html += "<div class=\"plot\"><table class=\"journal\(pages > 1 ? " paged" : "")\">\n<thead><tr>"
        for column in Self.columns {
            html += "<th>"
            html += column
            html += "</th>"
        }
        html += "</tr></thead>\n"
        if self.journal.isEmpty {
            html += "<tbody><tr><td colspan=\"\(Self.columns.count)\">No request yet.</td></tr></tbody>\n"
        }
        for (index, entry) in self.journal.enumerated() {
            if index % Self.pageSize == 0 {
                if index > 0 { html += "</tbody>\n" }
                html += "<tbody id=\"p\(index / Self.pageSize + 1)\">\n"
            }
            self.appendRow(entry, early: early[entry.id], to: &html)
        }
        if !self.journal.isEmpty { html += "</tbody>\n" }
        html += "</table></div>\n</section>\n"
    }

    private func appendRow(_ entry: JournalEntry, early: Double?, to html: inout String) {
        html += "<tr id=\"e"
        html += String(entry.id)
        html += early == nil ? "\">" : "\" class=\"early\">"
        html += "<td>"
        html += String(entry.id)
        html += "</td><td>"
        ReportNumber.append(entry.receivedAt - self.loadedAt, 3, to: &html)
        html += "</td><td>"
        HTMLText.append(HTMLText.shortened(entry.method, to: 24), to: &html)
        html += "</td><td>"
        // The full target is in the JSON journal; a page of 10,000 requests cannot hold 10,000 long ones.
        HTMLText.append(HTMLText.shortened(entry.target, to: 120), to: &html)
        html += "</td><td>"
        if let rule = entry.rule {
            HTMLText.append(HTMLText.shortened(rule, to: 60), to: &html)
            if let step = entry.step { html += " step \(step)" }
        } else {
            html += "none"
        }
        html += "</td><td>"
        html += String(entry.status)
        html += "</td><td>"
        if let fault = entry.fault { HTMLText.append(HTMLText.shortened(fault, to: 40), to: &html) }
        html += "</td><td class=\"o-"
        html += entry.outcome.rawValue
        html += "\">"
        html += entry.outcome.rawValue
        html += "</td><td>"
        if let firstByte = entry.firstByteMs { ReportNumber.append(firstByte, 1, to: &html) }
        html += "</td><td>"
        ReportNumber.append(entry.totalMs, 1, to: &html)
        html += "</td><td>"
        html += String(entry.bytesSent)
        html += "</td><td>"
        if let retryAfter = entry.responseHeaders.first(named: "Retry-After") {
            HTMLText.append(HTMLText.shortened(retryAfter, to: 40), to: &html)
        }
        html += "</td><td>"
        if let early {
            html += "came "
            ReportNumber.append(early, 3, to: &html)
            html += " s before Retry-After allowed"
        }
        html += "</td></tr>\n"
    }
}
