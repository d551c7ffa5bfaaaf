import FaultlineCore
import Metrics
import Prometheus
import Synchronization

/// The server's metrics, through swift-metrics into a Prometheus registry of the server's own (so several servers
/// in one process, as in tests, keep theirs apart): requests by rule, status and outcome, faults injected, the
/// delay histogram, and open connections.
public final class ServerMetrics: Sendable {
    private let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory
    private let openConnections: Metrics.Gauge
    private let delays: Metrics.Timer
    /// The counters made so far, by their labels: making one goes through the registry's lock and checks. Keyed by
    /// the values themselves (a status as a number, not its text), so finding one per request hashes little.
    private let counters = Mutex<Counters>(Counters())

    struct Counters {
        var requests: [RequestKey: Metrics.Counter] = [:]
        var faults: [FaultKey: Metrics.Counter] = [:]
    }

    /// The labels of `faultline_requests_total`.
    struct RequestKey: Hashable {
        let rule: String
        let status: Int
        let outcome: JournalEntry.Outcome
    }

    /// The labels of `faultline_faults_total`.
    struct FaultKey: Hashable {
        let rule: String
        let fault: String
    }

    public init() {
        var factory = PrometheusMetricsFactory(registry: self.registry)
        factory.defaultDurationHistogramBuckets = [
            .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(50), .milliseconds(100),
            .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
            .seconds(30),
        ]
        self.factory = factory
        self.openConnections = Metrics.Gauge(label: "faultline_open_connections", factory: factory)
        self.delays = Metrics.Timer(label: "faultline_response_delay_seconds", factory: factory)
    }

    /// Counts a finished exchange.
    func record(_ entry: JournalEntry) {
        let rule = entry.rule ?? "none"
        let requests = RequestKey(rule: rule, status: entry.status, outcome: entry.outcome)
        let fault = entry.fault.map { FaultKey(rule: rule, fault: $0) }
        let (counter, faultCounter) = self.counters.withLock { counters in
            (
                counters.requests[requests] ?? self.makeCounter(requests, in: &counters),
                fault.map { counters.faults[$0] ?? self.makeCounter($0, in: &counters) }
            )
        }
        counter.increment()
        faultCounter?.increment()
    }

    private func makeCounter(_ key: RequestKey, in counters: inout Counters) -> Metrics.Counter {
        let counter = Metrics.Counter(
            label: "faultline_requests_total",
            dimensions: [("rule", key.rule), ("status", String(key.status)), ("outcome", key.outcome.rawValue)],
            factory: self.factory
        )
        counters.requests[key] = counter
        return counter
    }

    private func makeCounter(_ key: FaultKey, in counters: inout Counters) -> Metrics.Counter {
        let counter = Metrics.Counter(
            label: "faultline_faults_total",
            dimensions: [("rule", key.rule), ("fault", key.fault)],
            factory: self.factory
        )
        counters.faults[key] = counter
        return counter
    }

    /// Records a response's delay before its status line.
    func recordDelay(_ delay: Duration) {
        self.delays.recordNanoseconds(delay.nanoseconds)
    }

    /// Sets the number of open connections.
    func setOpenConnections(_ count: Int) {
        self.openConnections.record(count)
    }

    /// The metrics in Prometheus's text format.
    public func prometheusText() -> String {
        self.registry.emitToString()
    }
}
