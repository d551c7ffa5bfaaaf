/// The scenario's rules as a responder: each request goes to the live scenario's rule engine, which matches it
/// without holding up other requests, so the responder answers on the event loop.
public struct RuleResponder: Responder {
    /// The scenario being served; a reload replaces its engine.
    public let live: LiveScenario

    public init(live: LiveScenario) {
        self.live = live
    }

    public var mayBlock: Bool { false }
    public var readsBody: Bool { false }
    public var isJournaled: Bool { true }
    /// True when the scenario has `proxy` rules: their request bodies stream to the upstream.
    public var forwardsBodies: Bool { self.live.engine.hasProxyRules }

    public func respond(to request: ResponderRequest) -> Reply {
        Reply(self.live.engine.decide(request.head))
    }

    /// The header fields every answer outside the rules carries too (a 408, a 413): the scenario's `defaults`.
    public var defaultHeaders: [HeaderField] {
        self.live.engine.scenario.defaultHeaders
    }
}
