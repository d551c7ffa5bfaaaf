import NIOCore
import Synchronization

/// The open connections, so the control API can reach them all (a reset closes the responses that wait).
final class ConnectionRegistry: Sendable {
    private let channels = Mutex<[ObjectIdentifier: any Channel]>([:])

    func add(_ channel: any Channel) {
        self.channels.withLock { $0[ObjectIdentifier(channel)] = channel }
    }

    func remove(_ channel: any Channel) {
        self.channels.withLock { _ = $0.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    /// Every connection open now.
    var all: [any Channel] {
        self.channels.withLock { Array($0.values) }
    }

    /// Sends `event` up every open connection's pipeline, on its own event loop.
    func broadcast(_ event: ResetEvent) {
        let all = self.channels.withLock { Array($0.values) }
        for channel in all {
            channel.pipeline.fireUserInboundEventTriggered(event)
        }
    }
}

/// The control API's reset reaching a connection: responses waiting on a delay, a pause or a hang are closed.
struct ResetEvent: Sendable {}

/// The server's grace period ran out while the connection was still open: the server closes it right after this
/// event. Whatever the connection was still doing is the server's cut, to be journaled as `dropped` (not as the
/// client's `client-closed`).
struct GracePeriodEndedEvent: Sendable {}
