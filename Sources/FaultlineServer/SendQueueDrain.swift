import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// Waits until the kernel has delivered (had acknowledged) what was written, before an abortive close: an RST
/// throws away whatever is still queued, so `resetAfter: N` would otherwise deliver fewer than N bytes to a
/// slow reader on a real network.
enum SendQueueDrain {
    /// How long to wait at most before resetting anyway.
    static let limit = TimeAmount.seconds(1)
    static let interval = TimeAmount.milliseconds(5)

    /// Completes when nothing written is unacknowledged, or after `limit`. Call it on the channel's event loop.
    static func wait(on channel: any Channel) -> EventLoopFuture<Void> {
        let promise = channel.eventLoop.makePromise(of: Void.self)
        #if canImport(Glibc)
        guard let provider = channel as? any SocketOptionProvider else {
            promise.succeed()
            return promise.futureResult
        }
        let deadline = NIODeadline.now() + Self.limit
        func poll() {
            let info: EventLoopFuture<tcp_info> = provider.unsafeGetSocketOption(
                level: SocketOptionLevel(IPPROTO_TCP),
                name: SocketOptionName(TCP_INFO)
            )
            info.assumeIsolated().whenComplete { result in
                switch result {
                case .success(let info) where info.tcpi_unacked > 0 && NIODeadline.now() < deadline:
                    channel.eventLoop.assumeIsolated().scheduleTask(in: Self.interval) { poll() }
                default:
                    promise.succeed()
                }
            }
        }
        poll()
        #else
        promise.succeed()
        #endif
        return promise.futureResult
    }
}
