public import FaultlineCore
import Foundation
import Synchronization

/// What the control API works on: the live scenario and its source, the journal, the metrics, the open
/// connections, and the token that guards it.
public final class ServerControl: Sendable {
    /// The scenario text as loaded, for `GET /__faultline/scenario`.
    public struct Source: Sendable {
        public var yaml: String
        /// The folder of the scenario the server started with: `bodyFile` and certificate paths in a scenario sent
        /// to the API are relative to it and must stay inside it. `nil` when the scenario came from no file (the
        /// built-in one): such a scenario may name no file at all.
        public var baseDirectory: String?

        public init(yaml: String, baseDirectory: String?) {
            self.yaml = yaml
            self.baseDirectory = baseDirectory
        }
    }

    public let live: LiveScenario
    public let recorder: ServerRecorder
    let connections = ConnectionRegistry()
    /// When set, the control API wants `Authorization: Bearer TOKEN` from everyone, loopback clients included;
    /// when not, it answers loopback clients only.
    public let adminToken: String?
    /// Names besides the loopback ones the control API answers to (`--admin-host`).
    public let adminHosts: [String]
    /// The rules of who may use the control API, built once from the token and the names.
    let access: ControlAccess
    /// The `--seed` that overrides every scenario's seed, reloaded ones included.
    public let seedOverride: UInt64?
    /// A rule appended to every scenario loaded from now on (`--upstream`'s pass-through), reloaded ones included.
    public let lastRule: Rule?
    private let source: Mutex<Source>

    public init(
        live: LiveScenario,
        source: Source,
        recorder: ServerRecorder = ServerRecorder(),
        adminToken: String? = nil,
        adminHosts: [String] = [],
        seedOverride: UInt64? = nil,
        lastRule: Rule? = nil
    ) {
        self.live = live
        self.source = Mutex(source)
        self.recorder = recorder
        self.adminToken = adminToken
        self.adminHosts = adminHosts
        self.access = ControlAccess(adminToken: adminToken, adminHosts: adminHosts)
        self.seedOverride = seedOverride
        self.lastRule = lastRule
    }

    /// The metrics the recorder counts.
    public var metrics: ServerMetrics { self.recorder.metrics }

    /// The scenario's text as last loaded.
    public var scenarioSource: Source { self.source.withLock { $0 } }

    /// Serves `scenario` from now on (a `PUT scenario` or a `--watch` reload): counters and windows start over, the
    /// journal is kept; connections already open keep their limits; listeners are not rebound.
    ///
    /// The old engine is let go here (nothing else holds it: requests keep their decisions, not the engine), and
    /// the memory it took is given back to the system.
    public func replace(with scenario: Scenario, source: Source) {
        let served = self.lastRule.map { scenario.appending($0) } ?? scenario
        self.live.replace(with: RuleEngine(scenario: served, seed: self.seedOverride))
        self.source.withLock { $0 = source }
        MemoryRelease.giveBackFreeMemory()
    }

    /// Forgets the journal's entries (`DELETE /__faultline/journal`) and gives the memory they took back to the
    /// system.
    public func clearJournal() {
        self.recorder.journal.clear()
        MemoryRelease.giveBackFreeMemory()
    }

    /// Puts counters, windows, rate limits and the journal back to the start, and closes responses in flight that
    /// wait on a delay, a pause or a hang.
    public func reset() {
        self.live.engine.reset()
        self.clearJournal()
        self.connections.broadcast(ResetEvent())
    }

    /// The verdict on the client so far.
    public func expectations() -> ExpectationReport {
        let journal = self.recorder.journal
        return ExpectationEvaluator.evaluate(
            self.live.engine.scenario.expectations,
            journal: journal.entries(),
            droppedEntries: journal.droppedCount
        )
    }
}
