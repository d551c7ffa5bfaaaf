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

    private let state: Mutex<EngineState>
    /// Which rules can match a path, so a request is not tried against every rule.
    private let index: RuleIndex
    /// The rules by reference, with the answers that never change prepared.
    private let compiled: [CompiledRule]

    /// What the engine remembers between requests.
    struct EngineState {
        var rules: [RuleState]
        /// Which rules are switched on (the control API switches them; a reset leaves them as they are).
        var enabled: [Bool]
        /// When the scenario was loaded or last reset: outage windows count from here.
        var startedAt: ContinuousClock.Instant
    }

    /// What the engine remembers of one rule between requests.
    struct RuleState {
        /// Matching requests the rule answered.
        var answered = 0
        /// Matching requests the rule stepped aside for because of `after`.
        var skipped = 0
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
        self.state = Mutex(Self.initialState(scenario: scenario, seed: self.seed, now: .now))
        self.index = RuleIndex(rules: scenario.rules)
        let loadedAt = self.loadedAt
        self.compiled = scenario.rules.map { CompiledRule($0, loadedAt: loadedAt) }
    }

    private static func initialState(scenario: Scenario, seed: UInt64, now: ContinuousClock.Instant) -> EngineState {
        EngineState(
            rules: scenario.rules.map { RuleState(generator: SeededGenerator(seed: seed, stream: UInt64($0.index))) },
            enabled: scenario.rules.map(\.enabled),
            startedAt: now
        )
    }

    /// Puts every counter, rate limit, outage window and random stream back to where it was when the scenario
    /// loaded; windows count again from `now`.
    public func reset(now: ContinuousClock.Instant = .now) {
        var fresh = Self.initialState(scenario: self.scenario, seed: self.seed, now: now)
        self.state.withLock { state in
            fresh.enabled = state.enabled
            state = fresh
        }
    }

    /// Switches the rules with this label (`name` or `rules[N]`) on or off; returns how many there are.
    @discardableResult
    public func setEnabled(_ enabled: Bool, rule label: String) -> Int {
        let indices = self.scenario.rules.filter { $0.label == label }.map(\.index)
        self.state.withLock { state in
            for index in indices { state.enabled[index] = enabled }
        }
        return indices.count
    }

    /// Whether the rules with this label are on (all of them), or `nil` when no rule has it.
    public func isEnabled(rule label: String) -> Bool? {
        let indices = self.scenario.rules.filter { $0.label == label }.map(\.index)
        guard !indices.isEmpty else { return nil }
        return self.state.withLock { state in indices.allSatisfy { state.enabled[$0] } }
    }

    /// How long since the scenario was loaded or reset.
    public func elapsed(now: ContinuousClock.Instant = .now) -> Duration {
        now - self.state.withLock { $0.startedAt }
    }

    /// Chooses the answer to `request` arriving at `now`.
    public func decide(_ request: IncomingRequest, now: ContinuousClock.Instant = .now) -> Decision {
        let outcome: Result<Decision, NoRuleAnswered> = self.state.withLock { state in
            self.decideLocked(request, now: now, state: &state)
        }
        switch outcome {
        case .success(var decision):
            // A rule's own 405 lists the methods the other rules take for this path: a walk over every rule, so
            // outside the lock too.
            if decision.kind == .rule, decision.response.status == 405, let index = decision.ruleIndex {
                decision.response.allow = self.allowedMethods(for: request, excluding: index)
            }
            return decision
        case .failure(let none):
            // Explaining a miss walks every rule again; do it outside the lock so other requests are not held up.
            return self.noRuleAnswers(request, none)
        }
    }

    /// No rule answered; how many times each had answered, for the explanation.
    struct NoRuleAnswered: Error {
        let answered: [Int]
        let skipped: [Int]
        let enabled: [Bool]
        let elapsed: Duration
    }

    private func decideLocked(
        _ request: IncomingRequest,
        now: ContinuousClock.Instant,
        state: inout EngineState
    ) -> Result<Decision, NoRuleAnswered> {
        let elapsed = now - state.startedAt
        for candidate in self.index.candidates(for: request.path) {
            let compiled = self.compiled[candidate]
            let rule = compiled.rule
            guard let captures = RequestMatcher.match(rule, request) else { continue }
            let index = rule.index
            if !state.enabled[index] { continue }
            if let window = rule.active, !window.contains(elapsed) { continue }
            // `after` counts first (the requests it steps aside for), then `times` counts the answers.
            if let skip = rule.skip, state.rules[index].skipped < skip {
                state.rules[index].skipped += 1
                continue
            }
            if let times = rule.times, state.rules[index].answered >= times { continue }
            let context = TemplateContext(captures: captures, query: request.query)
            do throws(TemplateError) {
                // A per-request seed makes this request's choices depend on it alone; otherwise the rule's stream.
                var generator = state.rules[index].generator
                let ownSeed = rule.requestSeed.flatMap { try? $0.render(in: context) }.flatMap { UInt64($0) }
                if let ownSeed { generator = SeededGenerator(seed: ownSeed, stream: UInt64(index)) }
                defer { if ownSeed == nil { state.rules[index].generator = generator } }
                if let probability = rule.probability {
                    let chance = try ResponseResolver.value(probability, in: context, what: "a probability from 0 to 1") { text in
                        Double(text).flatMap { (0...1).contains($0) ? $0 : nil }
                    }
                    if !generator.chance(chance) { continue }
                }
                return .success(
                    try self.answer(
                        compiled,
                        request: request,
                        context: context,
                        now: now,
                        state: &state.rules[index],
                        generator: &generator
                    )
                )
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
        return .failure(
            NoRuleAnswered(
                answered: state.rules.map(\.answered),
                skipped: state.rules.map(\.skipped),
                enabled: state.enabled,
                elapsed: elapsed
            )
        )
    }

    /// The answer of a rule whose conditions hold: its checks first, then its response.
    private func answer(
        _ compiled: CompiledRule,
        request: IncomingRequest,
        context: TemplateContext,
        now: ContinuousClock.Instant,
        state: inout RuleState,
        generator: inout SeededGenerator
    ) throws(TemplateError) -> Decision {
        let rule = compiled.rule
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
        let (spec, step, prepared) = compiled.response(forAnswer: answerNumber)
        if let prepared {
            return Decision(kind: .rule, ruleIndex: rule.index, ruleLabel: rule.label, step: step, response: prepared)
        }
        var response: ResolvedResponse
        do {
            response = try ResponseResolver.resolve(spec, defaultHeaders: rule.defaultHeaders, context: context, generator: &generator)
        } catch {
            // A request the rule cannot answer (a 400) is not an answer: `times`, the sequence and the rate limit
            // stay where they were, as they do for a 401 or a 429.
            state.answered -= 1
            if rule.rateLimit != nil { state.recentAnswers.removeLast() }
            throw error
        }
        if !response.lastModifiedIsExplicit { response.lastModified = self.loadedAt }
        return Decision(kind: .rule, ruleIndex: rule.index, ruleLabel: rule.label, step: step, response: response)
    }

    /// 501, 405, 415, 406 or 404, from how close the rules came.
    private func noRuleAnswers(_ request: IncomingRequest, _ none: NoRuleAnswered) -> Decision {
        let defaults = self.scenario.defaultHeaders
        let rules = self.scenario.rules
        if !HTTPSyntax.knownMethods.contains(request.method), !rules.contains(where: { $0.methods?.contains(request.method) ?? false }) {
            return Decision(
                kind: .notImplemented,
                response: .text(status: 501, "Faultline: the method \(request.method) is not implemented.\n", headers: defaults)
            )
        }
        // Each rule's misses, worked out once for the 405, 415, 406 and 404 below.
        let misses = rules.map { RequestMatcher.misses($0, request) }
        let nearMisses = misses.filter { $0.count == 1 }.map { $0[0] }
        if nearMisses.contains(where: \.isMethod) {
            var response = ResolvedResponse.text(
                status: 405,
                "Faultline: \(request.path) does not take \(request.method).\n",
                headers: defaults
            )
            response.allow = self.allowedMethods(misses: misses, excluding: nil)
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
        let report = MissReport(
            request: request,
            rules: rules,
            misses: misses,
            answered: none.answered,
            skipped: none.skipped,
            enabled: none.enabled,
            elapsed: none.elapsed
        )
        return Decision(kind: .unmatched, response: .text(status: 404, report.text, headers: defaults))
    }

    /// The methods of the rules that match the request in every way but the method, in a conventional order, with
    /// HEAD beside GET. A rule that takes any method contributes the common ones.
    private func allowedMethods(for request: IncomingRequest, excluding excluded: Int?) -> [String] {
        self.allowedMethods(misses: self.scenario.rules.map { RequestMatcher.misses($0, request) }, excluding: excluded)
    }

    /// The same, from each rule's misses (indexed like the rules).
    private func allowedMethods(misses: [[RequestMatcher.Miss]], excluding excluded: Int?) -> [String] {
        var methods: Set<String> = []
        for rule in self.scenario.rules where rule.index != excluded && misses[rule.index].allSatisfy(\.isMethod) {
            methods.formUnion(rule.methods ?? Self.commonMethods)
        }
        if methods.isEmpty { methods = ["GET"] }
        if methods.contains("GET") { methods.insert("HEAD") }
        let order = Self.commonMethods + ["TRACE", "CONNECT"]
        return order.filter(methods.contains) + methods.subtracting(order).sorted()
    }

    /// The methods a rule without `method` stands for in `Allow`, in the order `Allow` lists them.
    static let commonMethods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
}

extension Rule {
    /// Whether the rule draws from its random stream.
    var usesRandomness: Bool {
        if self.probability != nil || self.requestSeed != nil { return true }
        let specs: [ResponseSpec]
        switch self.response {
        case .single(let spec): specs = [spec]
        case .sequence(let steps, _): specs = steps
        }
        func isRandom(_ delay: Templated<DelaySpec>?) -> Bool {
            switch delay {
            case .fixed(.uniform), .fixed(.lognormal): true
            default: false
            }
        }
        return specs.contains { spec in
            if case .garbage = spec.fault { return true }
            return isRandom(spec.delay) || isRandom(spec.bodyDelay)
        }
    }
}

extension ResolvedResponse {
    /// A plain-text response.
    public static func text(status: Int, _ text: String, headers: [HeaderField] = []) -> ResolvedResponse {
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
