import CFaultlineSystem
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Catches SIGINT and SIGTERM from the moment it is installed, so a signal that arrives while the server is still
/// starting is not lost (nor kills the process before it can shut down cleanly).
///
/// A `sigaction` handler writes each signal into a pipe (the self-pipe pattern) and a thread of its own reads it: a
/// dispatch signal source was seen to miss a SIGTERM now and then on a loaded machine.
// Immutable after init; the stream is thread-safe.
final class TerminationSignal: @unchecked Sendable {
    private let stream: AsyncStream<String>

    /// Starts catching the signals.
    init() {
        let (stream, continuation) = AsyncStream.makeStream(of: String.self)
        self.stream = stream
        let descriptor = faultline_catch_termination_signals()
        guard descriptor >= 0 else { return }
        let reader = Thread {
            var byte: UInt8 = 0
            while true {
                let count = read(descriptor, &byte, 1)
                if count == 1 {
                    continuation.yield(CInt(byte) == SIGINT ? "SIGINT" : "SIGTERM")
                } else if count < 0, errno == EINTR {
                    continue
                } else {
                    return
                }
            }
        }
        reader.name = "faultline-signals"
        reader.start()
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
