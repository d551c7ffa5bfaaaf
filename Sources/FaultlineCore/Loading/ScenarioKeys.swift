/// The keys each level of a scenario file accepts. A key that is part of the format but not implemented yet is
/// refused with a message saying so, rather than silently ignored.
struct KeySet {
    let place: String
    let supported: [String]
    let notYetSupported: [String]

    var all: [String] { self.supported + self.notYetSupported }
}

enum ScenarioKeys {
    static let topLevel = KeySet(
        place: "the top level of a scenario",
        supported: ["version", "name", "seed", "listeners", "defaults", "limits", "rules", "expect"],
        notYetSupported: []
    )
    static let listener = KeySet(
        place: "a listener",
        supported: ["port", "host", "tls", "hosts", "clientAuth", "minVersion", "maxVersion"],
        notYetSupported: []
    )
    static let tls = KeySet(place: "tls", supported: ["cert", "key", "fault"], notYetSupported: [])
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
        "etag", "lastModified", "interim", "fault", "bodyDelay", "throttle", "chunked", "chunkSize",
    ]
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
        supported: ["rule", "count", "honorsRetryAfter", "minInterval", "backoff", "resumes", "revalidates", "maxConcurrent", "never"],
        notYetSupported: []
    )
    static let active = KeySet(place: "active", supported: ["after", "for"], notYetSupported: [])
    static let after = KeySet(place: "after", supported: ["requests"], notYetSupported: [])
    static let interim = KeySet(place: "an interim response", supported: ["status", "headers"], notYetSupported: [])

    /// The keys that hold a body; a response takes at most one.
    static let bodyKinds = ["body", "bodyFile", "bodySize", "json"]
}
