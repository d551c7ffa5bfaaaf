/// The keys each level of a scenario file accepts. A key that is part of the format but not implemented yet is
/// refused with a message saying so, rather than silently ignored.
package struct KeySet: Sendable {
    /// Where the keys are, for messages ("a rule", "a listener").
    package let place: String
    /// The keys the loader takes at this level.
    package let supported: [String]
    /// Keys of the format the loader refuses with "not supported yet".
    package let notYetSupported: [String]

    var all: [String] { self.supported + self.notYetSupported }
}

/// Every mapping of a scenario file and the keys it takes. `schema/scenario.schema.json` describes the same
/// mappings; `ScenarioSchemaTests` fails when a key is here and not there, or the reverse, so a key added to the
/// loader must be added to the schema (and its docs) too. A new mapping goes into `all`.
package enum ScenarioKeys {
    static let topLevel = KeySet(
        place: "the top level of a scenario",
        supported: ["version", "name", "seed", "listeners", "defaults", "limits", "rules", "expect"],
        notYetSupported: []
    )
    static let listener = KeySet(
        place: "a listener",
        supported: ["port", "host", "tls", "http2", "hosts", "clientAuth", "minVersion", "maxVersion"],
        notYetSupported: []
    )
    static let tls = KeySet(place: "tls", supported: ["cert", "key", "fault"], notYetSupported: [])
    /// `http2: {maxConcurrentStreams: 8, ...}`.
    static let http2 = KeySet(
        place: "http2",
        supported: ["maxConcurrentStreams", "initialWindowSize", "maxFrameSize"],
        notYetSupported: []
    )
    static let clientAuth = KeySet(place: "clientAuth", supported: ["ca", "mode"], notYetSupported: [])
    static let defaults = KeySet(place: "defaults", supported: ["headers"], notYetSupported: [])
    static let match = KeySet(place: "match", supported: ["headers", "query", "clientCert"], notYetSupported: [])

    /// Keys that say which requests a rule takes and when it answers.
    static let ruleConditions = [
        "name", "method", "path", "pathRegex", "match", "produces", "consumes", "probability", "seed", "times",
        "after", "active", "enabled", "sequence", "cycle", "requireContentLength", "auth", "rateLimit",
    ]
    static let ruleConditionsNotYetSupported: [String] = []
    /// Keys that say what is answered, on a rule or in a sequence step.
    static let response = [
        "status", "reason", "headers", "body", "bodyFile", "bodySize", "json", "retryAfter", "location", "delay",
        "etag", "lastModified", "interim", "fault", "bodyDelay", "throttle", "chunked", "chunkSize", "events", "stream",
        "keepOpen", "proxy", "proxyTimeout", "proxyCA", "proxyInsecure",
    ]
    /// The response keys a `proxy` answer cannot have: its status, body and framing are the upstream's.
    static let notWithProxy = [
        "status", "reason", "body", "bodyFile", "bodySize", "json", "location", "etag", "lastModified", "chunked",
        "chunkSize", "events", "stream", "keepOpen",
    ]
    /// The keys that only mean something beside `proxy`.
    static let proxyOptions = ["proxyTimeout", "proxyCA", "proxyInsecure"]
    static let responseNotYetSupported: [String] = []
    static let rule = KeySet(
        place: "a rule",
        supported: ruleConditions + response,
        notYetSupported: ruleConditionsNotYetSupported + responseNotYetSupported
    )
    static let step = KeySet(
        place: "a sequence step",
        supported: response + ["times"],
        notYetSupported: responseNotYetSupported
    )
    static let limits = KeySet(
        place: "limits",
        supported: ["maxBodySize", "maxURILength", "maxHeaderSize", "requestTimeout"],
        notYetSupported: []
    )
    static let auth = KeySet(place: "auth", supported: ["basic", "bearer", "proxy", "realm"], notYetSupported: [])
    static let rateLimit = KeySet(place: "rateLimit", supported: ["requests", "per"], notYetSupported: [])
    static let expectation = KeySet(
        place: "an expectation",
        supported: [
            "rule", "count", "honorsRetryAfter", "minInterval", "backoff", "resumes", "revalidates", "maxConcurrent",
            "never",
            "resumesStream", "honorsRetry",
        ],
        notYetSupported: []
    )
    static let active = KeySet(place: "active", supported: ["after", "for"], notYetSupported: [])
    static let after = KeySet(place: "after", supported: ["requests"], notYetSupported: [])
    static let interim = KeySet(place: "an interim response", supported: ["status", "headers"], notYetSupported: [])

    /// `throttle: {over: DURATION}`.
    static let throttle = KeySet(place: "throttle", supported: ["over"], notYetSupported: [])
    /// `delay: {uniform: [MIN, MAX]}` or `{lognormal: ...}`: a mapping with one of these keys.
    static let delayDistribution = KeySet(place: "a delay", supported: ["uniform", "lognormal"], notYetSupported: [])
    static let lognormal = KeySet(place: "a lognormal delay", supported: ["median", "sigma"], notYetSupported: [])
    /// The faults that take a value, written as a mapping with one of these keys (`{truncate: 100}`).
    static let faultMapping = KeySet(
        place: "a fault",
        supported: [
            "truncate", "resetAfter", "hang", "slowHeaders", "rstStream", "afterBytes", "goaway", "goawayAfter",
            "cutAfter",
            "stallAfter", "resetAfterEvents",
        ],
        notYetSupported: []
    )
    /// The faults written as a plain name (`fault: drop`).
    package static var namedFaults: [String] { ScenarioDecoder.simpleFaults.keys.sorted() }
    /// An expectation's `count: {min: N, max: N}`.
    static let count = KeySet(place: "count", supported: ["min", "max"], notYetSupported: [])
    static let backoff = KeySet(place: "backoff", supported: ["factor", "tolerance"], notYetSupported: [])

    /// One Server-Sent Event of `events:`.
    static let event = KeySet(
        place: "an event",
        supported: ["data", "event", "id", "retry", "comment", "delay", "raw"],
        notYetSupported: []
    )
    /// One item of `stream:`.
    static let streamItem = KeySet(
        place: "a stream item",
        supported: ["body", "json", "bytes", "delay"],
        notYetSupported: []
    )

    /// The keys that hold a body; a response takes at most one.
    static let bodyKinds = ["body", "bodyFile", "bodySize", "json", "events", "stream"]

    /// Every mapping a scenario file has, each once, keyed by the name of its definition in
    /// `schema/scenario.schema.json` (`scenario` is the schema's root).
    package static let all: [String: KeySet] = [
        "scenario": topLevel, "listener": listener, "tls": tls, "http2Settings": http2, "clientAuth": clientAuth,
        "defaults": defaults,
        "limits": limits, "rule": rule, "step": step, "match": match, "after": after, "active": active, "auth": auth,
        "rateLimit": rateLimit, "interim": interim, "faultMapping": faultMapping, "throttleMapping": throttle,
        "delayDistribution": delayDistribution, "lognormal": lognormal, "expectation": expectation, "count": count,
        "backoff": backoff, "event": event, "streamItem": streamItem,
    ]
}
