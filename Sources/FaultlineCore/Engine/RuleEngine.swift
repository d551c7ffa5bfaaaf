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
    /// Whether any rule or sequence step answers with `proxy`: request bodies may then go to an upstream as they
    /// arrive, so the server chooses the rule when a request's head arrives rather than after its body.
    public let hasProxyRules: Bool

    private let state: Mutex<EngineState>
    /// Which rules can match a path, so a request is not tried against every rule.
    private let index: RuleIndex
    /// Which rules lie nearest a path, so a 404 explains itself without weighing every rule.
    private let neighbours: PathNeighbourIndex
    /// Every method some rule names, for the 501 of a method nobody knows.
    private let ruleMethods: Set<String>
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
        self.hasProxyRules = scenario.rules.contains { $0.proxies }
        self.loadedAt = loadedAt ?? Int64(Date().timeIntervalSince1970)
        self.state = Mutex(Self.initialState(scenario: scenario, seed: self.seed, now: .now))
        self.index = RuleIndex(rules: scenario.rules)
        self.neighbours = PathNeighbourIndex(rules: scenario.rules)
        self.ruleMethods = Set(scenario.rules.flatMap { $0.methods ?? [] })
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
    ///
    /// Matching (paths, regexes, headers, query) and every template are worked out without the engine's lock, so a
    /// slow pattern or a large template holds up no other request; the lock is held only to commit a rule's counters:
    /// `times`, `after`, the sequence step, the rate-limit slot and the rule's random stream.
    public func decide(_ request: IncomingRequest, now: ContinuousClock.Instant = .now) -> Decision {
        var gaveUp: [Int] = []
        let candidates = self.index.candidates(for: request.path)
        for candidate in candidates {
            let compiled = self.compiled[candidate]
            let captures: [String: String]
            switch RequestMatcher.evaluate(compiled.rule, request) {
            case .missed:
                continue
            case .gaveUp:
                gaveUp.append(candidate)
                continue
            case .matched(let found):
                captures = found
            }
            let prepared = PreparedMatch(compiled, request: request, captures: captures)
            let committed = self.state.withLock { state in
                Self.commit(prepared, now: now, state: &state)
            }
            var decision: Decision
            switch consume committed {
            case .stepAside:
                continue
            case .refused(let refusal):
                decision = self.refusalDecision(refusal, of: compiled.rule, request: request)
            case .answered(let answer):
                decision = self.resolve(answer, of: compiled, context: prepared.context, request: request)
                // A rule's own 405 lists the methods the other rules take for this path.
                if decision.kind == .rule, decision.response.status == 405 {
                    decision.response.allow = self.allowedMethods(
                        for: request,
                        candidates: candidates,
                        excluding: compiled.rule.index
                    )
                }
            }
            if !gaveUp.isEmpty { decision.regexGaveUp = gaveUp.map { self.compiled[$0].label } }
            return decision
        }
        var decision = self.noRuleAnswers(request, candidates: candidates, regexGaveUp: gaveUp, now: now)
        decision.regexGaveUp = gaveUp.map { self.compiled[$0].label }
        return decision
    }

    // MARK: - When no rule answers

    /// A scenario of at most this many rules has every rule weighed when no rule answers, as it always was.
    static let weighEveryRuleUpTo = 64
    /// The most rules weighed when no rule answers (the 404's explanation, and the 405, 415 and 406 decisions): those
    /// whose path may match the request's (at most `explanationLimit - neighbourLimit` of them), then the
    /// `neighbourLimit` rules whose paths share the longest start with it (`PathNeighbourIndex`).
    static let explanationLimit = 256
    /// How many rules near the path a 404 weighs besides those whose path may match.
    static let neighbourLimit = 32

    /// The rules weighed to explain why none answered `request`, in rule order: every rule of a small scenario; in a
    /// larger one at most `explanationLimit`, found through the indexes, never by a scan of every rule. Only rules whose
    /// path may match can lead to a 405, 415 or 406, so those decisions are exact whenever at most
    /// `explanationLimit - neighbourLimit` rules' paths may match.
    func explanationRules(for request: IncomingRequest, candidates: [Int]) -> [Int] {
        let count = self.compiled.count
        if count <= Self.weighEveryRuleUpTo { return Array(0..<count) }
        var chosen = Array(candidates.prefix(Self.explanationLimit - Self.neighbourLimit))
        var seen = Set(chosen)
        for index in self.neighbours.neighbours(of: request.path, limit: Self.neighbourLimit)
        where seen.insert(index).inserted {
            chosen.append(index)
        }
        return chosen.sorted()
    }

    /// What a matching rule needs that depends on the request alone, worked out before the lock: its template
    /// context, its probability and seed, and whether it refuses the request (411, 401, 407, or a template error).
    struct PreparedMatch {
        let compiled: CompiledRule
        let context: TemplateContext
        /// The rule's probability, or the template error that stops it from being known.
        let probability: Result<Double?, TemplateError>
        /// A seed from the request (`seed:` template), when the rule has one.
        let ownSeed: UInt64?
        /// Why the rule refuses the request, if it does.
        let refusal: Refusal?

        init(_ compiled: CompiledRule, request: IncomingRequest, captures: [String: String]) {
            let context = TemplateContext(captures: captures, query: request.query)
            self.compiled = compiled
            self.context = context
            self.ownSeed = compiled.rule.requestSeed.flatMap { try? $0.render(in: context) }.flatMap { UInt64($0) }
            if let probability = compiled.rule.probability {
                do throws(TemplateError) {
                    let chance = try ResponseResolver.value(probability, in: context, what: "a probability from 0 to 1")
                    { text in
                        Double(text).flatMap { (0...1).contains($0) ? $0 : nil }
                    }
                    self.probability = .success(chance)
                } catch {
                    self.probability = .failure(error)
                }
            } else {
                self.probability = .success(nil)
            }
            if compiled.rule.requireContentLength, request.hasBodyWithoutLength {
                self.refusal = .lengthRequired
            } else if let auth = compiled.rule.auth {
                do throws(TemplateError) {
                    self.refusal = try AuthCheck.refusal(for: request, auth: auth, context: context).map {
                        .unauthorized($0)
                    }
                } catch {
                    self.refusal = .template(error)
                }
            } else {
                self.refusal = nil
            }
        }
    }

    /// Why a rule whose conditions hold refuses a request.
    enum Refusal {
        case lengthRequired
        case unauthorized(AuthCheck.Refusal)
        /// A template could not be filled in from the request: a 400.
        case template(TemplateError)
        /// The rate limit is reached; the client may come back after this many seconds.
        case rateLimited(retryAfter: Int)
    }

    /// A rule's answer as committed under the lock, to be resolved outside it.
    struct CommittedAnswer {
        let answerNumber: Int
        /// The sequence step answering; the rule's response is read from it outside the lock (a response has many
        /// fields to retain on every copy).
        let step: Int?
        /// The random choices made for this answer from the rule's stream.
        let draws: ResponseResolver.Draws
        /// The rule's random stream before the draws, to put back if the answer cannot be given after all.
        let generatorBefore: SeededGenerator?
        /// The rate-limit slot taken, to give back likewise.
        let rateSlot: ContinuousClock.Instant?
    }

    /// What committing a match under the lock gave.
    enum Commit {
        /// The rule steps aside (switched off, outside its window, `after`, `times`, probability): try the next.
        case stepAside
        case refused(Refusal)
        case answered(CommittedAnswer)
    }

    /// Applies the rule's state to a prepared match and commits its counters. Runs under the engine's lock: no
    /// pattern matching and no template here.
    static func commit(_ prepared: PreparedMatch, now: ContinuousClock.Instant, state: inout EngineState) -> Commit {
        let rule = prepared.compiled.rule
        let index = rule.index
        if !state.enabled[index] { return .stepAside }
        if let window = rule.active, !window.contains(now - state.startedAt) { return .stepAside }
        // `after` counts first (the requests it steps aside for), then `times` counts the answers.
        if let skip = rule.skip, state.rules[index].skipped < skip {
            state.rules[index].skipped += 1
            return .stepAside
        }
        if let times = rule.times, state.rules[index].answered >= times { return .stepAside }
        // A per-request seed makes this request's choices depend on it alone; otherwise the rule's stream.
        var generator =
            prepared.ownSeed.map { SeededGenerator(seed: $0, stream: UInt64(index)) } ?? state.rules[index].generator
        defer { if prepared.ownSeed == nil { state.rules[index].generator = generator } }
        switch prepared.probability {
        case .failure(let error):
            return .refused(.template(error))
        case .success(let chance?):
            if !generator.chance(chance) { return .stepAside }
        case .success(nil):
            break
        }
        if let refusal = prepared.refusal { return .refused(refusal) }
        var rateSlot: ContinuousClock.Instant?
        if let limit = rule.rateLimit {
            let windowStart = now - limit.per
            state.rules[index].recentAnswers.removeAll { $0 <= windowStart }
            if state.rules[index].recentAnswers.count >= limit.requests,
                let oldest = state.rules[index].recentAnswers.first
            {
                let wait = (oldest + limit.per) - now
                return .refused(.rateLimited(retryAfter: max(1, Int((Double(wait.nanoseconds) / 1e9).rounded(.up)))))
            }
            state.rules[index].recentAnswers.append(now)
            rateSlot = now
        }
        let answerNumber = state.rules[index].answered
        state.rules[index].answered += 1
        let step = prepared.compiled.step(forAnswer: answerNumber)
        let generatorBefore = prepared.ownSeed == nil ? generator : nil
        let draws =
            prepared.compiled.staticResponse(step: step) == nil
            ? ResponseResolver.draw(prepared.compiled.spec(step: step), generator: &generator)
            : ResponseResolver.Draws()
        return .answered(
            CommittedAnswer(
                answerNumber: answerNumber,
                step: step,
                draws: draws,
                generatorBefore: generatorBefore,
                rateSlot: rateSlot
            )
        )
    }

    /// The answer of a committed rule, its templates filled in outside the lock. A request the rule cannot answer
    /// (a template fails: a 400) is not an answer: `times`, the sequence, the rate limit and the random stream are
    /// put back, unless another request has been answered by the rule meanwhile.
    private func resolve(
        _ answer: CommittedAnswer,
        of compiled: CompiledRule,
        context: TemplateContext,
        request: IncomingRequest
    ) -> Decision {
        if let prepared = compiled.staticResponse(step: answer.step) {
            return Decision(
                ruleIndex: compiled.rule.index,
                ruleLabel: compiled.label,
                step: answer.step,
                response: prepared,
                preparedAnswer: compiled.staticAnswer(step: answer.step)
            )
        }
        do throws(TemplateError) {
            var response = try ResponseResolver.resolve(
                compiled.spec(step: answer.step),
                defaultHeaders: compiled.rule.defaultHeaders,
                context: context,
                draws: answer.draws
            )
            if !response.lastModifiedIsExplicit { response.lastModified = self.loadedAt }
            return Decision(
                kind: .rule,
                ruleIndex: compiled.rule.index,
                ruleLabel: compiled.label,
                step: answer.step,
                response: response
            )
        } catch {
            let index = compiled.rule.index
            self.state.withLock { state in
                guard state.rules[index].answered == answer.answerNumber + 1 else { return }
                state.rules[index].answered -= 1
                if let slot = answer.rateSlot, let position = state.rules[index].recentAnswers.lastIndex(of: slot) {
                    state.rules[index].recentAnswers.remove(at: position)
                }
                if let generator = answer.generatorBefore { state.rules[index].generator = generator }
            }
            return self.refusalDecision(.template(error), of: compiled.rule, request: request)
        }
    }

    /// The response of a rule that refuses a request.
    private func refusalDecision(_ refusal: Refusal, of rule: Rule, request: IncomingRequest) -> Decision {
        func decision(_ kind: Decision.Kind, _ response: ResolvedResponse) -> Decision {
            Decision(kind: kind, ruleIndex: rule.index, ruleLabel: rule.label, response: response)
        }
        switch refusal {
        case .lengthRequired:
            return decision(
                .lengthRequired,
                .text(
                    status: 411,
                    "Faultline: rule \(rule.label) requires a Content-Length.\n",
                    headers: rule.defaultHeaders
                )
            )
        case .unauthorized(let refused):
            return decision(
                .unauthorized,
                .text(
                    status: refused.status,
                    "Faultline: \(refused.message).\n",
                    headers: rule.defaultHeaders + [refused.challenge]
                )
            )
        case .template(let error):
            return decision(
                .badRequest,
                .text(
                    status: 400,
                    "Faultline: rule \(rule.label) cannot answer \(request.method) \(request.target): \(error.message)\n",
                    headers: rule.defaultHeaders
                )
            )
        case .rateLimited(let seconds):
            let limit = rule.rateLimit
            var response = ResolvedResponse.text(
                status: 429,
                "Faultline: rule \(rule.label) allows \(limit?.requests ?? 0) requests per \(DurationSyntax.format(limit?.per ?? .zero)).\n",
                headers: rule.defaultHeaders
            )
            response.retryAfter = String(seconds)
            return decision(.rateLimited, response)
        }
    }

    /// 501, 405, 415, 406 or 404, from how close the rules came. Runs outside the engine's lock but for a read of the
    /// weighed rules' counters, and weighs at most `explanationLimit` rules.
    private func noRuleAnswers(
        _ request: IncomingRequest,
        candidates: [Int],
        regexGaveUp: [Int],
        now: ContinuousClock.Instant
    ) -> Decision {
        let defaults = self.scenario.defaultHeaders
        let rules = self.scenario.rules
        if !HTTPSyntax.knownMethods.contains(request.method), !self.ruleMethods.contains(request.method) {
            return Decision(
                kind: .notImplemented,
                response: .text(
                    status: 501,
                    "Faultline: the method \(request.method) is not implemented.\n",
                    headers: defaults
                )
            )
        }
        // The weighed rules' misses, worked out once for the 405, 415, 406 and 404 below.
        let examined = self.explanationRules(for: request, candidates: candidates)
        let gaveUp = Set(regexGaveUp)
        let weighed = examined.map { index in
            (index: index, misses: RequestMatcher.misses(rules[index], request, regexGaveUp: gaveUp.contains(index)))
        }
        let misses = weighed.map(\.misses)
        let nearMisses = misses.filter { $0.count == 1 }.map { $0[0] }
        if nearMisses.contains(where: \.isMethod) {
            var response = ResolvedResponse.text(
                status: 405,
                "Faultline: \(request.path) does not take \(request.method).\n",
                headers: defaults
            )
            response.allow = self.allowedMethods(weighed: weighed, excluding: nil)
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
        // Only the counters the explanation quotes are read under the lock, and only the weighed rules'.
        let (counters, elapsed) = self.state.withLock { state in
            (
                examined.map { (state.rules[$0].answered, state.rules[$0].skipped, state.enabled[$0]) },
                now - state.startedAt
            )
        }
        let weighedRules = zip(weighed, counters).map { weighed, counter in
            MissReport.WeighedRule(
                index: weighed.index,
                misses: weighed.misses,
                answered: counter.0,
                skipped: counter.1,
                enabled: counter.2
            )
        }
        let report = MissReport(request: request, rules: rules, weighed: weighedRules, elapsed: elapsed)
        return Decision(kind: .unmatched, response: .text(status: 404, report.text, headers: defaults))
    }

    /// The methods of the rules that match the request in every way but the method, in a conventional order, with
    /// HEAD beside GET. A rule that takes any method contributes the common ones. Only rules whose path may match can,
    /// so only the candidates are weighed (at most `explanationLimit - neighbourLimit` of them).
    private func allowedMethods(for request: IncomingRequest, candidates: [Int], excluding excluded: Int?) -> [String] {
        let rules = self.scenario.rules
        let weighed = candidates.prefix(Self.explanationLimit - Self.neighbourLimit).map { index in
            (index: index, misses: RequestMatcher.misses(rules[index], request))
        }
        return self.allowedMethods(weighed: weighed, excluding: excluded)
    }

    /// The same, from the weighed rules' misses.
    private func allowedMethods(
        weighed: [(index: Int, misses: [RequestMatcher.Miss])],
        excluding excluded: Int?
    ) -> [String] {
        var methods: Set<String> = []
        for (index, misses) in weighed where index != excluded && misses.allSatisfy(\.isMethod) {
            methods.formUnion(self.scenario.rules[index].methods ?? Self.commonMethods)
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
    /// Whether the rule, or one of its sequence steps, answers with `proxy`.
    var proxies: Bool {
        switch self.response {
        case .single(let spec): spec.proxy != nil
        case .sequence(let steps, _): steps.contains { $0.proxy != nil }
        }
    }

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
        ResolvedResponse(
            status: status,
            headers: headers,
            body: .bytes(Array(text.utf8), contentType: "text/plain; charset=utf-8")
        )
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
