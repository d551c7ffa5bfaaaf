import FaultlineCore
import FaultlineTesting
import Foundation

/// Runs `body` against an in-process server for a scenario given as YAML, on a free port.
func withServer<T: Sendable>(
    _ yaml: String,
    baseDirectory: String? = nil,
    threads: Int = 1,
    _ body: (RunningFaultline) async throws -> T
) async throws -> T {
    try await withFaultline(scenario: .yaml(yaml, baseDirectory: baseDirectory), eventLoopThreads: threads, body)
}

/// Seconds on a monotonic clock.
func now() -> Double {
    Double(DispatchTime.now().uptimeNanoseconds) / 1e9
}

/// Polls `condition` until it holds or `timeout` passes.
func eventually(timeout: Double = 20, _ condition: () -> Bool) async -> Bool {
    let deadline = now() + timeout
    while now() < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}
