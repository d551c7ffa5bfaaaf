import FaultlineCore
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// The sending half of the exchange handler: delays and pauses as scheduled tasks on the event loop, the head and
/// body through NIO's encoder, faults as raw bytes below it, and a body paced, cut or chunked as the plan says.
/// Nothing here blocks the event loop or holds a thread.
extension HTTPExchangeHandler {
    /// The largest piece of an in-memory or generated body written at once.
    static let chunkSize: Int64 = 64 * 1024
    /// The largest piece of a file written at once (sendfile moves it; the size only bounds how much one write
    /// takes, so the journal's byte count stays close to the truth when a client leaves).
    static let fileChunkSize: Int64 = 1 << 20
    /// The piece of a file read into memory at once for a TLS connection.
    static let tlsFileChunkSize: Int64 = 256 * 1024
    /// How often a throttled body gets its next piece.
    static let throttleTick: Double = 0.05

    /// Waits out the plan's delay on the event loop, then sends.
    func start(_ exchange: Exchange, context: ChannelHandlerContext) {
        self.exchange = exchange
        guard let plan = exchange.plan else { return }
        let nanoseconds = plan.delay.nanoseconds
        guard nanoseconds > 0 else {
            self.send(exchange, context: context)
            return
        }
        self.statistics.delayScheduled()
        self.control.metrics.recordDelay(plan.delay)
        exchange.delayTask = context.eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(nanoseconds)) {
            exchange.delayTask = nil
            self.statistics.delayEnded()
            guard self.exchange === exchange else { return }
            self.send(exchange, context: context)
        }
    }

    private func send(_ exchange: Exchange, context: ChannelHandlerContext) {
        guard let plan = exchange.plan, self.isActive else { return }
        switch plan.action {
        case .drop:
            self.finish(exchange, outcome: .dropped, close: .fin, context: context)
        case .reset:
            self.finish(exchange, outcome: .reset, close: .reset, context: context)
        case .hang(let duration):
            exchange.isHanging = true
            if let duration {
                exchange.hangTask = context.eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(duration.nanoseconds)) {
                    exchange.hangTask = nil
                    self.finish(exchange, outcome: .timeout, close: .fin, context: context)
                }
            }
        case .raw(let bytes):
            if plan.status != 499 { exchange.statusSent = plan.status }
            let promise = self.writeRaw(.byteBuffer(context.channel.allocator.buffer(bytes: bytes)), body: false, exchange, context: context)
            self.rawFlush(context: context)
            promise.futureResult.assumeIsolated().whenComplete { _ in
                self.finish(exchange, outcome: .dropped, close: .fin, context: context)
            }
        case .respond:
            if let whole = self.serializedResponse(plan, context: context) {
                self.sendWhole(whole, plan: plan, exchange, context: context)
                return
            }
            for interim in plan.interim {
                context.write(self.wrapOutboundOut(.head(interim.nioHead)), promise: nil)
            }
            exchange.headSent = true
            if let slow = plan.slowHeaders {
                exchange.rawMode = true
                self.dribble(plan.serializedHead()[...], over: slow, exchange, context: context)
                return
            }
            if plan.isChunked, !Self.encoderFramesChunks(plan) {
                // NIO's encoder frames a body only when the first Transfer-Encoding says exactly `chunked`; for
                // `gzip, chunked` and the like the head and the chunks go below it, framed here.
                exchange.rawMode = true
                exchange.statusSent = plan.status
                let head = context.channel.allocator.buffer(bytes: plan.serializedHead())
                _ = self.writeRaw(.byteBuffer(head), body: false, exchange, context: context)
                self.startBody(exchange, context: context)
                return
            }
            exchange.statusSent = plan.status
            self.count(self.write(.head(plan.nioHead), context: context), bytes: Int64(plan.headLength), body: false, exchange)
            self.startBody(exchange, context: context)
        }
    }

    /// Whether NIO's encoder frames the plan's chunked body itself (it checks the first Transfer-Encoding only).
    static func encoderFramesChunks(_ plan: ResponsePlan) -> Bool {
        plan.headers.first(named: "Transfer-Encoding") == "chunked"
    }

    /// The largest in-memory response sent in one piece.
    static let wholeResponseLimit: Int64 = 64 * 1024

    /// The whole response as one buffer, for the common case that needs no pacing, no fault and no file: one
    /// write and one flush instead of a write per part. `nil` when the plan needs the general path.
    private func serializedResponse(_ plan: ResponsePlan, context: ChannelHandlerContext) -> ByteBuffer? {
        guard plan.interim.isEmpty, plan.slowHeaders == nil, plan.bodyDelay == .zero, plan.bytesPerSecond == nil,
            plan.cut == nil, plan.chunkSize == nil, !plan.isChunked, plan.bodyLength <= Self.wholeResponseLimit
        else { return nil }
        let bytes: [UInt8]
        switch plan.source {
        case .none: bytes = []
        case .bytes(let body, _): bytes = body
        default: return nil
        }
        var buffer = context.channel.allocator.buffer(capacity: plan.headLength + Int(plan.bodyLength))
        plan.writeHead { buffer.writeString($0) }
        for segment in plan.segments {
            switch segment {
            case .bytes(let literal): buffer.writeBytes(literal)
            case .slice(let offset, let length): buffer.writeBytes(bytes[Int(offset)..<Int(offset + length)])
            }
        }
        return buffer
    }

    private func sendWhole(_ whole: ByteBuffer, plan: ResponsePlan, _ exchange: Exchange, context: ChannelHandlerContext) {
        exchange.headSent = true
        exchange.statusSent = plan.status
        exchange.bodyFinished = true
        exchange.firstByteAt = .now()
        let total = Int64(whole.readableBytes)
        let promise = context.eventLoop.makePromise(of: Void.self)
        (self.rawContext ?? context).writeAndFlush(NIOAny(whole), promise: promise)
        promise.futureResult.assumeIsolated().whenComplete { result in
            switch result {
            case .success:
                exchange.bytesSent = total
                exchange.bodyBytesSent = plan.bodyLength
                self.finish(exchange, outcome: .completed, close: nil, context: context)
            case .failure:
                self.finish(exchange, outcome: .clientClosed, close: .fin, context: context)
            }
        }
    }

    /// Writes the head a few bytes at a time, spread evenly over `duration`, then goes on to the body.
    private func dribble(_ head: ArraySlice<UInt8>, over duration: Duration, _ exchange: Exchange, context: ChannelHandlerContext) {
        let pieces = max(1, min(head.count, Int(duration.seconds / Self.throttleTick)))
        let pieceSize = max(1, (head.count + pieces - 1) / pieces)
        let interval = TimeAmount.nanoseconds(duration.nanoseconds / Int64(pieces))
        // The status line is sent once its line break is.
        let statusLineEnd = (head.firstIndex(of: UInt8(ascii: "\n")) ?? head.startIndex) + 1
        func sendPiece(_ rest: ArraySlice<UInt8>) {
            guard self.exchange === exchange, self.isActive else { return }
            let piece = rest.prefix(pieceSize)
            let promise = self.writeRaw(.byteBuffer(context.channel.allocator.buffer(bytes: piece)), body: false, exchange, context: context)
            if piece.endIndex >= statusLineEnd, exchange.statusSent == nil {
                promise.futureResult.assumeIsolated().whenSuccess { exchange.statusSent = exchange.plan?.status }
            }
            self.rawFlush(context: context)
            let remaining = rest.dropFirst(piece.count)
            guard !remaining.isEmpty else {
                self.startBody(exchange, context: context)
                return
            }
            exchange.pauseTask = context.eventLoop.assumeIsolated().scheduleTask(in: interval) {
                exchange.pauseTask = nil
                sendPiece(remaining)
            }
        }
        sendPiece(head)
    }

    /// Starts the body, after `bodyDelay` if there is one.
    private func startBody(_ exchange: Exchange, context: ChannelHandlerContext) {
        guard let plan = exchange.plan else { return }
        exchange.cursor = BodyCursor(plan.segments)
        if plan.bodyDelay > .zero {
            self.flushAll(context: context)
            exchange.pauseTask = context.eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(plan.bodyDelay.nanoseconds)) {
                exchange.pauseTask = nil
                exchange.bodyStartedAt = .now()
                self.pumpBody(context: context)
            }
            return
        }
        exchange.bodyStartedAt = .now()
        self.pumpBody(context: context)
    }

    /// Writes as much of the body as the channel, the throttle and any cut allow, then waits for writability or the
    /// next tick.
    func pumpBody(context: ChannelHandlerContext) {
        guard let exchange = self.exchange, let plan = exchange.plan, exchange.headSent, !exchange.bodyFinished,
            exchange.pauseTask == nil, exchange.tickTask == nil, !exchange.fileReadInFlight
        else { return }
        while context.channel.isWritable {
            var limit: Int64
            if case .file = plan.source { limit = self.isTLS ? Self.tlsFileChunkSize : Self.fileChunkSize } else { limit = Self.chunkSize }
            if let chunkSize = plan.chunkSize { limit = chunkSize }
            if let cut = plan.cut {
                let left = cut.after - exchange.cursor.sent
                if left <= 0 { break }
                limit = min(limit, left)
            }
            if let rate = plan.bytesPerSecond {
                let piece = max(1, Saturating.int64(Double(rate) * Self.throttleTick))
                limit = min(limit, piece)
                let elapsed = Double((NIODeadline.now() - exchange.bodyStartedAt).nanoseconds) / 1e9
                let due = Saturating.int64(Double(rate) * elapsed) &- exchange.cursor.sent
                if due <= 0 {
                    // Come back when the next piece is due.
                    let dueAt = Double(exchange.cursor.sent + limit) / Double(rate)
                    let wait = min(max(0.001, dueAt - elapsed), 3600)
                    self.flushAll(context: context)
                    exchange.tickTask = context.eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(Int64(wait * 1e9))) {
                        exchange.tickTask = nil
                        self.pumpBody(context: context)
                    }
                    return
                }
                limit = min(limit, due)
            }
            guard let chunk = exchange.cursor.next(limit: limit) else { break }
            if self.isTLS, case .file = plan.source, case .source(let offset, let length) = chunk {
                // TLS cannot send a file region: read the piece off the event loop, write it, then go on.
                self.readFileThenPump(offset: offset, length: length, plan: plan, exchange, context: context)
                return
            }
            self.writeBody(self.data(for: chunk, of: plan.source, exchange: exchange, context: context), plan: plan, exchange, context: context)
        }
        if let cut = plan.cut, exchange.cursor.sent >= cut.after {
            // Cut short: the bytes so far, then a close; an RST waits until they are on their way.
            exchange.bodyFinished = true
            let promise = self.writeRaw(.byteBuffer(context.channel.allocator.buffer(capacity: 0)), body: false, exchange, context: context)
            self.flushAll(context: context)
            promise.futureResult.assumeIsolated().whenComplete { _ in
                self.finish(exchange, outcome: cut.reset ? .reset : .dropped, close: cut.reset ? .reset : .fin, context: context)
            }
            return
        }
        guard exchange.cursor.isFinished else {
            self.flushAll(context: context)
            return
        }
        exchange.bodyFinished = true
        let promise = context.eventLoop.makePromise(of: Void.self)
        if exchange.rawMode {
            let terminator = plan.isChunked ? Array("0\r\n\r\n".utf8) : []
            self.writeRaw(.byteBuffer(context.channel.allocator.buffer(bytes: terminator)), body: false, exchange, context: context)
                .futureResult.cascade(to: promise)
            self.rawFlush(context: context)
        } else {
            context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: promise)
        }
        promise.futureResult.assumeIsolated().whenComplete { result in
            switch result {
            case .success:
                self.finish(exchange, outcome: .completed, close: nil, context: context)
            case .failure:
                self.finish(exchange, outcome: .clientClosed, close: .fin, context: context)
            }
        }
    }

    private func readFileThenPump(offset: Int64, length: Int64, plan: ResponsePlan, _ exchange: Exchange, context: ChannelHandlerContext) {
        guard let handle = exchange.file else {
            self.finish(exchange, outcome: .dropped, close: .fin, context: context)
            return
        }
        exchange.fileReadInFlight = true
        self.flushAll(context: context)
        self.fileIO.read(
            fileHandle: handle,
            fromOffset: offset,
            byteCount: Int(length),
            allocator: context.channel.allocator,
            eventLoop: context.eventLoop
        ).assumeIsolated().whenComplete { result in
            exchange.fileReadInFlight = false
            guard self.exchange === exchange, self.isActive else {
                // The exchange ended while the read was in flight: the file is closed now that nothing uses it.
                try? exchange.file?.close()
                exchange.file = nil
                return
            }
            switch result {
            case .success(let buffer):
                self.writeBody(.byteBuffer(buffer), plan: plan, exchange, context: context)
                self.pumpBody(context: context)
            case .failure(let error):
                self.logger.error("cannot read body file", metadata: ["error": "\(error)"])
                self.finish(exchange, outcome: .dropped, close: .fin, context: context)
            }
        }
    }

    private func writeBody(_ data: IOData, plan: ResponsePlan, _ exchange: Exchange, context: ChannelHandlerContext) {
        let length = Int64(data.readableBytes)
        guard exchange.rawMode else {
            self.count(self.write(.body(data), context: context), bytes: length, body: true, exchange)
            return
        }
        // Below the encoder, chunked framing is written by hand.
        if plan.isChunked {
            let size = String(length, radix: 16) + "\r\n"
            _ = self.writeRaw(.byteBuffer(context.channel.allocator.buffer(string: size)), body: false, exchange, context: context)
        }
        _ = self.writeRaw(data, body: true, exchange, context: context)
        if plan.isChunked {
            _ = self.writeRaw(.byteBuffer(context.channel.allocator.buffer(string: "\r\n")), body: false, exchange, context: context)
        }
    }

    private func data(for chunk: BodyCursor.Chunk, of source: ResolvedBody, exchange: Exchange, context: ChannelHandlerContext) -> IOData {
        switch chunk {
        case .bytes(let bytes):
            return .byteBuffer(context.channel.allocator.buffer(bytes: bytes))
        case .source(let offset, let length):
            switch source {
            case .none:
                return .byteBuffer(context.channel.allocator.buffer(capacity: 0))
            case .bytes(let bytes, _):
                return .byteBuffer(context.channel.allocator.buffer(bytes: bytes[Int(offset)..<Int(offset + length)]))
            case .generated(let generator, _):
                var buffer = context.channel.allocator.buffer(capacity: Int(length))
                buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: Int(length)) { pointer in
                    generator.write(offset: offset, count: Int(length), into: pointer)
                    return Int(length)
                }
                return .byteBuffer(buffer)
            case .file:
                guard let handle = exchange.file else { return .byteBuffer(context.channel.allocator.buffer(capacity: 0)) }
                return .fileRegion(FileRegion(fileHandle: handle, readerIndex: Int(offset), endIndex: Int(offset + length)))
            }
        }
    }

    // MARK: - Writing and counting

    /// Writes a part through the encoder and returns the promise of its write.
    private func write(_ part: HTTPServerResponsePart, context: ChannelHandlerContext) -> EventLoopPromise<Void> {
        let promise = context.eventLoop.makePromise(of: Void.self)
        context.write(self.wrapOutboundOut(part), promise: promise)
        return promise
    }

    /// Writes bytes below the encoder, straight to the socket (or the TLS layer), and counts them when written.
    @discardableResult
    private func writeRaw(_ data: IOData, body: Bool, _ exchange: Exchange, context: ChannelHandlerContext) -> EventLoopPromise<Void> {
        let promise = context.eventLoop.makePromise(of: Void.self)
        let length = Int64(data.readableBytes)
        let target = self.rawContext ?? context
        switch data {
        case .byteBuffer(let buffer): target.write(NIOAny(buffer), promise: promise)
        case .fileRegion: target.write(NIOAny(data), promise: promise)
        }
        self.count(promise, bytes: length, body: body, exchange)
        return promise
    }

    private func rawFlush(context: ChannelHandlerContext) {
        (self.rawContext ?? context).flush()
    }

    private func flushAll(context: ChannelHandlerContext) {
        if self.exchange?.rawMode ?? false { self.rawFlush(context: context) } else { context.flush() }
    }

    /// Adds a write's bytes to the exchange's count once the socket has taken them.
    private func count(_ promise: EventLoopPromise<Void>, bytes: Int64, body: Bool, _ exchange: Exchange) {
        if exchange.firstByteAt == nil, bytes > 0 { exchange.firstByteAt = .now() }
        promise.futureResult.assumeIsolated().whenSuccess {
            exchange.bytesSent += bytes
            if body { exchange.bodyBytesSent += bytes }
        }
    }
}
