public import FaultlineCore
import Foundation
import Synchronization

/// Collects what `proxy` answers passed through, for `faultline record`: every exchange the upstream answered in
/// full, in the order it finished. Small bodies are kept in memory; a body larger than 64 KiB goes to a file in
/// `temporaryFolder` as it streams, so recording a large download takes no more memory than proxying it.
public final class UpstreamRecording: Sendable {
    /// Where bodies larger than 64 KiB are written while they stream.
    public let temporaryFolder: String
    private let exchanges = Mutex<[RecordedExchange]>([])
    private let counter = Atomic<Int>(0)

    /// Records into `temporaryFolder`, which must exist.
    public init(temporaryFolder: String) {
        self.temporaryFolder = temporaryFolder
    }

    /// What was recorded so far, oldest first.
    public func recorded() -> [RecordedExchange] {
        self.exchanges.withLock { $0 }
    }

    func add(_ exchange: RecordedExchange) {
        self.exchanges.withLock { $0.append(exchange) }
    }

    /// A fresh path for a body file.
    func newBodyPath() -> String {
        let number = self.counter.add(1, ordering: .relaxed).newValue
        return URL(fileURLWithPath: self.temporaryFolder).appendingPathComponent("body-\(number).bin").path
    }
}
