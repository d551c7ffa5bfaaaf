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
    /// The counters made so far, by their labels: making one goes through the registry's lock and checks.
    private let counters = Mutex<[CounterKey: Metrics.Counter]>([:])

    /// A counter's name and labels, as a dictionary key.
    struct CounterKey: Hashable {
        let label: String
        let first: String
        let second: String
        let third: String
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
        let status = entry.status
        let outcome = entry.outcome.rawValue
        self.counter(CounterKey(label: "faultline_requests_total", first: rule, second: String(status), third: outcome))
        {
            [("rule", rule), ("status", String(status)), ("outcome", outcome)]
        }.increment()
        if let fault = entry.fault {
            self.counter(CounterKey(label: "faultline_faults_total", first: rule, second: fault, third: "")) {
                [("rule", rule), ("fault", fault)]
            }.increment()
        }
    }

    private func counter(_ key: CounterKey, dimensions: () -> [(String, String)]) -> Metrics.Counter {
        self.counters.withLock { counters in
            if let counter = counters[key] { return counter }
            let counter = Metrics.Counter(label: key.label, dimensions: dimensions(), factory: self.factory)
            counters[key] = counter
            return counter
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
