import FaultlineCore
import NIOCore

/// One exchange as the journal will tell it: the request as received, who answered, the plan, and what really went
/// on the wire (the writer counts bytes as the socket takes them).
final class ExchangeRecord {
    /// The request as received.
    let request: HTTP1ConnectionStateMachine.Request
    /// Who answered, when a rule (or the engine) did.
    let decision: Decision.Attribution?
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
    /// For a stream: the events (or items) the socket took, the last event id and the last retry among them.
    var eventsSent = 0
    var lastEventID: String?
    var retrySent: Duration?
    /// Recorded in the journal already.
    var recorded = false
    /// The upstream request of a `proxy` answer.
    var upstream: UpstreamExchange?

    init(request: HTTP1ConnectionStateMachine.Request, decision: Decision.Attribution?, isJournaled: Bool) {
        self.request = request
        self.decision = decision
        self.isJournaled = isJournaled
    }

    /// Counts a whole item of a stream the socket has taken: an event sent, its id and its retry.
    func countSent(_ item: StreamItem) {
        self.eventsSent += 1
        if let id = item.eventID { self.lastEventID = id }
        if let retry = item.retry { self.retrySent = retry }
    }

    /// The journal's record of this exchange, ending with `outcome`.
    func entry(outcome: JournalEntry.Outcome, connection: ConnectionInfo, now: NIODeadline = .now()) -> JournalEntry {
        let head = self.request.head
        let facts = self.request.facts
        var responseHeaders: [HeaderField] = []
        // Read field by field: binding the plan would copy all of it.
        var sentDate: String?
        if self.statusSent != nil, let headers = self.plan?.headers {
            responseHeaders = headers
            if self.plan?.dateIsAutomatic == true { sentDate = self.dateSent }
            if head.version.major == 2 {
                // As HTTP/2 sent them: names in lower case, no connection-specific fields, the date in place.
                if let date = sentDate, let index = responseHeaders.firstIndex(where: { $0.name == "Date" }) {
                    responseHeaders[index] = HeaderField("Date", date)
                }
                sentDate = nil
                responseHeaders = responseHeaders.compactMap { field in
                    let name = field.name.lowercased()
                    return HTTP2ResponseWriter.hopByHop.contains(name) ? nil : HeaderField(name, field.value)
                }
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
            version: Self.versionText(head.version),
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
        if let sentDate { entry.dateResponse(sentDate) }
        entry.id = facts.journalID
        entry.tls = connection.tlsVersion
        entry.regexGaveUp = self.decision?.regexGaveUp ?? []
        if self.plan?.stream != nil {
            entry.eventsSent = self.eventsSent
            entry.lastEventID = self.lastEventID
            entry.retryMs = self.retrySent.map(EventStreamEncoder.milliseconds)
        }
        entry.stream = facts.streamID
        entry.upstream = self.upstream?.journalOutcome()
        return entry
    }
}

extension ExchangeRecord {
    /// The journal's name for an HTTP version; the common ones are not built anew for every entry.
    static func versionText(_ version: (major: Int, minor: Int)) -> String {
        switch version {
        case (1, 1): "HTTP/1.1"
        case (2, _): "HTTP/2"
        case (1, 0): "HTTP/1.0"
        default: "HTTP/\(version.major).\(version.minor)"
        }
    }
}

@available(*, unavailable)
extension ExchangeRecord: Sendable {}
