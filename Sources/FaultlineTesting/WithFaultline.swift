@_exported public import FaultlineCore
public import FaultlineServer

/// A Faultline server running in the test's own process, on free loopback ports.
public struct RunningFaultline: Sendable {
    /// The server itself, for what this type does not wrap.
    public let server: FaultlineServer

    /// The first plaintext listener's base URL, without a trailing slash (`http://127.0.0.1:PORT`); the first
    /// listener's when all are TLS.
    public var url: String {
        (self.server.listeners.first { !$0.isTLS } ?? self.server.listeners[0]).url
    }

    /// The first plaintext listener's port.
    public var port: Int {
        (self.server.listeners.first { !$0.isTLS } ?? self.server.listeners[0]).port
    }

    /// The first TLS listener's base URL (`https://localhost:PORT`), when there is one.
    public var httpsURL: String? {
        self.server.listeners.first { $0.isTLS }?.url
    }

    /// The generated test CA's certificate, for the client to trust, when a listener uses one.
    public var caCertificatePEM: String? {
        self.server.certificateAuthority?.certificatePEM
    }

    /// The engine answering requests, for inspecting the scenario and the seed.
    public var engine: RuleEngine { self.server.live.engine }

    /// The journal so far, oldest first: every exchange whose answer the client already has is in it (the server's
    /// event loops finish what they are doing first, as the control API's do).
    public func journal() -> [JournalEntry] {
        self.server.settle()
        return self.server.recorder.journal.entries()
    }

    /// Puts sequences, `times` counters, windows, rate limits and random streams back to their start, clears the
    /// journal, and closes responses that wait on a delay or a hang.
    public func reset() {
        self.server.control.reset()
    }

    /// The scenario's expectations checked against the journal so far.
    public func expectations() -> ExpectationReport {
        self.server.settle()
        return self.server.control.expectations()
    }

    /// The run as a self-contained HTML page: the verdict so far, the timeline of the journal, and the journal as a
    /// table, as `faultline run --report` writes it. Attach it to a failing test to see what the client did.
    public func report() -> String {
        self.server.settle()
        return self.server.control.report()
    }

    /// Checks the scenario's expectations and throws `ExpectationFailure`, whose description is the report, when
    /// one is not met.
    public func verify() throws(ExpectationFailure) {
        let report = self.expectations()
        guard report.allMet else { throw ExpectationFailure(report: report) }
    }

    /// Switches the rules with this name on or off, as the control API's `rules/NAME/enable` does.
    public func setRule(_ name: String, enabled: Bool) {
        self.server.live.engine.setEnabled(enabled, rule: name)
    }
}

/// Expectations a client did not meet; the description is the report.
public struct ExpectationFailure: Error, CustomStringConvertible {
    public let report: ExpectationReport
    public var description: String { self.report.text }
}

/// Starts a Faultline server on loopback with free ports, runs `body` with it, and always shuts the server down,
/// also when `body` throws. The scenario's listeners are kept (plaintext and TLS) but moved to free ports; with
/// none, one plaintext listener is started.
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
    var listeners = loaded.listeners.isEmpty ? [ListenerSpec(host: "127.0.0.1", port: 0)] : loaded.listeners
    for index in listeners.indices { listeners[index].port = 0 }
    let control = ServerControl(
        live: LiveScenario(RuleEngine(scenario: loaded, seed: seed)),
        source: scenario.source,
        seedOverride: seed
    )
    let server = try await FaultlineServer.start(
        control: control,
        configuration: FaultlineServer.Configuration(listeners: listeners, eventLoopThreads: eventLoopThreads)
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
