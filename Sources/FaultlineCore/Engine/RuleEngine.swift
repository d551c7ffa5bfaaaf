import Foundation
import Synchronization

/// Decides, for each request, which rule answers and with what: first match wins, `times` and `probability` let a
/// rule step aside, sequences advance with each answer, `auth`, `rateLimit` and `requireContentLength` are checked
/// before a rule answers. When no rule answers, the nearest misses decide between 405, 415, 406 and 404.
/// Pure and thread-safe: the server's event loops share one engine, and every decision can be tested without a
/// socket or a real clock.
public final class RuleEngine: Sendable {
    /// The scenario the engine serves.
    public let scenario: Scenario
    /// The seed in use: the scenario's, or one drawn at start when it gives none.
    public let seed: UInt64
    /// Whether the seed was drawn rather than given, so the CLI can print it for a replay.
    public let seedWasDrawn: Bool
    /// Whether any rule makes random choices (a probability or a random delay).
    public let usesRandomness: Bool
    /// When the scenario was loaded, in seconds since 1970: the `Last-Modified` of bodies that are not files.
    public let loadedAt: Int64

    private let state: Mutex<[RuleState]>

    /// What the engine remembers of one rule between requests.
    struct RuleState {
        /// Matching requests the rule answered.
        var answered = 0
        /// The rule's own random stream, so its choices do not depend on other rules' traffic.
        var generator: SeededGenerator
        /// When the rule answered within its rate limit's window, oldest first.
        var recentAnswers: [ContinuousClock.Instant] = []
    }

    /// - Parameters:
    ///   - seed: overrides the scenario's seed (the CLI's `--seed`).
    ///   - loadedAt: the load time in seconds since 1970 (now by default).
    public init(scenario: Scenario, seed: UInt64? = nil, loadedAt: Int64? = nil) {
        self.scenario = scenario
        let chosen = seed ?? scenario.seed
        self.seed = chosen ?? SeededGenerator.randomSeed()
        self.seedWasDrawn = chosen == nil
        self.usesRandomness = scenario.rules.contains { $0.usesRandomness }
        self.loadedAt = loadedAt ?? Int64(Date().timeIntervalSince1970)
        self.state = Mutex(Self.initialState(scenario: scenario, seed: self.seed))
    }

    private static func initialState(scenario: Scenario, seed: UInt64) -> [RuleState] {
        scenario.rules.map { RuleState(generator: SeededGenerator(seed: seed, stream: UInt64($0.index))) }
    }

    /// Puts every counter, rate limit and random stream back to where it was when the scenario loaded.
    public func reset() {
        let fresh = Self.initialState(scenario: self.scenario, seed: self.seed)
        self.state.withLock { $0 = fresh }
    }

    /// Chooses the answer to `request` arriving at `now`.
    public func decide(_ request: IncomingRequest, now: ContinuousClock.Instant = .now) -> Decision {
        let outcome: Result<Decision, NoRuleAnswered> = self.state.withLock { states in
            self.decideLocked(request, now: now, states: &states)
        }
        switch outcome {
        case .success(let decision):
            return decision
        case .failure(let none):
            // Explaining a miss walks every rule again; do it outside the lock so other requests are not held up.
            return self.noRuleAnswers(request, answered: none.answered)
        }
    }

    /// No rule answered; how many times each had answered, for the explanation.
    struct NoRuleAnswered: Error {
        let answered: [Int]
    }

    private func decideLocked(
        _ request: IncomingRequest,
        now: ContinuousClock.Instant,
        states: inout [RuleState]
    ) -> Result<Decision, NoRuleAnswered> {
        for rule in self.scenario.rules {
            guard let captures = RequestMatcher.match(rule, request) else { continue }
            let index = rule.index
            if let times = rule.times, states[index].answered >= times { continue }
            if let probability = rule.probability, !states[index].generator.chance(probability) { continue }
            do throws(TemplateError) {
                return .success(try self.answer(rule, request: request, captures: captures, now: now, state: &states[index]))
            } catch {
                return .success(Decision(
                    kind: .badRequest,
                    ruleIndex: index,
                    ruleLabel: rule.label,
                    response: .text(
                        status: 400,
                        "Faultline: rule \(rule.label) cannot answer \(request.method) \(request.target): "
                            + "\(error.message)\n",
                        headers: rule.defaultHeaders
                    )
                ))
            }
        }
        return .failure(NoRuleAnswered(answered: states.map(\.answered)))
    }

    /// The answer of a rule whose conditions hold: its checks first, then its response.
    private func answer(
        _ rule: Rule,
        request: IncomingRequest,
        captures: [String: String],
        now: ContinuousClock.Instant,
        state: inout RuleState
    ) throws(TemplateError) -> Decision {
        let context = TemplateContext(captures: captures, query: request.query)
        func refusal(_ kind: Decision.Kind, _ response: ResolvedResponse) -> Decision {
            Decision(kind: kind, ruleIndex: rule.index, ruleLabel: rule.label, response: response)
        }
        if rule.requireContentLength, request.hasBodyWithoutLength {
            return refusal(
                .lengthRequired,
                .text(status: 411, "Faultline: rule \(rule.label) requires a Content-Length.\n", headers: rule.defaultHeaders)
            )
        }
        if let auth = rule.auth, let refused = try AuthCheck.refusal(for: request, auth: auth, context: context) {
            return refusal(
                .unauthorized,
                .text(status: refused.status, "Faultline: \(refused.message).\n", headers: rule.defaultHeaders + [refused.challenge])
            )
        }
        if let limit = rule.rateLimit {
            let windowStart = now - limit.per
            state.recentAnswers.removeAll { $0 <= windowStart }
            if state.recentAnswers.count >= limit.requests, let oldest = state.recentAnswers.first {
                let wait = (oldest + limit.per) - now
                let seconds = max(1, Int((Double(wait.nanoseconds) / 1e9).rounded(.up)))
                var response = ResolvedResponse.text(
                    status: 429,
                    "Faultline: rule \(rule.label) allows \(limit.requests) requests per \(DurationSyntax.format(limit.per)).\n",
                    headers: rule.defaultHeaders
                )
                response.retryAfter = String(seconds)
                return refusal(.rateLimited, response)
            }
            state.recentAnswers.append(now)
        }
        let answerNumber = state.answered
        state.answered += 1
        let (spec, step) = Self.response(of: rule, answerNumber: answerNumber)
        var response = try ResponseResolver.resolve(
            spec,
            defaultHeaders: rule.defaultHeaders,
            context: context,
            generator: &state.generator
        )
        if !response.lastModifiedIsExplicit { response.lastModified = self.loadedAt }
        if response.status == 405 { response.allow = self.allowedMethods(for: request, excluding: rule.index) }
        return Decision(kind: .rule, ruleIndex: rule.index, ruleLabel: rule.label, step: step, response: response)
    }

    /// 501, 405, 415, 406 or 404, from how close the rules came.
    private func noRuleAnswers(_ request: IncomingRequest, answered: [Int]) -> Decision {
        let defaults = self.scenario.defaultHeaders
        let rules = self.scenario.rules
        if !HTTPSyntax.knownMethods.contains(request.method), !rules.contains(where: { $0.methods?.contains(request.method) ?? false }) {
            return Decision(
                kind: .notImplemented,
                response: .text(status: 501, "Faultline: the method \(request.method) is not implemented.\n", headers: defaults)
            )
        }
        let nearMisses = rules.map { RequestMatcher.misses($0, request) }.filter { $0.count == 1 }.map { $0[0] }
        if nearMisses.contains(where: \.isMethod) {
            var response = ResolvedResponse.text(
                status: 405,
                "Faultline: \(request.path) does not take \(request.method).\n",
                headers: defaults
            )
            response.allow = self.allowedMethods(for: request, excluding: nil)
            return Decision(kind: .methodNotAllowed, response: response)
        }
        if let miss = nearMisses.first(where: \.isContentType) {
            return Decision(
                kind: .unsupportedMediaType,
                response: .text(status: 415, "Faultline: \(miss.description).\n", headers: defaults)
            )
        }
        if let miss = nearMisses.first(where: \.isAccept) {
            return Decision(
                kind: .notAcceptable,
                response: .text(status: 406, "Faultline: \(miss.description).\n", headers: defaults)
            )
        }
        let report = MissReport(request: request, rules: rules, answered: answered)
        return Decision(kind: .unmatched, response: .text(status: 404, report.text, headers: defaults))
    }

    /// The methods of the rules that match the request in every way but the method, in a conventional order, with
    /// HEAD beside GET. A rule that takes any method contributes the common ones.
    private func allowedMethods(for request: IncomingRequest, excluding excluded: Int?) -> [String] {
        var methods: Set<String> = []
        for rule in self.scenario.rules where rule.index != excluded {
            let misses = RequestMatcher.misses(rule, request)
            guard misses.allSatisfy(\.isMethod) else { continue }
            methods.formUnion(rule.methods ?? ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
        }
        if methods.isEmpty { methods = ["GET"] }
        if methods.contains("GET") { methods.insert("HEAD") }
        let order = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"]
        return order.filter(methods.contains) + methods.subtracting(order).sorted()
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
        var remaining = answer
        if cycle {
            // Saturate: a cycle longer than Int.max answers never wraps.
            let total = steps.reduce(0) { $0.addingReportingOverflow($1).overflow ? Int.max : $0 + $1 }
            if total > 0 { remaining = answer % total }
        }
        for (index, count) in steps.enumerated() {
            if remaining < count { return index }
            remaining -= count
        }
        return steps.count - 1
    }
}
