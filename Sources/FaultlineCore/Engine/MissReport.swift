/// The body of the 404 for an unmatched request: the rules that came closest, and why each missed.
struct MissReport {
    /// How many rules the report names at most.
    static let limit = 3

    let text: String

    /// A rule weighed for the report: its misses, and its counters to explain a rule that matched but stepped aside.
    struct WeighedRule {
        /// The rule's index among the scenario's rules.
        let index: Int
        let misses: [RequestMatcher.Miss]
        let answered: Int
        let skipped: Int
        let enabled: Bool
    }

    /// - Parameters:
    ///   - rules: the scenario's rules.
    ///   - weighed: the rules weighed (every rule of a small scenario, the nearest ones of a large one), in rule
    ///     order; ties between equally close rules go to the first.
    init(request: IncomingRequest, rules: [Rule], weighed: [WeighedRule], elapsed: Duration) {
        var text = "Faultline: no rule matched \(request.method) \(request.target)\n"
        guard !rules.isEmpty else {
            self.text = text + "\nThe scenario has no rules.\n"
            return
        }
        // A rule that matched but stepped aside comes first (score 0); others by how many conditions they miss.
        var scores = weighed.map { Double($0.misses.count) }
        // The path's edit distance only orders rules that miss as little as the closest ones: rules that miss
        // more cannot come before them.
        let fewest = scores.sorted().prefix(Self.limit).last ?? 0
        let sent = Array(request.path.unicodeScalars.prefix(Self.distancePrefix))
        for position in weighed.indices where scores[position] > 0 && scores[position] <= fewest {
            if weighed[position].misses.contains(where: \.isPath), let path = rules[weighed[position].index].path {
                scores[position] += Self.pathDistance(path, sent: sent)
            }
        }
        let closest = weighed.indices.sorted { (scores[$0], $0) < (scores[$1], $1) }.prefix(Self.limit)
        text += "\nClosest rules:\n"
        // Put into words only for the rules named.
        for position in closest {
            let weighedRule = weighed[position]
            let rule = rules[weighedRule.index]
            let words =
                weighedRule.misses.isEmpty
                ? Self.reasonsForSteppingAside(rule, weighedRule, elapsed: elapsed)
                : weighedRule.misses.map(\.description)
            let reasons = words.isEmpty ? "no reason recorded" : words.joined(separator: "; ")
            text += "- \(rule.label) (\(rule.sourceLocation)): \(reasons)\n"
        }
        self.text = text
    }

    /// Why a rule whose every condition holds did not answer.
    private static func reasonsForSteppingAside(_ rule: Rule, _ weighed: WeighedRule, elapsed: Duration) -> [String] {
        if !weighed.enabled {
            return ["it matches but is switched off (POST /__faultline/rules/\(rule.label)/enable switches it on)"]
        } else if let window = rule.active, !window.contains(elapsed) {
            let end = window.length.map { " to \(DurationSyntax.format(window.after + $0))" } ?? " on"
            return [
                "it matches but answers only from \(DurationSyntax.format(window.after))\(end) after the start "
                    + "(now \(DurationSyntax.format(.milliseconds(elapsed.nanoseconds / 1_000_000))))"
            ]
        } else if let times = rule.times, weighed.answered >= times {
            return ["it matches but has already answered its \(times) time\(times == 1 ? "" : "s")"]
        } else if let skip = rule.skip, weighed.skipped <= skip, weighed.answered == 0 {
            return ["it matches but steps aside for the first \(skip) request\(skip == 1 ? "" : "s")"]
        } else if let probability = rule.probability {
            let value = probability.fixedValue.map { "\($0)" } ?? "from the request"
            return ["it matches but its probability \(value) did not fire this time"]
        }
        return []
    }

    /// How many characters (Unicode scalars) of a path rank it: the distance is quadratic in the length, and 64 keep
    /// a 404 cheap (about 4,000 steps a rule weighed) even when a client sends a long path on purpose.
    static let distancePrefix = 64

    /// A number from 0 to 1 saying how far the request path (`sent`: its first `distancePrefix` scalars) is from the
    /// rule's path, to rank near misses first.
    private static func pathDistance(_ path: PathPattern, sent: [Unicode.Scalar]) -> Double {
        let pattern = Array(path.source.unicodeScalars.prefix(Self.distancePrefix))
        let distance = KeySuggester.editDistance(pattern, sent)
        return Double(distance) / Double(max(pattern.count, sent.count, 1))
    }
}
