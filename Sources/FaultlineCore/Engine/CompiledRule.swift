/// A rule as the engine uses it on every request: shared by reference (no copy of the rule's many fields per
/// request), with the answer of a rule that never changes resolved once, when the scenario loads.
final class CompiledRule: Sendable {
    let rule: Rule
    /// The resolved response of a rule whose answer depends on nothing (no template, no random choice).
    let staticResponse: ResolvedResponse?

    init(_ rule: Rule, loadedAt: Int64) {
        self.rule = rule
        self.staticResponse = Self.prepare(rule, loadedAt: loadedAt)
    }

    /// Resolves the response once when nothing in it varies from one request to the next.
    private static func prepare(_ rule: Rule, loadedAt: Int64) -> ResolvedResponse? {
        guard case .single(let spec) = rule.response, spec.isStatic, rule.requestSeed == nil else { return nil }
        var generator = SeededGenerator(seed: 0)
        guard var response = try? ResponseResolver.resolve(
            spec,
            defaultHeaders: rule.defaultHeaders,
            context: TemplateContext(),
            generator: &generator
        ) else { return nil }
        // A 405's Allow depends on the request.
        guard response.status != 405 else { return nil }
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
        switch self.throttle {
        case .rate(.template), .over(.template): return false
        default: break
        }
        switch self.fault {
        case .garbage, .hang(.template?), .truncate(.template), .resetAfter(.template), .slowHeaders(.template):
            return false
        default:
            return true
        }
    }
}
