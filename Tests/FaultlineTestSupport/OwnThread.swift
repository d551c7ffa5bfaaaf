import Foundation

/// Runs blocking work (a process for seconds, a GiB file written or compared) on a thread of its own and waits for
/// it without holding a thread. Swift Testing runs every test, the synchronous ones too, on Swift's cooperative
/// pool, one thread per core: a test that blocks one of them for seconds holds up every other test's async steps, so
/// their `eventually` polls and delays see a world that stood still. Expectations stay in the test, outside `work`.
public func onOwnThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try work() }) }
        thread.start()
    }
}
