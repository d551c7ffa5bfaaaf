public import FaultlineCore
public import FaultlineServer

/// A Faultline server running in the test's own process, on a free loopback port.
public struct RunningFaultline: Sendable {
    /// The server itself, for what this type does not wrap.
    public let server: FaultlineServer

    /// The first listener's base URL, without a trailing slash (`http://127.0.0.1:PORT`).
    public var url: String { self.server.listeners[0].url }

    /// The first listener's port.
    public var port: Int { self.server.listeners[0].port }

    /// The engine answering requests, for inspecting the scenario and the seed.
    public var engine: RuleEngine { self.server.live.engine }

    /// Puts sequences, `times` counters and random streams back to their start.
    public func reset() {
        self.server.live.engine.reset()
    }
}

/// Starts a Faultline server on 127.0.0.1 with a free port, runs `body` with it, and always shuts the server down,
/// also when `body` throws.
///
/// ```swift
/// try await withFaultline(scenario: .yaml("version: 1\nrules: [{path: /x, status: 503}]")) { server in
///     // point the client under test at server.url
/// }
/// ```
///
/// - Parameters:
///   - seed: overrides the scenario's seed.
///   - eventLoopThreads: event loop threads (1 keeps tests light).
public func withFaultline<Result: Sendable>(
    scenario: TestScenario,
    seed: UInt64? = nil,
    eventLoopThreads: Int = 1,
    _ body: (RunningFaultline) async throws -> Result
) async throws -> Result {
    let loaded = try scenario.load()
    var listener = ListenerSpec(host: "127.0.0.1", port: 0)
    if let first = loaded.listeners.first {
        listener.host = first.host
    }
    let server = try await FaultlineServer.start(
        live: LiveScenario(RuleEngine(scenario: loaded, seed: seed)),
        configuration: FaultlineServer.Configuration(listeners: [listener], eventLoopThreads: eventLoopThreads)
    )
    let result: Result
    do {
        result = try await body(RunningFaultline(server: server))
    } catch {
        await server.shutdown(gracePeriod: .zero)
        throw error
    }
    await server.shutdown(gracePeriod: .seconds(5))
    return result
}
