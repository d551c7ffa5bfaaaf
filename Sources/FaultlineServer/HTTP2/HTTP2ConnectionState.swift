import FaultlineCore
import NIOCore
import NIOHTTP2

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the streams of one HTTP/2 connection share: the connection's info, its settings, how many streams are open
/// (a stream beyond `maxConcurrentStreams` is refused), whether a GOAWAY went out (the connection closes once the
/// streams it lets finish are done), and the ways to act on the whole connection a fault needs (the frame tap below
/// HTTP/2, a FIN, a TCP RST). Lives on the connection's event loop.
final class HTTP2ConnectionState {
    let info: ConnectionInfo
    let spec: HTTP2Spec
    /// The connection's channel (the streams' parent).
    let channel: any Channel
    /// Writes bytes where frames belong, and paces them.
    let tap: HTTP2FrameTap
    /// The context next to the socket: closes through it bypass TLS.
    let socketContext: ChannelHandlerContext?
    /// The streams open now, by id.
    private(set) var openStreams: Set<Int> = []
    /// Every stream's channel, to pass the connection's events on to them.
    private var streamChannels: [Int: any Channel] = [:]
    /// The last-stream-id of the GOAWAY sent, once one is.
    private(set) var goawayLastStreamID: Int?
    /// The GOAWAY is on its way: closing before would lose it (NIO closes the refused streams while it is written).
    private var goawayWritten = false
    private var closing = false

    init(
        info: ConnectionInfo,
        spec: HTTP2Spec,
        channel: any Channel,
        tap: HTTP2FrameTap,
        socketContext: ChannelHandlerContext?
    ) {
        self.info = info
        self.spec = spec
        self.channel = channel
        self.tap = tap
        self.socketContext = socketContext
    }

    /// A new stream from the client: `false` when it must be refused (RST_STREAM REFUSED_STREAM): the streams open
    /// already reach `maxConcurrentStreams`, or a GOAWAY has gone out below it.
    func admit(stream id: Int) -> Bool {
        if let last = self.goawayLastStreamID, id > last { return false }
        guard self.openStreams.count < self.spec.maxConcurrentStreams else { return false }
        self.openStreams.insert(id)
        return true
    }

    /// A stream ended; after a GOAWAY the connection closes with the last stream it let finish.
    func streamClosed(_ id: Int) {
        self.openStreams.remove(id)
        self.streamChannels.removeValue(forKey: id)
        // NIO closes a stream as its last frame goes out, before that write completes: close on the next tick.
        self.channel.eventLoop.assumeIsolated().execute { self.closeIfGoawayDone() }
    }

    /// Notes a stream's channel, for `broadcast`.
    func register(stream id: Int, channel: any Channel) {
        self.streamChannels[id] = channel
    }

    /// Passes a connection's event (the server stopping, the control API's reset) to every stream.
    func broadcast(_ event: Any) {
        for channel in self.streamChannels.values {
            channel.pipeline.syncOperations.fireUserInboundEventTriggered(event)
        }
    }

    /// Sends GOAWAY with `code`, its last-stream-id below `stream` when `refusing`, else at it.
    func goaway(_ code: HTTP2ErrorName, stream: Int, refusing: Bool) -> EventLoopFuture<Void> {
        let last = refusing ? max(0, stream - 2) : stream
        self.goawayLastStreamID = min(self.goawayLastStreamID ?? last, last)
        let frame = HTTP2Frame(
            streamID: .rootStream,
            payload: .goAway(
                lastStreamID: HTTP2StreamID(last),
                errorCode: HTTP2ErrorCode(networkCode: Int(code.value)),
                opaqueData: nil
            )
        )
        let written = self.channel.writeAndFlush(frame)
        written.assumeIsolated().whenComplete { _ in
            // The stream that sent it may still be open (`goawayAfter` closes it next); the check repeats then.
            self.goawayWritten = true
            self.closeIfGoawayDone()
        }
        return written
    }

    /// Closes the whole connection: a FIN, or with `reset` a TCP RST from next to the socket.
    func close(reset: Bool) {
        guard !self.closing else { return }
        self.closing = true
        guard reset, let provider = self.channel as? any SocketOptionProvider else {
            self.channel.close(promise: nil)
            return
        }
        let socketContext = self.socketContext
        let channel = self.channel
        SendQueueDrain.wait(on: channel).flatMap {
            provider.setSoLinger(linger(l_onoff: 1, l_linger: 0))
        }.assumeIsolated().whenComplete { _ in
            if let socketContext { socketContext.close(promise: nil) } else { channel.close(promise: nil) }
        }
    }

    private func closeIfGoawayDone() {
        guard let last = self.goawayLastStreamID, self.goawayWritten, !self.closing else { return }
        guard !self.openStreams.contains(where: { $0 <= last }) else { return }
        self.close(reset: false)
    }
}

@available(*, unavailable)
extension HTTP2ConnectionState: Sendable {}
