import NIOCore

/// Sits just below `NIOHTTP2Handler`, where frames are bytes: it writes the bytes HTTP/2 faults need where the next
/// frame belongs (`garbage`, a DATA frame after END_STREAM), spreads the next frame's bytes over a duration
/// (`slowHeaders`), and advertises the scenario's `maxConcurrentStreams` in the connection's first SETTINGS frame,
/// while SwiftNIO's own, higher limit stays in force: a stream beyond the advertised limit then gets RST_STREAM
/// REFUSED_STREAM from Faultline, as real servers answer it, rather than NIO's connection error.
final class HTTP2FrameTap: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    /// How often a slow head gets its next piece.
    static let slowTick: TimeAmount = .milliseconds(50)

    /// The `SETTINGS_MAX_CONCURRENT_STREAMS` value to put on the wire, if any.
    private let advertisedMaxConcurrentStreams: UInt32?
    private var settingsSeen = false
    private var context: ChannelHandlerContext?
    /// The next write is spread over this long.
    private var paceNextWrite: TimeAmount?
    /// Writes held while a paced write dribbles out, in order.
    private var held: [(IOData, EventLoopPromise<Void>?)] = []
    private var dribbling = false

    init(advertisedMaxConcurrentStreams: Int?) {
        self.advertisedMaxConcurrentStreams = advertisedMaxConcurrentStreams.map { UInt32(clamping: $0) }
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        var data = self.unwrapOutboundIn(data)
        if !self.settingsSeen, case .byteBuffer(var buffer) = data {
            self.settingsSeen = true
            if let value = self.advertisedMaxConcurrentStreams {
                Self.rewriteMaxConcurrentStreams(in: &buffer, to: value)
                data = .byteBuffer(buffer)
            }
        }
        if self.dribbling {
            self.held.append((data, promise))
            return
        }
        if let duration = self.paceNextWrite, case .byteBuffer(let buffer) = data {
            self.paceNextWrite = nil
            self.dribble(buffer, over: duration, promise: promise, context: context)
            return
        }
        context.write(self.wrapOutboundOut(data), promise: promise)
    }

    // MARK: - What the faults ask for

    /// Spreads the next outbound write (the next frame: a slow HEADERS) over `duration`.
    func paceNext(over duration: TimeAmount) {
        self.paceNextWrite = duration
    }

    /// Writes `bytes` where the next frame belongs, below HTTP/2.
    func writeRaw(_ bytes: [UInt8]) -> EventLoopFuture<Void>? {
        guard let context = self.context else { return nil }
        return context.writeAndFlush(self.wrapOutboundOut(.byteBuffer(context.channel.allocator.buffer(bytes: bytes))))
    }

    // MARK: - Helpers

    private func dribble(
        _ buffer: ByteBuffer,
        over duration: TimeAmount,
        promise: EventLoopPromise<Void>?,
        context: ChannelHandlerContext
    ) {
        self.dribbling = true
        let bytes = Array(buffer.readableBytesView)
        let ticks = Int(duration.nanoseconds / Self.slowTick.nanoseconds)
        let wanted = max(1, min(bytes.count, ticks + 1))
        let pieceSize = max(1, (bytes.count + wanted - 1) / wanted)
        let pieces = (bytes.count + pieceSize - 1) / pieceSize
        let interval = TimeAmount.nanoseconds(pieces > 1 ? duration.nanoseconds / Int64(pieces - 1) : 0)
        func send(_ rest: ArraySlice<UInt8>) {
            let piece = rest.prefix(pieceSize)
            let remaining = rest.dropFirst(piece.count)
            context.writeAndFlush(
                self.wrapOutboundOut(.byteBuffer(context.channel.allocator.buffer(bytes: piece))),
                promise: remaining.isEmpty ? promise : nil
            )
            guard !remaining.isEmpty else {
                self.dribbling = false
                let held = self.held
                self.held = []
                for (data, promise) in held { context.write(self.wrapOutboundOut(data), promise: promise) }
                context.flush()
                return
            }
            context.eventLoop.assumeIsolated().scheduleTask(in: interval) { send(remaining) }
        }
        send(bytes[...])
    }

    /// Rewrites the value of `SETTINGS_MAX_CONCURRENT_STREAMS` in a buffer that starts with a SETTINGS frame (type 4
    /// on stream 0, entries of a 2-byte identifier and a 4-byte value; RFC 9113 section 6.5.1).
    static func rewriteMaxConcurrentStreams(in buffer: inout ByteBuffer, to value: UInt32) {
        let start = buffer.readerIndex
        guard buffer.readableBytes >= 9,
            let length = buffer.getInteger(at: start, as: UInt16.self).flatMap({ high in
                buffer.getInteger(at: start + 2, as: UInt8.self).map { Int(high) << 8 | Int($0) }
            }),
            buffer.getInteger(at: start + 3, as: UInt8.self) == 0x4,
            buffer.getInteger(at: start + 5, as: UInt32.self) == 0,
            buffer.readableBytes >= 9 + length
        else { return }
        var offset = start + 9
        while offset + 6 <= start + 9 + length {
            if buffer.getInteger(at: offset, as: UInt16.self) == 0x3 {
                buffer.setInteger(value, at: offset + 2)
            }
            offset += 6
        }
    }
}

@available(*, unavailable)
extension HTTP2FrameTap: Sendable {}
