import Dispatch

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Catches SIGINT and SIGTERM from the moment it is installed, so a signal that arrives while the server is still
/// starting is not lost (nor kills the process before it can shut down cleanly).
// Immutable after init, and dispatch sources are thread-safe.
final class TerminationSignal: @unchecked Sendable {
    private let stream: AsyncStream<String>
    private let sources: [any DispatchSourceSignal]

    /// Starts catching the signals.
    init() {
        let (stream, continuation) = AsyncStream.makeStream(of: String.self)
        var sources: [any DispatchSourceSignal] = []
        for (number, name) in [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM")] {
            // Dispatch delivers the signal only once the default action is switched off.
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { continuation.yield(name) }
            source.resume()
            sources.append(source)
        }
        self.stream = stream
        self.sources = sources
    }

    /// Returns the name of the first signal received.
    func wait() async -> String {
        await self.next() ?? "SIGTERM"
    }

    /// The next signal's name, or `nil` when the task is cancelled.
    func next() async -> String? {
        var iterator = self.stream.makeAsyncIterator()
        return await iterator.next()
    }
}
