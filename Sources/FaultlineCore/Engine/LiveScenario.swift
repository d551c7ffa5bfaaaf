import Synchronization

/// The scenario a running server answers from. Reloads replace the engine as a whole, so a request is always
/// decided by one consistent scenario, never a half-applied one.
public final class LiveScenario: Sendable {
    private let current: Mutex<RuleEngine>

    public init(_ engine: RuleEngine) {
        self.current = Mutex(engine)
    }

    /// The engine in use now.
    public var engine: RuleEngine {
        self.current.withLock { $0 }
    }

    /// Serves `engine` from now on; requests already decided keep their answers.
    public func replace(with engine: RuleEngine) {
        self.current.withLock { $0 = engine }
    }
}
