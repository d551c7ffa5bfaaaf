/// A rule as the engine uses it on every request: shared by reference (no copy of the rule's many fields per
/// request), with every answer that never changes resolved once, when the scenario loads.
final class CompiledRule: Sendable {
    let rule: Rule
    /// `rule.label`, made once (an unnamed rule's is built from its index).
    let label: String
    /// The resolved response of a single-response rule whose answer depends on nothing (no template, no random
    /// choice).
    let staticResponse: ResolvedResponse?
    /// For a sequence: how many answers each step gives, and each step's response resolved once when it is static.
    let stepCounts: [Int]
    let staticSteps: [ResolvedResponse?]
    /// What `staticResponse` (or each of `staticSteps`) sends a plain request, planned once.
    let staticAnswer: PreparedAnswer?
    let staticStepAnswers: [PreparedAnswer?]

    init(_ rule: Rule, loadedAt: Int64) {
        self.rule = rule
        self.label = rule.label
        switch rule.response {
        case .single(let spec):
            self.staticResponse = Self.prepare(spec, of: rule, loadedAt: loadedAt)
            self.stepCounts = []
            self.staticSteps = []
            self.staticAnswer = self.staticResponse.flatMap(PreparedAnswer.init)
            self.staticStepAnswers = []
        case .sequence(let steps, _):
            self.staticResponse = nil
            self.stepCounts = steps.map { $0.times ?? 1 }
            self.staticSteps = steps.map { Self.prepare($0, of: rule, loadedAt: loadedAt) }
            self.staticAnswer = nil
            self.staticStepAnswers = self.staticSteps.map { $0.flatMap(PreparedAnswer.init) }
        }
    }

    /// The sequence step of the `answerNumber`-th answer (0-based); `nil` for a rule with a single response.
    func step(forAnswer answerNumber: Int) -> Int? {
        guard case .sequence(_, let cycle) = self.rule.response else { return nil }
        return SequenceCursor.step(forAnswer: answerNumber, steps: self.stepCounts, cycle: cycle)
    }

    /// The response of `step` (`nil`: the single response) as the scenario gives it.
    func spec(step: Int?) -> ResponseSpec {
        switch self.rule.response {
        case .single(let spec): spec
        case .sequence(let steps, _): steps[step ?? 0]
        }
    }

    /// The response of `step` resolved once, when it never varies.
    func staticResponse(step: Int?) -> ResolvedResponse? {
        guard let step else { return self.staticResponse }
        return self.staticSteps[step]
    }

    /// What the response of `step` sends a plain request, planned once, when it never varies.
    func staticAnswer(step: Int?) -> PreparedAnswer? {
        guard let step else { return self.staticAnswer }
        return self.staticStepAnswers[step]
    }

    /// Resolves a response once when nothing in it varies from one request to the next.
    private static func prepare(_ spec: ResponseSpec, of rule: Rule, loadedAt: Int64) -> ResolvedResponse? {
        guard spec.isStatic, rule.requestSeed == nil else { return nil }
        var generator = SeededGenerator(seed: 0)
        guard
            var response = try? ResponseResolver.resolve(
                spec,
                defaultHeaders: rule.defaultHeaders,
                context: TemplateContext(),
                generator: &generator
            )
        else { return nil }
        if !response.lastModifiedIsExplicit { response.lastModified = loadedAt }
        response.lastModifiedText = response.lastModified.map { HTTPDate.format(secondsSince1970: $0) }
        if case .bytes(let bytes, _) = response.body { response.bodyETag = EntityTag.forBytes(bytes) }
        return response
    }
}

extension ResponseSpec {
    /// Whether resolving the spec gives the same response for every request: no template and no random choice.
    var isStatic: Bool {
        func fixedDelay(_ delay: Templated<DelaySpec>?) -> Bool {
            switch delay {
            case .none, .fixed(.fixed): true
            default: false
            }
        }
        if case .template = self.status { return false }
        if self.headers.contains(where: { $0.value.isTemplate }) { return false }
        if self.location?.isTemplate ?? false { return false }
        if self.etag?.isTemplate ?? false { return false }
        if case .template = self.retryAfter { return false }
        if !fixedDelay(self.delay) || !fixedDelay(self.bodyDelay) { return false }
        switch self.body {
        case .text(let template) where template.isTemplate: return false
        case .generated(.template): return false
        default: break
        }
        if self.stream?.isTemplated ?? false { return false }
        switch self.throttle {
        case .rate(.template), .over(.template): return false
        default: break
        }
        switch self.fault {
        case .garbage, .hang(.template?), .truncate(.template), .resetAfter(.template), .slowHeaders(.template),
            .cutAfter(.template), .stallAfter(.template), .resetAfterEvents(.template),
            .rstStream(_, afterBytes: .template?):
            return false
        default:
            return true
        }
    }
}
