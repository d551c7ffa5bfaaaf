import Synchronization

/// Decides, for each request, which rule answers and with what: first match wins, `times` and `probability` let a
/// rule step aside, sequences advance with each answer. Pure and thread-safe: the server's event loops share one
/// engine, and every decision can be tested without a socket.
public final class RuleEngine: Sendable {
    /// The scenario the engine serves.
    public let scenario: Scenario
    /// The seed in use: the scenario's, or one drawn at start when it gives none.
    public let seed: UInt64
    /// Whether the seed was drawn rather than given, so the CLI can print it for a replay.
    public let seedWasDrawn: Bool
    /// Whether any rule makes random choices (a probability or a random delay).
    public let usesRandomness: Bool

    private let state: Mutex<[RuleState]>

    /// What the engine remembers of one rule between requests.
    struct RuleState {
        /// Matching requests the rule answered.
        var answered = 0
        /// The rule's own random stream, so its choices do not depend on other rules' traffic.
        var generator: SeededGenerator
    }

    /// - Parameter seed: overrides the scenario's seed (the CLI's `--seed`).
    public init(scenario: Scenario, seed: UInt64? = nil) {
        self.scenario = scenario
        let chosen = seed ?? scenario.seed
        self.seed = chosen ?? SeededGenerator.randomSeed()
        self.seedWasDrawn = chosen == nil
        self.usesRandomness = scenario.rules.contains { $0.usesRandomness }
        self.state = Mutex(Self.initialState(scenario: scenario, seed: self.seed))
    }

    private static func initialState(scenario: Scenario, seed: UInt64) -> [RuleState] {
        scenario.rules.map { RuleState(generator: SeededGenerator(seed: seed, stream: UInt64($0.index))) }
    }

    /// Puts every counter and random stream back to where it was when the scenario loaded.
    public func reset() {
        let fresh = Self.initialState(scenario: self.scenario, seed: self.seed)
        self.state.withLock { $0 = fresh }
    }

    /// Chooses the answer to `request`.
    public func decide(_ request: IncomingRequest) -> Decision {
        self.state.withLock { states in
            for rule in self.scenario.rules {
                guard let captures = RequestMatcher.match(rule, request) else { continue }
                let index = rule.index
                if let times = rule.times, states[index].answered >= times { continue }
                if let probability = rule.probability, !states[index].generator.chance(probability) { continue }
                let answerNumber = states[index].answered
                states[index].answered += 1
                let (spec, step) = Self.response(of: rule, answerNumber: answerNumber)
                let context = TemplateContext(captures: captures, query: request.query)
                do throws(TemplateError) {
                    let response = try ResponseResolver.resolve(
                        spec,
                        defaultHeaders: rule.defaultHeaders,
                        context: context,
                        generator: &states[index].generator
                    )
                    return Decision(kind: .rule, ruleIndex: index, ruleLabel: rule.label, step: step, response: response)
                } catch {
                    return Decision(
                        kind: .badRequest,
                        ruleIndex: index,
                        ruleLabel: rule.label,
                        step: step,
                        response: ResolvedResponse.text(
                            status: 400,
                            "Faultline: rule \(rule.label) cannot answer \(request.method) \(request.target): "
                                + "\(error.message)\n",
                            headers: rule.defaultHeaders
                        )
                    )
                }
            }
            let report = MissReport(request: request, rules: self.scenario.rules, answered: states.map(\.answered))
            return Decision(
                kind: .unmatched,
                response: ResolvedResponse.text(status: 404, report.text, headers: self.scenario.defaultHeaders)
            )
        }
    }

    /// The response for the `answerNumber`-th answer (0-based) of a rule, and its sequence step.
    static func response(of rule: Rule, answerNumber: Int) -> (ResponseSpec, Int?) {
        switch rule.response {
        case .single(let spec):
            return (spec, nil)
        case .sequence(let steps, let cycle):
            let step = SequenceCursor.step(forAnswer: answerNumber, steps: steps.map { $0.times ?? 1 }, cycle: cycle)
            return (steps[step], step)
        }
    }
}

extension Rule {
    /// Whether the rule draws from its random stream.
    var usesRandomness: Bool {
        if self.probability != nil { return true }
        let specs: [ResponseSpec]
        switch self.response {
        case .single(let spec): specs = [spec]
        case .sequence(let steps, _): specs = steps
        }
        return specs.contains { spec in
            switch spec.delay {
            case .fixed(.uniform), .fixed(.lognormal): true
            default: false
            }
        }
    }
}

extension ResolvedResponse {
    /// A plain-text response.
    static func text(status: Int, _ text: String, headers: [HeaderField] = []) -> ResolvedResponse {
        ResolvedResponse(status: status, headers: headers, body: .bytes(Array(text.utf8), contentType: "text/plain; charset=utf-8"))
    }
}

/// Maps the n-th answer of a sequence to its step.
enum SequenceCursor {
    /// - Parameters:
    ///   - answer: 0-based number of the answer.
    ///   - steps: how many answers each step gives.
    ///   - cycle: start over after the last step instead of repeating it.
    static func step(forAnswer answer: Int, steps: [Int], cycle: Bool) -> Int {
        let total = steps.reduce(0, +)
        var remaining = cycle && total > 0 ? answer % total : answer
        for (index, count) in steps.enumerated() {
            if remaining < count { return index }
            remaining -= count
        }
        return steps.count - 1
    }
}
