/// What a well-behaved client does, as the scenario's `expect:` says; checked against the journal.
public struct ClientExpectation: Sendable {
    /// One thing to check about the requests to a rule.
    public enum Check: Sendable, Equatable {
        /// Between `min` and `max` requests (`count: 3` is both).
        case count(min: Int?, max: Int?)
        /// No request came sooner than the Retry-After of the answer before it.
        case honorsRetryAfter
        /// At least this long between one answer and the next request.
        case minInterval(Duration)
        /// Each wait grows by about `factor`, within `tolerance` (0.25 is ±25 %).
        case backoff(factor: Double, tolerance: Double)
        /// After a cut answer, the next request asks for the rest with `Range: bytes=N-`.
        case resumes
        /// A repeat request carries `If-None-Match` or `If-Modified-Since` from the answer before it.
        case revalidates
        /// At most this many requests to the rule at once.
        case maxConcurrent(Int)
        /// The rule is never hit.
        case never
        /// After a stream cut or stalled, the next request carries `Last-Event-ID` with the id of the last event sent.
        case resumesStream
        /// No reconnection came sooner than the last `retry` the stream sent.
        case honorsRetry

        /// The check's key in the scenario.
        public var name: String {
            switch self {
            case .count: "count"
            case .honorsRetryAfter: "honorsRetryAfter"
            case .minInterval: "minInterval"
            case .backoff: "backoff"
            case .resumes: "resumes"
            case .revalidates: "revalidates"
            case .maxConcurrent: "maxConcurrent"
            case .never: "never"
            case .resumesStream: "resumesStream"
            case .honorsRetry: "honorsRetry"
            }
        }
    }

    /// The rule's name, or `rules[N]`.
    public var rule: String
    public var checks: [Check]
    public var sourceLocation: SourceLocation

    public init(rule: String, checks: [Check], sourceLocation: SourceLocation) {
        self.rule = rule
        self.checks = checks
        self.sourceLocation = sourceLocation
    }
}
