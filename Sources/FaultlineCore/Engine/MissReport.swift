/// The body of the 404 for an unmatched request: the rules that came closest, and why each missed.
struct MissReport {
    /// How many rules the report names at most.
    static let limit = 3

    let text: String

    /// - Parameters:
    ///   - misses: each rule's misses, indexed like `rules`.
    ///   - answered: how many requests each rule has answered, to explain a rule that matched but stepped aside.
    init(
        request: IncomingRequest,
        rules: [Rule],
        misses: [[RequestMatcher.Miss]],
        answered: [Int],
        skipped: [Int],
        enabled: [Bool],
        elapsed: Duration
    ) {
        var text = "Faultline: no rule matched \(request.method) \(request.target)\n"
        guard !rules.isEmpty else {
            self.text = text + "\nThe scenario has no rules.\n"
            return
        }
        var candidates: [(rule: Rule, reasons: [String], score: Double)] = []
        for rule in rules {
            let ruleMisses = misses[rule.index]
            if ruleMisses.isEmpty {
                // Every condition holds: the rule stepped aside.
                var reasons: [String] = []
                if !enabled[rule.index] {
                    reasons.append("it matches but is switched off (POST /__faultline/rules/\(rule.label)/enable switches it on)")
                } else if let window = rule.active, !window.contains(elapsed) {
                    let end = window.length.map { " to \(DurationSyntax.format(window.after + $0))" } ?? " on"
                    reasons.append(
                        "it matches but answers only from \(DurationSyntax.format(window.after))\(end) after the start "
                            + "(now \(DurationSyntax.format(.milliseconds(elapsed.nanoseconds / 1_000_000))))"
                    )
                } else if let times = rule.times, answered[rule.index] >= times {
                    reasons.append("it matches but has already answered its \(times) time\(times == 1 ? "" : "s")")
                } else if let skip = rule.skip, skipped[rule.index] <= skip, answered[rule.index] == 0 {
                    reasons.append("it matches but steps aside for the first \(skip) request\(skip == 1 ? "" : "s")")
                } else if let probability = rule.probability {
                    let value = probability.fixedValue.map { "\($0)" } ?? "from the request"
                    reasons.append("it matches but its probability \(value) did not fire this time")
                }
                candidates.append((rule, reasons, 0))
            } else {
                candidates.append((rule, ruleMisses.map(\.description), Double(ruleMisses.count)))
            }
        }
        // The path's edit distance only orders rules that miss as little as the closest ones: rules that miss
        // more cannot come before them.
        let fewest = candidates.map(\.score).sorted().prefix(Self.limit).last ?? 0
        for index in candidates.indices where candidates[index].score > 0 && candidates[index].score <= fewest {
            let rule = candidates[index].rule
            candidates[index].score += Self.pathDistance(rule, request, pathMissed: misses[rule.index].contains(where: \.isPath))
        }
        let closest = candidates.enumerated()
            .sorted { ($0.element.score, $0.offset) < ($1.element.score, $1.offset) }
            .prefix(Self.limit)
            .map(\.element)
        text += "\nClosest rules:\n"
        for candidate in closest {
            let reasons = candidate.reasons.isEmpty ? "no reason recorded" : candidate.reasons.joined(separator: "; ")
            text += "- \(candidate.rule.label) (\(candidate.rule.sourceLocation)): \(reasons)\n"
        }
        self.text = text
    }

    /// A number from 0 to 1 saying how far the request path is from the rule's path, to rank near misses first.
    private static func pathDistance(_ rule: Rule, _ request: IncomingRequest, pathMissed: Bool) -> Double {
        guard let path = rule.path, pathMissed else { return 0 }
        // Only the start of a long path matters for ranking, and the distance is quadratic in its length: 64
        // characters keep a 404 cheap (about 4,000 steps a rule) even when a client sends a long path on purpose.
        let pattern = String(path.source.prefix(64))
        let sent = String(request.path.prefix(64))
        let distance = KeySuggester.editDistance(pattern, sent)
        return Double(distance) / Double(max(pattern.count, sent.count, 1))
    }
}
