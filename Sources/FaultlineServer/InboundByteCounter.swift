import NIOCore

/// Sees the bytes a connection receives before the HTTP decoder does: it counts them, so the request timeout can
/// tell an idle keep-alive connection (closed quietly) from a request head that is taking too long (408), and it
/// shows the bytes being decoded to whoever handles a decoding error, to tell a malformed line from another version.
final class InboundByteCounter: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    /// Bytes received so far.
    private(set) var total: Int64 = 0
    /// The buffer being decoded, while the decoder works on it.
    private var current: ByteBuffer?

    /// The start of the bytes being decoded right now (during a decoding error), at most 8 KiB.
    var currentBytes: [UInt8]? {
        self.current.map { Array($0.readableBytesView.prefix(8192)) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = self.unwrapInboundIn(data)
        self.total += Int64(buffer.readableBytes)
        self.current = buffer
        context.fireChannelRead(data)
        self.current = nil
    }
}

@available(*, unavailable)
extension InboundByteCounter: Sendable {}
