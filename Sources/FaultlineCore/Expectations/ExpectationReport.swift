/// The verdict on a client's behaviour: each expectation's checks, met or not, with a sentence saying why and the
/// requests that show it.
public struct ExpectationReport: Sendable {
    /// One check of one expectation.
    public struct Result: Sendable {
        public var rule: String
        /// The check's key, such as `honorsRetryAfter`.
        public var check: String
        public var met: Bool
        /// A sentence saying why it is met or not.
        public var reason: String
        /// The requests and their timing.
        public var evidence: String
        /// Where the expectation is written.
        public var sourceLocation: SourceLocation
        /// The journal ids of the requests that show the verdict: for a failed check, the ones that broke it (the
        /// answer with Retry-After and the request that came too early); empty when no request in particular does.
        public var requestIDs: [Int]

        public init(
            rule: String,
            check: String,
            met: Bool,
            reason: String,
            evidence: String,
            sourceLocation: SourceLocation,
            requestIDs: [Int] = []
        ) {
            self.rule = rule
            self.check = check
            self.met = met
            self.reason = reason
            self.evidence = evidence
            self.sourceLocation = sourceLocation
            self.requestIDs = requestIDs
        }
    }

    public var results: [Result]

    public init(results: [Result]) {
        self.results = results
    }

    /// Whether every check is met (true when there are none).
    public var allMet: Bool { self.results.allSatisfy(\.met) }

    /// A short report for people: one line per check, its reason and evidence under it.
    public var text: String {
        guard !self.results.isEmpty else { return "faultline: the scenario has no expectations\n" }
        let met = self.results.filter(\.met).count
        var text = "faultline: \(met) of \(self.results.count) expectation\(self.results.count == 1 ? "" : "s") met\n"
        for (index, result) in self.results.enumerated() {
            text += "  \(result.met ? "ok  " : "FAIL") \(result.rule) \(result.check): \(result.reason)\n"
            // The evidence once per expectation, after its last check.
            let last =
                index + 1 == self.results.count || self.results[index + 1].sourceLocation != result.sourceLocation
            if last, !result.evidence.isEmpty {
                text += "       \(result.evidence)\n"
            }
        }
        return text
    }

    /// The report as JSON: `{"met": BOOL, "results": [...]}`.
    public var json: String {
        self.jsonValue.text + "\n"
    }

    /// The report as a JSON value.
    public var jsonValue: JSONValue {
        .object([
            ("met", .bool(self.allMet)),
            (
                "results",
                .array(
                    self.results.map { result in
                        .object([
                            ("rule", .string(result.rule)),
                            ("check", .string(result.check)),
                            ("met", .bool(result.met)),
                            ("reason", .string(result.reason)),
                            ("evidence", .string(result.evidence)),
                            ("location", .string(result.sourceLocation.description)),
                        ])
                    }
                )
            ),
        ])
    }
}
