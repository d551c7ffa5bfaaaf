/// Exactly what the server puts on the wire for one exchange, decided without a socket.
public struct ResponsePlan: Sendable {
    /// How the exchange ends.
    public enum Action: Sendable, Equatable {
        /// Send the head (and the body, if any).
        case respond
        /// Close the connection without writing a byte (`fault: drop`, `status: 499`).
        case drop
        /// Close the connection with a TCP RST (`fault: reset`).
        case reset
        /// Write nothing; close after the duration, or never (the client must leave).
        case hang(Duration?)
        /// Write these bytes instead of a response, then close (`garbage`, `bad-status`, `bad-chunk`).
        case raw([UInt8])
    }

    /// Where to cut the body short (`truncate`, `resetAfter`).
    public struct Cut: Sendable, Equatable {
        /// Body bytes sent before the cut.
        public var after: Int64
        /// End with an RST instead of a FIN.
        public var reset: Bool

        public init(after: Int64, reset: Bool) {
            self.after = after
            self.reset = reset
        }
    }

    /// One piece of the body, in order.
    public enum BodySegment: Sendable, Equatable {
        /// Bytes made by the planner (a multipart boundary and part headers).
        case bytes([UInt8])
        /// A slice of `source`.
        case slice(offset: Int64, length: Int64)

        var length: Int64 {
            switch self {
            case .bytes(let bytes): Int64(bytes.count)
            case .slice(_, let length): length
            }
        }
    }

    /// A body sent item by item as it is produced (`events`, `stream`).
    public struct StreamedBody: Sendable, Equatable {
        /// The items this request gets, in order: after the event its `Last-Event-ID` names, none for HEAD.
        public var items: [StreamItem]
        /// After the last item, hold the connection until the client leaves.
        public var keepOpen: Bool
        /// After the items, a body made piece by piece as the connection takes it.
        public var produced: ProducedBody?

        public init(items: [StreamItem], keepOpen: Bool = false, produced: ProducedBody? = nil) {
            self.items = items
            self.keepOpen = keepOpen
            self.produced = produced
        }

        /// How many bytes the items send in all.
        public var length: Int64 { self.items.reduce(0) { $0 + $1.length } }
    }

    /// The plan's fields, shared between copies until one of them changes (a plan is copied into the exchange's record
    /// and the writer's run, and a prepared plan into every plain request's exchange: a pointer each, not twenty
    /// fields to retain). Changed only when this plan holds the only reference (`makeUnique`); every access goes
    /// through the plan's own accessors, whose exclusivity Swift enforces on the plan itself, so the fields go without
    /// the runtime's checks (a class's stored properties get one on every read otherwise).
    private final class Storage: @unchecked Sendable {
        @exclusivity(unchecked) var action: Action
        @exclusivity(unchecked) var delay: Duration
        @exclusivity(unchecked) var interim: [InterimResponse]
        @exclusivity(unchecked) var status: Int
        @exclusivity(unchecked) var reason: String
        @exclusivity(unchecked) var headers: [HeaderField]
        @exclusivity(unchecked) var source: ResolvedBody
        @exclusivity(unchecked) var segments: [BodySegment]
        @exclusivity(unchecked) var closeAfter: Bool
        @exclusivity(unchecked) var fault: Fault? = nil
        @exclusivity(unchecked) var bodyDelay: Duration = .zero
        @exclusivity(unchecked) var bytesPerSecond: Int64? = nil
        @exclusivity(unchecked) var chunkSize: Int64? = nil
        @exclusivity(unchecked) var isChunked: Bool = false
        @exclusivity(unchecked) var cut: Cut? = nil
        @exclusivity(unchecked) var slowHeaders: Duration? = nil
        @exclusivity(unchecked) var stream: StreamedBody? = nil
        @exclusivity(unchecked) var dateIsAutomatic: Bool = true
        @exclusivity(unchecked) var upstreamBody: UpstreamBody? = nil
        @exclusivity(unchecked) var wire: Wire? = nil

        init(
            action: Action,
            delay: Duration,
            interim: [InterimResponse],
            status: Int,
            reason: String,
            headers: [HeaderField],
            source: ResolvedBody,
            segments: [BodySegment],
            closeAfter: Bool
        ) {
            self.action = action
            self.delay = delay
            self.interim = interim
            self.status = status
            self.reason = reason
            self.headers = headers
            self.source = source
            self.segments = segments
            self.closeAfter = closeAfter
        }

        func copy() -> Storage {
            let copy = Storage(
                action: self.action,
                delay: self.delay,
                interim: self.interim,
                status: self.status,
                reason: self.reason,
                headers: self.headers,
                source: self.source,
                segments: self.segments,
                closeAfter: self.closeAfter
            )
            copy.fault = self.fault
            copy.bodyDelay = self.bodyDelay
            copy.bytesPerSecond = self.bytesPerSecond
            copy.chunkSize = self.chunkSize
            copy.isChunked = self.isChunked
            copy.cut = self.cut
            copy.slowHeaders = self.slowHeaders
            copy.stream = self.stream
            copy.dateIsAutomatic = self.dateIsAutomatic
            copy.upstreamBody = self.upstreamBody
            copy.wire = self.wire
            return copy
        }
    }

    private var storage: Storage

    private mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&self.storage) {
            self.storage = self.storage.copy()
        }
    }

    init(
        action: Action,
        delay: Duration,
        interim: [InterimResponse],
        status: Int,
        reason: String,
        headers: [HeaderField],
        source: ResolvedBody,
        segments: [BodySegment],
        closeAfter: Bool,
        fault: Fault? = nil
    ) {
        self.storage = Storage(
            action: action,
            delay: delay,
            interim: interim,
            status: status,
            reason: reason,
            headers: headers,
            source: source,
            segments: segments,
            closeAfter: closeAfter
        )
        self.storage.fault = fault
    }

    public var action: Action {
        get { self.storage.action }
        _modify {
            self.makeUnique()
            yield &self.storage.action
        }
    }
    /// The wait before the status line.
    public var delay: Duration {
        get { self.storage.delay }
        _modify {
            self.makeUnique()
            yield &self.storage.delay
        }
    }
    /// Informational responses written before the final head.
    public var interim: [InterimResponse] {
        get { self.storage.interim }
        _modify {
            self.makeUnique()
            yield &self.storage.interim
        }
    }
    public var status: Int {
        get { self.storage.status }
        _modify {
            self.makeUnique()
            yield &self.storage.status
        }
    }
    public var reason: String {
        get { self.storage.reason }
        _modify {
            self.makeUnique()
            yield &self.storage.reason
        }
    }
    /// The header fields in the order they are sent.
    public var headers: [HeaderField] {
        get { self.storage.headers }
        _modify {
            self.makeUnique()
            yield &self.storage.headers
        }
    }
    /// Where body slices come from.
    public var source: ResolvedBody {
        get { self.storage.source }
        _modify {
            self.makeUnique()
            yield &self.storage.source
        }
    }
    /// The body to send after the head: empty for HEAD and bodiless statuses.
    public var segments: [BodySegment] {
        get { self.storage.segments }
        _modify {
            self.makeUnique()
            yield &self.storage.segments
        }
    }
    /// Close the connection once the response is sent.
    public var closeAfter: Bool {
        get { self.storage.closeAfter }
        _modify {
            self.makeUnique()
            yield &self.storage.closeAfter
        }
    }
    /// The fault in play, for the journal.
    public var fault: Fault? {
        get { self.storage.fault }
        _modify {
            self.makeUnique()
            yield &self.storage.fault
        }
    }
    /// The wait between the head and the body.
    public var bodyDelay: Duration {
        get { self.storage.bodyDelay }
        _modify {
            self.makeUnique()
            yield &self.storage.bodyDelay
        }
    }
    /// The body's pace, in bytes per second.
    public var bytesPerSecond: Int64? {
        get { self.storage.bytesPerSecond }
        _modify {
            self.makeUnique()
            yield &self.storage.bytesPerSecond
        }
    }
    /// Write the body in pieces of this size (each one chunk when the body is chunked).
    public var chunkSize: Int64? {
        get { self.storage.chunkSize }
        _modify {
            self.makeUnique()
            yield &self.storage.chunkSize
        }
    }
    /// The head says `Transfer-Encoding: chunked`, so the body goes out in chunks with a terminator.
    public var isChunked: Bool {
        get { self.storage.isChunked }
        _modify {
            self.makeUnique()
            yield &self.storage.isChunked
        }
    }
    /// Cut the body short.
    public var cut: Cut? {
        get { self.storage.cut }
        _modify {
            self.makeUnique()
            yield &self.storage.cut
        }
    }
    /// Write the head a few bytes at a time over this duration.
    public var slowHeaders: Duration? {
        get { self.storage.slowHeaders }
        _modify {
            self.makeUnique()
            yield &self.storage.slowHeaders
        }
    }
    /// The streamed body, for an answer with `events` or `stream` (with no items when none are sent); `segments` is
    /// then empty.
    public var stream: StreamedBody? {
        get { self.storage.stream }
        _modify {
            self.makeUnique()
            yield &self.storage.stream
        }
    }
    /// Whether `Date` is Faultline's own (not the rule's): the writer then dates the head when it writes it, as nginx
    /// dates a response when it is generated, after any delay.
    public var dateIsAutomatic: Bool {
        get { self.storage.dateIsAutomatic }
        _modify {
            self.makeUnique()
            yield &self.storage.dateIsAutomatic
        }
    }
    /// The body streams in from an upstream while it is sent (a proxied answer's): `segments` is then empty and the
    /// writer reads the body from the exchange's body source.
    public var upstreamBody: UpstreamBody? {
        get { self.storage.upstreamBody }
        _modify {
            self.makeUnique()
            yield &self.storage.upstreamBody
        }
    }
    /// The head as bytes, made once: only on the plan of a prepared answer (`PreparedAnswer`), which the planner
    /// hands out unchanged for every plain request. Nothing changes a plan once it is made, so the bytes stay what
    /// `writeHead` would write (with the date in place of the placeholder).
    public var wire: Wire? {
        get { self.storage.wire }
        _modify {
            self.makeUnique()
            yield &self.storage.wire
        }
    }

    /// A body that streams in from an upstream while it is sent.
    public struct UpstreamBody: Sendable, Equatable {
        /// Its length when known in advance (the upstream's `Content-Length`); `nil` until the stream ends.
        public var length: Int64?

        public init(length: Int64?) {
            self.length = length
        }
    }

    /// How many bytes the head takes on the wire, without building it.
    public var headLength: Int {
        var length = 9 + String(self.status).utf8.count + 1 + self.reason.utf8.count + 2 + 2
        for field in self.headers {
            length += field.name.utf8.count + 2 + field.value.utf8.count + 2
        }
        return length
    }

    /// The HTTP/1.1 head as bytes: status line, header fields, blank line. `date` replaces Faultline's own `Date`
    /// (of the same length: an IMF-fixdate always is).
    public func serializedHead(date: String? = nil) -> [UInt8] {
        var head: [UInt8] = []
        head.reserveCapacity(self.headLength)
        self.writeHead(date: date) { head.append(contentsOf: $0.utf8) }
        return head
    }

    /// Hands the HTTP/1.1 head's pieces to `write` in order; whatever collects them (an array here, a socket buffer in
    /// the server) gets the same bytes. This is Faultline's one head serializer.
    public func writeHead(date: String? = nil, _ write: (String) -> Void) {
        write("HTTP/1.1 ")
        write(String(self.status))
        write(" ")
        write(self.reason)
        write("\r\n")
        var dated = date == nil || !self.dateIsAutomatic
        for field in self.headers {
            write(field.name)
            write(": ")
            if !dated, let date, field.name == "Date" {
                write(date)
                dated = true
            } else {
                write(field.value)
            }
            write("\r\n")
        }
        write("\r\n")
    }

    /// The largest in-memory body an HTTP/1.1 answer sends in one write with its head.
    public static let wholeWriteLimit: Int64 = 64 * 1024

    /// The body of a plan that goes out whole in one write with its head (after its delay, if it has one): an
    /// in-memory body of at most `wholeWriteLimit` bytes, no interim response, no pacing, chunking, cut or slow head,
    /// no stream and nothing from an upstream. `nil` when the plan needs its write steps (`http1Steps`).
    public var wholeBody: [UInt8]? {
        guard self.action == .respond, self.interim.isEmpty, self.slowHeaders == nil, self.bodyDelay == .zero,
            self.bytesPerSecond == nil, self.cut == nil, self.chunkSize == nil, !self.isChunked,
            self.stream == nil, self.upstreamBody == nil, self.bodyLength <= Self.wholeWriteLimit
        else { return nil }
        switch self.source {
        case .none: return []
        case .bytes(let body, _): return body
        default: return nil
        }
    }

    /// How many body bytes follow the head.
    public var bodyLength: Int64 { self.segments.reduce(0) { $0 + $1.length } }

    /// How many body bytes a cut can count on: the segments' length, or a streamed body's when known (as many as
    /// there may be when not).
    var cuttableLength: Int64 {
        guard let upstreamBody = self.upstreamBody else { return self.bodyLength }
        return upstreamBody.length ?? .max
    }
}
