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
        Counter(
            label: "faultline_requests_total",
            dimensions: [("rule", rule), ("status", String(entry.status)), ("outcome", entry.outcome.rawValue)],
            factory: self.factory
        ).increment()
        if let fault = entry.fault {
            Counter(label: "faultline_faults_total", dimensions: [("rule", rule), ("fault", fault)], factory: self.factory).increment()
        }
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
