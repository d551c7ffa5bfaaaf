import NIOCore

/// Counts the bytes a connection receives before the HTTP decoder sees them, so the request timeout can tell an
/// idle keep-alive connection (closed quietly) from a request head that is taking too long (408).
final class InboundByteCounter: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    /// Bytes received so far.
    private(set) var total: Int64 = 0

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.total += Int64(self.unwrapInboundIn(data).readableBytes)
        context.fireChannelRead(data)
    }
}

@available(*, unavailable)
extension InboundByteCounter: Sendable {}
