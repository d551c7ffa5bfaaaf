import FaultlineCore
import NIOCore

/// One exchange as the journal will tell it: the request as received, who answered, the plan, and what really went
/// on the wire (the writer counts bytes as the socket takes them).
final class ExchangeRecord {
    /// The request as received.
    let request: HTTP1ConnectionStateMachine.Request
    /// The rule engine's decision, when a rule (or the engine) answered.
    let decision: Decision?
    /// Whether the exchange goes into the journal (the control API's do not).
    let isJournaled: Bool
    /// The plan being carried out; `nil` until it is made (while a body file opens, say).
    var plan: ResponsePlan?
    /// The status line written, if any.
    var statusSent: Int?
    /// The `Date` the head was written with, when Faultline dated it then.
    var dateSent: String?
    /// Bytes the socket took, head and body.
    var bytesSent: Int64 = 0
    var bodyBytesSent: Int64 = 0
    var firstByteAt: NIODeadline?
    /// The whole body went out.
    var bodyFinished = false
    /// Recorded in the journal already.
    var recorded = false
    /// The upstream request of a `proxy` answer.
    var upstream: UpstreamExchange?

    init(request: HTTP1ConnectionStateMachine.Request, decision: Decision?, isJournaled: Bool) {
        self.request = request
        self.decision = decision
        self.isJournaled = isJournaled
    }

    /// The journal's record of this exchange, ending with `outcome`.
    func entry(outcome: JournalEntry.Outcome, connection: ConnectionInfo, now: NIODeadline = .now()) -> JournalEntry {
        let head = self.request.head
        let facts = self.request.facts
        var responseHeaders: [HeaderField] = []
        if self.statusSent != nil, let plan = self.plan {
            responseHeaders = plan.headers
            if let date = self.dateSent, plan.dateIsAutomatic, let index = responseHeaders.firstIndex(where: { $0.name == "Date" }) {
                responseHeaders[index] = HeaderField("Date", date)
            }
        }
        var entry = JournalEntry(
            connection: connection.id,
            listener: connection.listener,
            client: connection.client,
            receivedAt: facts.receivedAt,
            method: head.method,
            target: head.target,
            path: head.path,
            version: "HTTP/\(head.version.major).\(head.version.minor)",
            headers: head.headers,
            bodyBytes: self.request.bodyBytes,
            rule: self.decision?.ruleLabel,
            step: self.decision?.step,
            status: self.statusSent ?? 499,
            responseHeaders: responseHeaders,
            fault: self.plan?.fault?.name,
            outcome: outcome,
            bytesSent: self.bytesSent,
            bodyBytesSent: self.bodyBytesSent,
            firstByteMs: self.firstByteAt.map { Double(($0 - facts.arrivedAt).nanoseconds) / 1e6 },
            totalMs: Double((now - facts.arrivedAt).nanoseconds) / 1e6
        )
        entry.id = facts.journalID
        entry.tls = connection.tlsVersion
        entry.regexGaveUp = self.decision?.regexGaveUp ?? []
        entry.upstream = self.upstream?.journalOutcome()
        return entry
    }
}

@available(*, unavailable)
extension ExchangeRecord: Sendable {}
