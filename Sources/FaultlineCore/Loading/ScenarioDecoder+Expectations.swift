import Yams

extension ScenarioDecoder {
    /// `expect:` — a list of `{rule: NAME, CHECK: VALUE...}`.
    mutating func decodeExpectations(_ node: Node, rules: [Rule]) -> [ClientExpectation] {
        guard case .sequence(let sequence) = node else {
            self.error(
                "Expected 'expect' as a list of expectations such as [{rule: orders, count: 3}], found \(self.describe(node)).",
                at: node
            )
            return []
        }
        let labels = rules.map(\.label)
        var expectations: [ClientExpectation] = []
        for element in sequence {
            guard let entries = self.entries(of: element, ScenarioKeys.expectation) else { continue }
            var rule: String?
            var checks: [ClientExpectation.Check] = []
            for entry in entries {
                switch entry.key {
                case "rule":
                    guard let name = self.string(entry.value, expected: "the name of a rule") else { continue }
                    if labels.contains(name) {
                        rule = name
                    } else {
                        var message = "No rule is called '\(name)'"
                        if let suggestion = KeySuggester.suggestion(for: name, among: labels) {
                            message += "; did you mean '\(suggestion)'?"
                        } else {
                            message += "; give the rule a 'name', or write rules[N] (0-based)."
                        }
                        self.error(message, at: entry.value)
                    }
                case "count":
                    if let count = self.decodeCount(entry.value) { checks.append(count) }
                case "minInterval":
                    if let interval = self.duration(entry.value, what: "the shortest interval") {
                        checks.append(.minInterval(interval))
                    }
                case "backoff":
                    if let backoff = self.decodeBackoff(entry.value) { checks.append(backoff) }
                case "maxConcurrent":
                    if let limit = self.integer(
                        entry.value,
                        in: 1...Int.max,
                        expected: "a number of requests of at least 1"
                    ) {
                        checks.append(.maxConcurrent(limit))
                    }
                default:
                    // The boolean checks: honorsRetryAfter, resumes, revalidates, never, resumesStream, honorsRetry.
                    guard let value = self.bool(entry.value) else { continue }
                    guard value else {
                        self.error("'\(entry.key): false' checks nothing; leave it out.", at: entry.value)
                        continue
                    }
                    switch entry.key {
                    case "honorsRetryAfter": checks.append(.honorsRetryAfter)
                    case "resumes": checks.append(.resumes)
                    case "revalidates": checks.append(.revalidates)
                    case "resumesStream": checks.append(.resumesStream)
                    case "honorsRetry": checks.append(.honorsRetry)
                    default: checks.append(.never)
                    }
                }
            }
            guard entries.contains(where: { $0.key == "rule" }) else {
                self.error("An expectation needs a 'rule' naming the rule it checks.", at: element)
                continue
            }
            if checks.isEmpty, element.mapping?.count == 1 {
                self.error(
                    "An expectation needs at least one check, such as count, honorsRetryAfter or never.",
                    at: element
                )
            }
            if let rule {
                expectations.append(
                    ClientExpectation(rule: rule, checks: checks, sourceLocation: self.location(of: element))
                )
            }
        }
        return expectations
    }

    private mutating func decodeCount(_ node: Node) -> ClientExpectation.Check? {
        if case .scalar = node {
            return self.integer(node, in: 0...Int.max, expected: "a number of requests, or {min: N, max: N}").map {
                .count(min: $0, max: $0)
            }
        }
        guard let entries = self.entries(of: node, ScenarioKeys.count) else { return nil }
        var min: Int?
        var max: Int?
        for entry in entries {
            let value = self.integer(entry.value, in: 0...Int.max, expected: "a number of requests")
            if entry.key == "min" { min = value } else { max = value }
        }
        guard min != nil || max != nil else {
            self.error("count needs 'min', 'max' or both.", at: node)
            return nil
        }
        if let min, let max, min > max {
            self.error("count's min \(min) is above its max \(max).", at: node)
            return nil
        }
        return .count(min: min, max: max)
    }

    private mutating func decodeBackoff(_ node: Node) -> ClientExpectation.Check? {
        guard let entries = self.entries(of: node, ScenarioKeys.backoff) else { return nil }
        var factor: Double?
        var tolerance = 0.25
        for entry in entries {
            if entry.key == "factor" {
                factor = self.number(entry.value, in: 1...1000, expected: "a growth factor of at least 1, such as 2")
            } else {
                tolerance =
                    self.number(entry.value, in: 0...1, expected: "a relative tolerance from 0 to 1, such as 0.25")
                    ?? tolerance
            }
        }
        guard entries.contains(where: { $0.key == "factor" }) else {
            self.error("backoff needs a 'factor', such as {factor: 2, tolerance: 0.25}.", at: node)
            return nil
        }
        return factor.map { .backoff(factor: $0, tolerance: tolerance) }
    }
}
