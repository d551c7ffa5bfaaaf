/// One exchange as it really happened: what the client sent, which rule answered, and what went on the wire.
public struct JournalEntry: Sendable, Equatable {
    /// How an exchange ended.
    public enum Outcome: String, Sendable, Equatable {
        /// The whole response was sent.
        case completed
        /// The server closed early: drop, truncate, garbage, bad-chunk, bad-status, or a refusal.
        case dropped
        /// The server sent an RST.
        case reset
        /// The client left first.
        case clientClosed = "client-closed"
        /// A timed hang ended, or a request head never came (408).
        case timeout
    }

    /// Numbered in arrival order from 1; `0` until the journal records it.
    public var id: Int = 0
    /// The connection's number (from 1, per server).
    public var connection: Int
    /// The listener that took the connection, such as `127.0.0.1:8080`.
    public var listener: String
    /// The client's address.
    public var client: String
    /// When the request head arrived, in seconds since 1970.
    public var receivedAt: Double
    public var method: String
    public var target: String
    public var path: String
    /// `HTTP/1.1`, `HTTP/1.0` or `HTTP/2`.
    public var version: String
    /// The TLS version (`TLSv1.3`) when the request came over TLS.
    public var tls: String?
    public var headers: [HeaderField]
    /// Bytes of request header names and values left out of `headers` because the request's headers passed the
    /// journal's per-entry limit (`Journal.headerLimit`); 0 when nothing was (and then not shown).
    public var headersTruncated: Int = 0
    /// Request body bytes read.
    public var bodyBytes: Int64
    /// The answering rule's name or `rules[N]`; `nil` when none answered.
    public var rule: String?
    /// The sequence step, 0-based.
    public var step: Int?
    /// The status line actually sent; 499 when none was (dropped, reset, hang, garbage, bad-status, or a client
    /// that left before it).
    public var status: Int
    /// The response headers sent with that status line.
    public var responseHeaders: [HeaderField] {
        get { self.sentHeaders.fields }
        set { self.sentHeaders = SentHeaders(planned: newValue, date: nil) }
    }
    /// The response headers as kept: the planned ones (shared with the plan, not copied per exchange) and the date the
    /// head was written with, standing for their `Date`.
    var sentHeaders: SentHeaders
    /// The fault's name, such as `truncate`.
    public var fault: String?
    public var outcome: Outcome
    /// Bytes written to the socket: head and body.
    public var bytesSent: Int64
    /// Body bytes written to the socket.
    public var bodyBytesSent: Int64
    /// Milliseconds from the request head to the first byte written; `nil` when nothing was.
    public var firstByteMs: Double?
    /// Milliseconds from the request head to the end of the exchange.
    public var totalMs: Double
    /// Rules whose `pathRegex` gave up on this request's path and were taken as not matching (shown only when any).
    public var regexGaveUp: [String] = []
    /// For an answer with `events` or `stream`: how many of its events (or items) the socket took, comment-only events
    /// included; `nil` for other answers (and then left out of the JSON, as are the two below).
    public var eventsSent: Int?
    /// For a stream: the `id` of the last event sent that had one (what a client would send back as `Last-Event-ID`),
    /// `nil` when none had.
    public var lastEventID: String?
    /// For a stream: the last `retry` sent, in milliseconds, `nil` when none was.
    public var retryMs: Int64?
    /// The HTTP/2 stream id; `nil` on HTTP/1.x (the JSON shows the key only for HTTP/2 requests).
    public var stream: Int?
    /// For a proxied answer: the upstream's URL, status and time to its head (shown only for proxied answers).
    public var upstream: UpstreamOutcome? {
        get { self.upstreamBox?.outcome }
        set { self.upstreamBox = newValue.map(UpstreamOutcomeBox.init) }
    }
    /// `upstream` behind one reference: entries are copied into and out of the journal, and most have none.
    private var upstreamBox: UpstreamOutcomeBox?

    public init(
        connection: Int,
        listener: String,
        client: String,
        receivedAt: Double,
        method: String,
        target: String,
        path: String,
        version: String,
        headers: [HeaderField],
        bodyBytes: Int64,
        rule: String?,
        step: Int?,
        status: Int,
        responseHeaders: [HeaderField],
        fault: String?,
        outcome: Outcome,
        bytesSent: Int64,
        bodyBytesSent: Int64,
        firstByteMs: Double?,
        totalMs: Double
    ) {
        self.connection = connection
        self.listener = listener
        self.client = client
        self.receivedAt = receivedAt
        self.method = method
        self.target = target
        self.path = path
        self.version = version
        self.tls = nil
        self.headers = headers
        self.bodyBytes = bodyBytes
        self.rule = rule
        self.step = step
        self.status = status
        self.sentHeaders = SentHeaders(planned: responseHeaders, date: nil)
        self.fault = fault
        self.outcome = outcome
        self.bytesSent = bytesSent
        self.bodyBytesSent = bodyBytesSent
        self.firstByteMs = firstByteMs
        self.totalMs = totalMs
    }

    /// An entry for a connection that never carried a request: a TLS handshake that failed or was faulted.
    public static func connectionOnly(
        connection: Int,
        listener: String,
        client: String,
        receivedAt: Double,
        fault: String?,
        outcome: Outcome,
        totalMs: Double
    ) -> JournalEntry {
        JournalEntry(
            connection: connection,
            listener: listener,
            client: client,
            receivedAt: receivedAt,
            method: "",
            target: "",
            path: "",
            version: "",
            headers: [],
            bodyBytes: 0,
            rule: nil,
            step: nil,
            status: 499,
            responseHeaders: [],
            fault: fault,
            outcome: outcome,
            bytesSent: 0,
            bodyBytesSent: 0,
            firstByteMs: nil,
            totalMs: totalMs
        )
    }

    /// When the exchange ended, in seconds since 1970.
    public var finishedAt: Double { self.receivedAt + self.totalMs / 1000 }
}

/// An `UpstreamOutcome` held by reference (see `JournalEntry.upstream`).
private final class UpstreamOutcomeBox: Sendable, Equatable {
    let outcome: UpstreamOutcome

    init(_ outcome: UpstreamOutcome) {
        self.outcome = outcome
    }

    static func == (lhs: UpstreamOutcomeBox, rhs: UpstreamOutcomeBox) -> Bool {
        lhs.outcome == rhs.outcome
    }
}

extension JournalEntry {
    /// Says that the head went out dated `date`: it stands for the `Date` field of `responseHeaders` (the planned
    /// one), without a copy of the fields being made for the entry.
    public mutating func dateResponse(_ date: String) {
        self.sentHeaders.date = date
    }

    /// Response header fields as sent: the planned fields, and the date written in place of the first `Date` field's
    /// value when the head went out. Equal when the fields as sent are.
    struct SentHeaders: Sendable, Equatable {
        var planned: [HeaderField]
        var date: String?

        /// Where `date` goes, if anywhere.
        var dateIndex: Int? {
            guard self.date != nil else { return nil }
            return self.planned.firstIndex { $0.name == "Date" }
        }

        /// The fields as sent.
        var fields: [HeaderField] {
            guard let date = self.date, let index = self.dateIndex else { return self.planned }
            var fields = self.planned
            fields[index] = HeaderField("Date", date)
            return fields
        }

        static func == (lhs: SentHeaders, rhs: SentHeaders) -> Bool {
            lhs.fields == rhs.fields
        }
    }
}
