/// One entry of a scenario's `rules`: the conditions a request must meet and what the rule answers.
public struct Rule: Sendable {
    /// The rule's position among all loaded rules, 0-based.
    public var index: Int
    /// The rule's `name`, if it has one.
    public var name: String?
    /// Where the rule starts in its scenario file.
    public var sourceLocation: SourceLocation

    // MARK: - Request conditions

    /// The methods the rule takes, upper-cased; `nil` takes any method.
    public var methods: [String]?
    /// The path condition; `nil` takes any path.
    public var path: PathPattern?
    /// Request header fields that must be present with exactly these values (names case-insensitive).
    public var headerConditions: [HeaderField]
    /// Query parameters that must be present with exactly these values.
    public var queryConditions: [QueryItem]
    /// Parts of the client certificate's subject that must be present, such as `CN=client` (`match.clientCert`).
    public var clientCertCondition: String?
    /// Media types the rule answers with (`produces:`): a request whose `Accept` takes none of them gets 406 when
    /// no other rule answers it.
    public var produces: [String]?
    /// Media types the rule takes (`consumes:`): a request whose `Content-Type` is none of them gets 415 when no
    /// other rule answers it.
    public var consumes: [String]?

    // MARK: - Checks before the rule answers

    /// A request body sent without `Content-Length` (chunked) gets 411 (`requireContentLength: true`).
    public var requireContentLength: Bool
    /// Credentials the request must carry (`auth:`), else 401 (or 407 for a proxy).
    public var auth: AuthSpec?
    /// At most `requests` answers per `per` (`rateLimit:`); beyond, 429 with `Retry-After`.
    public var rateLimit: RateLimit?

    // MARK: - When the rule answers

    /// The share of matching requests the rule answers; the others fall through to the next rule. A template
    /// (such as `{query.failure_rate:0.5}`) is read per request.
    public var probability: Templated<Double>?
    /// A per-request seed (a template such as `{query.seed:}`): when it gives a number, that request's random
    /// choices depend on it alone, as httpbin's `/unstable?seed=` does.
    public var requestSeed: TemplateString?
    /// The rule answers only its first `times` matching requests.
    public var times: Int?
    /// The rule steps aside for its first `skip` matching requests (`after: {requests: N}`).
    public var skip: Int?
    /// The rule answers only inside this window (`active: {after, for}`).
    public var active: ActiveWindow?
    /// Whether the rule starts switched on (`enabled: false` starts it off; the control API switches it).
    public var enabled: Bool

    // MARK: - The answer

    /// One response, or a sequence of them.
    public var response: RuleResponse
    /// Header fields from the scenario's `defaults`, sent before the rule's own.
    public var defaultHeaders: [HeaderField]

    /// The name the journal and the control API use: the rule's `name`, or `rules[N]`.
    public var label: String { self.name ?? "rules[\(self.index)]" }

    /// A rule that answers every request with an empty 200.
    public init(index: Int, sourceLocation: SourceLocation) {
        self.index = index
        self.name = nil
        self.sourceLocation = sourceLocation
        self.methods = nil
        self.path = nil
        self.headerConditions = []
        self.queryConditions = []
        self.clientCertCondition = nil
        self.produces = nil
        self.consumes = nil
        self.requireContentLength = false
        self.auth = nil
        self.rateLimit = nil
        self.probability = nil
        self.requestSeed = nil
        self.times = nil
        self.skip = nil
        self.active = nil
        self.enabled = true
        self.response = .single(ResponseSpec(sourceLocation: sourceLocation))
        self.defaultHeaders = []
    }
}

/// What a rule answers: the same response each time, or a sequence that advances with each answer.
public enum RuleResponse: Sendable {
    case single(ResponseSpec)
    /// Steps answered in order, each `times` times (default 1); the last repeats unless `cycle` starts over.
    case sequence([ResponseSpec], cycle: Bool)
}

/// Credentials a rule checks (`auth: {basic: "user:pass"}` or `auth: {bearer: TOKEN}`).
public struct AuthSpec: Sendable {
    /// The kind of credentials.
    public enum Scheme: Sendable {
        /// `Authorization: Basic base64(user:pass)`; the value is `user:pass`.
        case basic(TemplateString)
        /// `Authorization: Bearer TOKEN`.
        case bearer(TemplateString)
    }

    public var scheme: Scheme
    /// Check `Proxy-Authorization` and answer 407 with `Proxy-Authenticate` instead of 401.
    public var proxy: Bool
    /// The realm named in the challenge.
    public var realm: String

    public init(scheme: Scheme, proxy: Bool = false, realm: String = "faultline") {
        self.scheme = scheme
        self.proxy = proxy
        self.realm = realm
    }
}

/// A rule's rate limit: at most `requests` answers in any window of `per`.
public struct RateLimit: Sendable, Equatable {
    public var requests: Int
    public var per: Duration

    public init(requests: Int, per: Duration) {
        self.requests = requests
        self.per = per
    }
}
