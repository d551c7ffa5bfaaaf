import FaultlineCore
import NIOCore
import NIOHTTP2

/// Sets a connection up to speak HTTP/2 with swift-nio-http2: the frame tap below `NIOHTTP2Handler`, the handler
/// with the listener's settings, a `HTTP2StreamHandler` per stream, and the connection's own events (the server
/// stopping, the control API's reset).
enum HTTP2Pipeline {
    /// SwiftNIO enforces a limit on concurrent streams as a connection error; Faultline keeps NIO's limit this far
    /// above the advertised one and refuses the streams in between itself, with RST_STREAM REFUSED_STREAM.
    static let refusalMargin = 1000

    /// Adds the HTTP/2 handlers at the end of `channel`'s pipeline. Call it on the channel's event loop.
    static func configure(
        _ channel: any Channel,
        environment: ConnectionEnvironment,
        spec: HTTP2Spec,
        limits: Limits,
        info: ConnectionInfo
    ) throws {
        let sync = channel.pipeline.syncOperations
        let tap = HTTP2FrameTap(advertisedMaxConcurrentStreams: spec.maxConcurrentStreams)
        try sync.addHandler(tap)
        var connection = NIOHTTP2Handler.ConnectionConfiguration()
        connection.initialSettings = [
            HTTP2Setting(parameter: .maxConcurrentStreams, value: spec.maxConcurrentStreams + Self.refusalMargin),
            HTTP2Setting(parameter: .initialWindowSize, value: spec.initialWindowSize),
            HTTP2Setting(parameter: .maxFrameSize, value: spec.maxFrameSize),
            HTTP2Setting(parameter: .maxHeaderListSize, value: Int(clamping: max(limits.maxHeaderSize, 16_384))),
        ]
        // A rule may lie about Content-Length (a lying server is a valid test); NIO would refuse to send that.
        connection.contentLengthValidation = .disabled
        var stream = NIOHTTP2Handler.StreamConfiguration()
        stream.targetWindowSize = max(spec.initialWindowSize, 65_535)
        let socketContext = try? sync.context(handlerType: ConnectionFrontHandler.self)
        let state = HTTP2ConnectionState(
            info: info,
            spec: spec,
            channel: channel,
            tap: tap,
            socketContext: socketContext
        )
        // The streams live on the connection's event loop, where the state is.
        let boundState = NIOLoopBound(state, eventLoop: channel.eventLoop)
        _ = try sync.configureHTTP2Pipeline(
            mode: .server,
            connectionConfiguration: connection,
            streamConfiguration: stream
        ) {
            streamChannel in
            streamChannel.eventLoop.makeCompletedFuture {
                let handler = HTTP2StreamHandler(environment: environment, connection: boundState.value, limits: limits)
                try streamChannel.pipeline.syncOperations.addHandler(handler)
            }
        }
        try sync.addHandler(HTTP2ConnectionEventsHandler(state: state))
    }
}

/// The HTTP/2 connection's own events: when the server stops, a GOAWAY (NO_ERROR) lets the streams in flight finish
/// and refuses new ones; the control API's reset reaches every stream.
final class HTTP2ConnectionEventsHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    private let state: HTTP2ConnectionState
    private var highestStream = 0

    init(state: HTTP2ConnectionState) {
        self.state = state
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case let opened as NIOHTTP2StreamCreatedEvent:
            self.highestStream = max(self.highestStream, Int(Int32(opened.streamID)))
        case is ChannelShouldQuiesceEvent:
            self.state.broadcast(event)
            _ = self.state.goaway(.noError, stream: self.highestStream, refusing: false)
        case is ResetEvent, is GracePeriodEndedEvent:
            self.state.broadcast(event)
        case let event as ChannelEvent where event == .inputClosed:
            // An HTTP/2 client that shuts down its side has left: its streams (a hang among them) end with it.
            context.close(promise: nil)
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }
}

@available(*, unavailable)
extension HTTP2ConnectionEventsHandler: Sendable {}

/// On a plaintext listener with HTTP/2, looks at a connection's first bytes: the HTTP/2 connection preface
/// (`PRI * HTTP/2.0`, prior knowledge) makes the connection HTTP/2; anything else makes it HTTP/1.1 (where an
/// `Upgrade: h2c` request can still switch it). A connection that sends nothing within the request timeout goes to
/// HTTP/1.1 too, whose timeout, counted from the connection's start, answers it.
final class ProtocolSniffer: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    /// The HTTP/2 client connection preface (RFC 9113 section 3.4).
    static let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    /// Adds the handlers of a protocol after the sniffer.
    typealias Installer = (ChannelHandlerContext) throws -> Void

    private let timeout: TimeAmount
    private let installHTTP1: Installer
    private let installHTTP2: Installer
    private var buffered: ByteBuffer?
    private var decided = false
    private var timer: Scheduled<Void>?

    init(timeout: TimeAmount, installHTTP1: @escaping Installer, installHTTP2: @escaping Installer) {
        self.timeout = timeout
        self.installHTTP1 = installHTTP1
        self.installHTTP2 = installHTTP2
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { self.startTimer(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        self.startTimer(context: context)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.timer?.cancel()
        self.timer = nil
    }

    private func startTimer(context: ChannelHandlerContext) {
        guard self.timer == nil, !self.decided else { return }
        self.timer = context.eventLoop.assumeIsolated().scheduleTask(in: self.timeout) {
            self.timer = nil
            self.decide(self.installHTTP1, context: context)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !self.decided else {
            context.fireChannelRead(data)
            return
        }
        var incoming = self.unwrapInboundIn(data)
        if var buffered = self.buffered {
            buffered.writeBuffer(&incoming)
            incoming = buffered
        }
        let seen = Array(incoming.readableBytesView.prefix(Self.preface.count))
        if seen == Array(Self.preface.prefix(seen.count)), seen.count < Self.preface.count {
            // Could still be the preface: wait for more.
            self.buffered = incoming
            return
        }
        self.buffered = incoming
        self.decide(seen == Self.preface ? self.installHTTP2 : self.installHTTP1, context: context)
    }

    /// Installs the protocol's handlers, hands them what arrived so far, and leaves the pipeline.
    private func decide(_ install: Installer, context: ChannelHandlerContext) {
        guard !self.decided else { return }
        self.decided = true
        self.timer?.cancel()
        self.timer = nil
        do {
            try install(context)
        } catch {
            context.close(promise: nil)
            return
        }
        if let buffered = self.buffered {
            self.buffered = nil
            context.fireChannelRead(self.wrapInboundOut(buffered))
        }
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}

@available(*, unavailable)
extension ProtocolSniffer: Sendable {}
