import FaultlineCore
import NIOCore
import NIOHPACK

/// Completes an HTTP/1.1 `Upgrade: h2c` (RFC 7540 section 3.2) on top of swift-nio-http2, which has no upgrade of
/// its own: after the `101 Switching Protocols`, the client sends the HTTP/2 connection preface and its SETTINGS;
/// this handler lets those through, then hands HTTP/2 the upgraded request as a HEADERS frame on stream 1 with
/// END_STREAM, as if the client had sent it there, so the request is answered on stream 1 as the RFC says. The header
/// block is encoded without indexing, so the decoder's table stays as the client's encoder expects it.
final class H2CUpgradeInjector: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    /// The connection-specific fields an HTTP/1.1 request has and HTTP/2 forbids.
    static let connectionFields: Set<String> = [
        "connection", "upgrade", "http2-settings", "host", "keep-alive", "proxy-connection", "transfer-encoding", "te",
    ]

    private let headerBlock: ByteBuffer
    private var buffered: ByteBuffer?
    private var done = false

    /// Prepares stream 1's HEADERS for `request`; `nil` when its header block does not fit one 16 KiB frame.
    init?(request: IncomingRequest) {
        var headers = HPACKHeaders()
        headers.add(name: ":method", value: request.method, indexing: .nonIndexable)
        headers.add(name: ":scheme", value: "http", indexing: .nonIndexable)
        headers.add(name: ":path", value: request.target, indexing: .nonIndexable)
        if let host = request.headers.first(named: "Host") {
            headers.add(name: ":authority", value: host, indexing: .nonIndexable)
        }
        for field in request.headers where !Self.connectionFields.contains(field.name.lowercased()) {
            headers.add(name: field.name.lowercased(), value: field.value, indexing: .nonIndexable)
        }
        var encoder = HPACKEncoder(allocator: ByteBufferAllocator(), useHuffmanEncoding: false)
        var block = ByteBuffer()
        guard (try? encoder.encode(headers: headers, to: &block)) != nil, block.readableBytes <= 16_384 else {
            return nil
        }
        self.headerBlock = block
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !self.done else {
            context.fireChannelRead(data)
            return
        }
        var incoming = self.unwrapInboundIn(data)
        if var buffered = self.buffered {
            buffered.writeBuffer(&incoming)
            incoming = buffered
        }
        // The preface, then the first frame (the client's SETTINGS): 9 bytes of header and its payload.
        let prefaceLength = ProtocolSniffer.preface.count
        guard incoming.readableBytes >= prefaceLength + 9,
            let lengthHigh = incoming.getInteger(at: incoming.readerIndex + prefaceLength, as: UInt16.self),
            let lengthLow = incoming.getInteger(at: incoming.readerIndex + prefaceLength + 2, as: UInt8.self)
        else {
            self.buffered = incoming
            return
        }
        let firstFrameEnd = prefaceLength + 9 + (Int(lengthHigh) << 8 | Int(lengthLow))
        guard incoming.readableBytes >= firstFrameEnd else {
            self.buffered = incoming
            return
        }
        self.done = true
        self.buffered = nil
        guard let head = incoming.readSlice(length: firstFrameEnd) else { return }
        context.fireChannelRead(self.wrapInboundOut(head))
        context.fireChannelRead(self.wrapInboundOut(self.headersFrame(allocator: context.channel.allocator)))
        if incoming.readableBytes > 0 {
            context.fireChannelRead(self.wrapInboundOut(incoming))
        }
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    /// A HEADERS frame (type 1) with END_STREAM and END_HEADERS (flags 0x5) on stream 1.
    private func headersFrame(allocator: ByteBufferAllocator) -> ByteBuffer {
        var frame = allocator.buffer(capacity: 9 + self.headerBlock.readableBytes)
        let length = self.headerBlock.readableBytes
        frame.writeInteger(UInt8(length >> 16 & 0xFF))
        frame.writeInteger(UInt16(length & 0xFFFF))
        frame.writeInteger(UInt8(0x1))
        frame.writeInteger(UInt8(0x5))
        frame.writeInteger(UInt32(1))
        var block = self.headerBlock
        frame.writeBuffer(&block)
        return frame
    }
}

@available(*, unavailable)
extension H2CUpgradeInjector: Sendable {}
