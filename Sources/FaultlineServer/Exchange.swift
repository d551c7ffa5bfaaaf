import FaultlineCore
import NIOCore
import NIOPosix

/// One request and the response in flight for it: the plan, the timers that pace it, its open file, and what has
/// really been written, for the journal.
final class Exchange {
    /// The request as received.
    let received: HTTPExchangeHandler.ReceivedRequest
    /// `nil` while the body file is being opened.
    let plan: ResponsePlan?
    /// The answering rule, for the journal.
    let ruleLabel: String?
    let step: Int?
    /// Rules whose `pathRegex` gave up on the request's path.
    let regexGaveUp: [String]
    /// Requests to the control API are not journaled.
    let isControl: Bool

    // MARK: - Timers

    /// The wait before the status line (`delay`).
    var delayTask: Scheduled<Void>?
    /// The wait between head and body (`bodyDelay`), or the next piece of a slow head.
    var pauseTask: Scheduled<Void>?
    /// The next piece of a throttled body.
    var tickTask: Scheduled<Void>?
    /// The end of a timed hang.
    var hangTask: Scheduled<Void>?

    // MARK: - Progress

    var file: NIOFileHandle?
    var cursor = BodyCursor([])
    /// The head is written (or being dribbled out, for `slowHeaders`).
    var headSent = false
    var bodyFinished = false
    /// The head went out below the encoder, so the body must too.
    var rawMode = false
    /// Held open by a `hang` fault.
    var isHanging = false
    /// A piece of the body file is being read (TLS connections).
    var fileReadInFlight = false
    /// When the body started, for pacing a throttled body.
    var bodyStartedAt: NIODeadline = .now()
    /// The status line written, if any.
    var statusSent: Int?
    /// Bytes the socket took, head and body.
    var bytesSent: Int64 = 0
    var bodyBytesSent: Int64 = 0
    var firstByteAt: NIODeadline?
    /// Recorded in the journal already.
    var journaled = false

    /// `decision` defaults to the one made before the body arrived (`Expect: 100-continue`), so a request the
    /// rule already counted is journaled under it however the exchange ends.
    init(received: HTTPExchangeHandler.ReceivedRequest, plan: ResponsePlan?, decision: Decision? = nil) {
        self.received = received
        self.plan = plan
        let decision = decision ?? received.decision
        self.ruleLabel = decision?.ruleLabel
        self.step = decision?.step
        self.regexGaveUp = decision?.regexGaveUp ?? []
        self.isControl = received.isControl
    }

    var request: IncomingRequest { self.received.request }

    /// Whether a timer holds the response back before its first byte (a client leaving then has given up).
    var isWaiting: Bool {
        self.delayTask != nil || self.pauseTask != nil || self.tickTask != nil || self.isHanging
    }

    /// Cancels every timer and closes the file; safe to call more than once.
    func cancel(statistics: ServerStatistics) {
        if let delayTask = self.delayTask {
            delayTask.cancel()
            statistics.delayEnded()
            self.delayTask = nil
        }
        self.pauseTask?.cancel()
        self.pauseTask = nil
        self.tickTask?.cancel()
        self.tickTask = nil
        self.hangTask?.cancel()
        self.hangTask = nil
        // A thread-pool read may still be using the file; the read's completion closes it then.
        if let file = self.file, !self.fileReadInFlight {
            try? file.close()
            self.file = nil
        }
    }

    /// The journal's record of this exchange, ending with `outcome`.
    func entry(outcome: JournalEntry.Outcome, connection: Int, listener: String, client: String) -> JournalEntry {
        let now = NIODeadline.now()
        let start = self.received.arrivedAt
        let request = self.request
        var entry = JournalEntry(
            connection: connection,
            listener: listener,
            client: client,
            receivedAt: self.received.receivedAt,
            method: request.method,
            target: request.target,
            path: request.path,
            version: "HTTP/\(request.version.major).\(request.version.minor)",
            headers: request.headers,
            bodyBytes: self.received.bodyBytes,
            rule: self.ruleLabel,
            step: self.step,
            status: self.statusSent ?? 499,
            responseHeaders: self.statusSent == nil ? [] : self.plan?.headers ?? [],
            fault: self.plan?.fault?.name,
            outcome: outcome,
            bytesSent: self.bytesSent,
            bodyBytesSent: self.bodyBytesSent,
            firstByteMs: self.firstByteAt.map { Double(($0 - start).nanoseconds) / 1e6 },
            totalMs: Double((now - start).nanoseconds) / 1e6
        )
        entry.regexGaveUp = self.regexGaveUp
        return entry
    }
}
