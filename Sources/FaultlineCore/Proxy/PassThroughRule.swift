extension Rule {
    /// The name of the rule `--upstream` appends.
    public static let passThroughName = "upstream"

    /// The last rule `faultline serve --upstream URL` appends: every request no other rule took goes to `proxy`.
    public static func passThrough(to proxy: ProxySpec, defaultHeaders: [HeaderField] = []) -> Rule {
        var rule = Rule(index: 0, sourceLocation: SourceLocation(file: "--upstream", line: 1, column: 1))
        rule.name = Self.passThroughName
        var response = ResponseSpec(sourceLocation: rule.sourceLocation)
        response.proxy = proxy
        rule.response = .single(response)
        rule.defaultHeaders = defaultHeaders
        return rule
    }
}

extension Scenario {
    /// The scenario with `rule` after its own rules (renumbered as the last).
    public func appending(_ rule: Rule) -> Scenario {
        var scenario = self
        var last = rule
        last.index = scenario.rules.count
        if last.defaultHeaders.isEmpty { last.defaultHeaders = scenario.defaultHeaders }
        scenario.rules.append(last)
        return scenario
    }
}
