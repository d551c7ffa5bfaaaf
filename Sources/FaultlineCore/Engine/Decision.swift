/// What the rule engine decided for one request: which rule answered (if any) and the response it resolved to.
public struct Decision: Sendable {
    /// Why this response was chosen.
    public enum Kind: Sendable, Equatable {
        /// A rule matched and answers.
        case rule
        /// No rule matched: a 404 explaining the closest misses.
        case unmatched
        /// A rule matched but a template could not be filled in from the request: a 400.
        case badRequest
        /// A rule matched the path but none takes the method: 405 with `Allow`.
        case methodNotAllowed
        /// A method HTTP does not define and no rule names: 501.
        case notImplemented
        /// A rule matched but for its `consumes`: 415.
        case unsupportedMediaType
        /// A rule matched but for its `produces`: 406.
        case notAcceptable
        /// The answering rule's `auth` was not met: 401 or 407.
        case unauthorized
        /// The answering rule's `rateLimit` was reached: 429.
        case rateLimited
        /// The answering rule requires a Content-Length the request did not send: 411.
        case lengthRequired
    }

    public var kind: Kind
    /// The answering rule's index among all rules.
    public var ruleIndex: Int?
    /// The answering rule's name, or `rules[N]`.
    public var ruleLabel: String?
    /// The step of a sequence that answered, 0-based.
    public var step: Int?
    /// The response to send.
    public var response: ResolvedResponse {
        didSet { self.preparedAnswer = nil }
    }
    /// What `response` sends a plain request, planned when the scenario loaded; dropped when `response` changes.
    public internal(set) var preparedAnswer: PreparedAnswer?
    /// Rules whose `pathRegex` gave up on this request's path (they were taken as not matching), for the journal.
    public var regexGaveUp: [String] = []

    /// Who answered, without the response: what the journal needs.
    public struct Attribution: Sendable, Equatable {
        public var kind: Kind
        public var ruleIndex: Int?
        public var ruleLabel: String?
        public var step: Int?
        public var regexGaveUp: [String]
    }

    /// Who answered, without the response.
    public var attribution: Attribution {
        Attribution(
            kind: self.kind,
            ruleIndex: self.ruleIndex,
            ruleLabel: self.ruleLabel,
            step: self.step,
            regexGaveUp: self.regexGaveUp
        )
    }

    public init(
        kind: Kind,
        ruleIndex: Int? = nil,
        ruleLabel: String? = nil,
        step: Int? = nil,
        response: ResolvedResponse
    ) {
        self.kind = kind
        self.ruleIndex = ruleIndex
        self.ruleLabel = ruleLabel
        self.step = step
        self.response = response
    }

    /// A rule's decision to send a response resolved when the scenario loaded, with its plain answer.
    init(ruleIndex: Int, ruleLabel: String, step: Int?, response: ResolvedResponse, preparedAnswer: PreparedAnswer?) {
        self.kind = .rule
        self.ruleIndex = ruleIndex
        self.ruleLabel = ruleLabel
        self.step = step
        self.response = response
        self.preparedAnswer = preparedAnswer
    }
}

/// A response with every template filled in and every random choice made.
public struct ResolvedResponse: Sendable {
    /// The response's fields, shared between copies until one of them changes: a response resolved once, when the
    /// scenario loads, goes into every decision and reply that sends it as a pointer, not some twenty fields to retain.
    /// Changed only when this response holds the only reference (`makeUnique`); every access goes through the
    /// response's own accessors, whose exclusivity Swift enforces on the response itself, so the fields go without the
    /// runtime's checks (a class's stored properties get one on every read otherwise).
    private final class Storage: @unchecked Sendable {
        @exclusivity(unchecked) var status: Int = 0
        @exclusivity(unchecked) var reason: String? = nil
        @exclusivity(unchecked) var headers: [HeaderField] = []
        @exclusivity(unchecked) var body: ResolvedBody = .none
        @exclusivity(unchecked) var stream: ResolvedStream? = nil
        @exclusivity(unchecked) var retryAfter: String? = nil
        @exclusivity(unchecked) var location: String? = nil
        @exclusivity(unchecked) var delay: Duration = .zero
        @exclusivity(unchecked) var etag: String? = nil
        @exclusivity(unchecked) var lastModified: Int64? = nil
        @exclusivity(unchecked) var lastModifiedIsExplicit: Bool = false
        @exclusivity(unchecked) var interim: [InterimResponse] = []
        @exclusivity(unchecked) var allow: [String]? = nil
        @exclusivity(unchecked) var fault: Fault? = nil
        @exclusivity(unchecked) var bodyDelay: Duration = .zero
        @exclusivity(unchecked) var bytesPerSecond: Int64? = nil
        @exclusivity(unchecked) var spreadOver: Duration? = nil
        @exclusivity(unchecked) var chunkSize: Int64? = nil
        @exclusivity(unchecked) var bodyETag: String? = nil
        @exclusivity(unchecked) var lastModifiedText: String? = nil
        @exclusivity(unchecked) var proxy: ProxySpec? = nil

        init() {}

        func copy() -> Storage {
            let copy = Storage()
            copy.status = self.status
            copy.reason = self.reason
            copy.headers = self.headers
            copy.body = self.body
            copy.stream = self.stream
            copy.retryAfter = self.retryAfter
            copy.location = self.location
            copy.delay = self.delay
            copy.etag = self.etag
            copy.lastModified = self.lastModified
            copy.lastModifiedIsExplicit = self.lastModifiedIsExplicit
            copy.interim = self.interim
            copy.allow = self.allow
            copy.fault = self.fault
            copy.bodyDelay = self.bodyDelay
            copy.bytesPerSecond = self.bytesPerSecond
            copy.spreadOver = self.spreadOver
            copy.chunkSize = self.chunkSize
            copy.bodyETag = self.bodyETag
            copy.lastModifiedText = self.lastModifiedText
            copy.proxy = self.proxy
            return copy
        }
    }

    private var storage = Storage()

    private mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&self.storage) {
            self.storage = self.storage.copy()
        }
    }

    public var status: Int {
        get { self.storage.status }
        _modify {
            self.makeUnique()
            yield &self.storage.status
        }
    }
    /// A reason phrase replacing the standard one.
    public var reason: String? {
        get { self.storage.reason }
        _modify {
            self.makeUnique()
            yield &self.storage.reason
        }
    }
    /// Header fields the scenario asked for (defaults, then the rule's), overriding automatic ones of the same name.
    public var headers: [HeaderField] {
        get { self.storage.headers }
        _modify {
            self.makeUnique()
            yield &self.storage.headers
        }
    }
    public var body: ResolvedBody {
        get { self.storage.body }
        _modify {
            self.makeUnique()
            yield &self.storage.body
        }
    }
    /// A body sent as it is produced, item by item (`events`, `stream`); `body` is then `.none`.
    public var stream: ResolvedStream? {
        get { self.storage.stream }
        _modify {
            self.makeUnique()
            yield &self.storage.stream
        }
    }
    /// The `Retry-After` value.
    public var retryAfter: String? {
        get { self.storage.retryAfter }
        _modify {
            self.makeUnique()
            yield &self.storage.retryAfter
        }
    }
    /// The `Location` value.
    public var location: String? {
        get { self.storage.location }
        _modify {
            self.makeUnique()
            yield &self.storage.location
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
    /// The entity tag the rule set (quoted); Faultline computes one from the body when `nil`.
    public var etag: String? {
        get { self.storage.etag }
        _modify {
            self.makeUnique()
            yield &self.storage.etag
        }
    }
    /// When the representation last changed, in seconds since 1970: the rule's `lastModified` or the scenario's
    /// load time (a file's own time wins over the load time).
    public var lastModified: Int64? {
        get { self.storage.lastModified }
        _modify {
            self.makeUnique()
            yield &self.storage.lastModified
        }
    }
    /// Whether `lastModified` was set by the rule, so it wins over a file's own time.
    public var lastModifiedIsExplicit: Bool {
        get { self.storage.lastModifiedIsExplicit }
        _modify {
            self.makeUnique()
            yield &self.storage.lastModifiedIsExplicit
        }
    }
    /// Informational responses to send first.
    public var interim: [InterimResponse] {
        get { self.storage.interim }
        _modify {
            self.makeUnique()
            yield &self.storage.interim
        }
    }
    /// For a 405: the methods to list in `Allow`.
    public var allow: [String]? {
        get { self.storage.allow }
        _modify {
            self.makeUnique()
            yield &self.storage.allow
        }
    }
    /// A fault replacing or cutting the response.
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
    /// The body's pace in bytes per second.
    public var bytesPerSecond: Int64? {
        get { self.storage.bytesPerSecond }
        _modify {
            self.makeUnique()
            yield &self.storage.bytesPerSecond
        }
    }
    /// Spread the body evenly over this duration (the planner turns it into a pace).
    public var spreadOver: Duration? {
        get { self.storage.spreadOver }
        _modify {
            self.makeUnique()
            yield &self.storage.spreadOver
        }
    }
    /// Send the body chunked, in pieces of this size.
    public var chunkSize: Int64? {
        get { self.storage.chunkSize }
        _modify {
            self.makeUnique()
            yield &self.storage.chunkSize
        }
    }
    /// The body's entity tag, computed once for a response that does not change.
    public var bodyETag: String? {
        get { self.storage.bodyETag }
        _modify {
            self.makeUnique()
            yield &self.storage.bodyETag
        }
    }
    /// `lastModified` as an HTTP date, formatted once for a response that does not change.
    public var lastModifiedText: String? {
        get { self.storage.lastModifiedText }
        _modify {
            self.makeUnique()
            yield &self.storage.lastModifiedText
        }
    }
    /// The request goes to this upstream, whose answer is sent with this response's headers, delays, pace and fault
    /// on top (`proxy:`); status and body then come from the upstream.
    public var proxy: ProxySpec? {
        get { self.storage.proxy }
        _modify {
            self.makeUnique()
            yield &self.storage.proxy
        }
    }

    public init(
        status: Int,
        reason: String? = nil,
        headers: [HeaderField] = [],
        body: ResolvedBody = .none,
        retryAfter: String? = nil,
        location: String? = nil,
        delay: Duration = .zero,
        etag: String? = nil,
        lastModified: Int64? = nil,
        lastModifiedIsExplicit: Bool = false,
        interim: [InterimResponse] = [],
        allow: [String]? = nil
    ) {
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
        self.retryAfter = retryAfter
        self.location = location
        self.delay = delay
        self.etag = etag
        self.lastModified = lastModified
        self.lastModifiedIsExplicit = lastModifiedIsExplicit
        self.interim = interim
        self.allow = allow
    }
}

/// A body whose bytes are known or can be produced at send time.
public enum ResolvedBody: Sendable {
    case none
    /// Bytes in memory, with the Content-Type Faultline sends unless the rule sets one.
    case bytes([UInt8], contentType: String)
    /// A file streamed from disk, opened inside its scenario's folder.
    case file(BodyFile, contentType: String)
    /// Deterministic generated bytes.
    case generated(GeneratedBytes, size: Int64)

    /// The body's length when it is known without opening a file.
    public var knownLength: Int64? {
        switch self {
        case .none: 0
        case .bytes(let bytes, _): Int64(bytes.count)
        case .file: nil
        case .generated(_, let size): size
        }
    }

    /// The Content-Type Faultline sends unless the rule sets one.
    public var contentType: String? {
        switch self {
        case .none: nil
        case .bytes(_, let contentType), .file(_, let contentType): contentType
        case .generated: "application/octet-stream"
        }
    }
}
