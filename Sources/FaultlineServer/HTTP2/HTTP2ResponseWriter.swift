import FaultlineCore
import NIOCore
import NIOHPACK
import NIOHTTP2
import NIOPosix

/// Turns one response plan into frames on an HTTP/2 stream, one step at a time (`ResponsePlan.http2Steps`): the
/// same plans as HTTP/1.1's writer carries out, as HEADERS and DATA frames with the stream's flow control as
/// back-pressure, and every fault in its HTTP/2 meaning (RST_STREAM, GOAWAY, the whole connection closed or reset,
/// bytes where the next frame belongs). A delay or a hang holds this stream only.
final class HTTP2ResponseWriter {
    /// The headers HTTP/2 forbids (RFC 9113 section 8.2.2): never sent, even when a rule sets them.
    static let hopByHop: Set<String> = [
        "connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection", "te",
    ]

    /// One response being written.
    final class Run {
        let record: ExchangeRecord
        let plan: ResponsePlan
        let steps: [HTTP2WriteStep]
        var next = 0
        var file: NIOFileHandle?
        var cursor: BodyCursor
        var pacer = BodyPacer(pieceSize: HTTP1ResponseWriter.chunkSize)
        var inBody = false
        var bodyStartedAt = NIODeadline.now()
        var fileReadInFlight = false
        var hanging = false
        var timer: Scheduled<Void>?
        var timerIsDelay = false
        /// END_STREAM went out with the last DATA frame.
        var ended = false
        var lastWrite: EventLoopFuture<Void>?
        /// A streamed body's schedule: when its last item was due (each pause counts from there).
        var streamDue: NIODeadline?
        /// A large item of a stream being written as the stream's flow control lets it.
        var pendingChunk: HTTP1ResponseWriter.PendingChunk?
        /// A body that streams in from an upstream while it is sent (a proxied answer's), and how much of it went out.
        var incoming: (any IncomingBody)?
        var incomingSent: Int64 = 0
        let onEnd: (HTTP1ResponseWriter.Ending) -> Void

        init(
            record: ExchangeRecord,
            plan: ResponsePlan,
            file: NIOFileHandle?,
            onEnd: @escaping (HTTP1ResponseWriter.Ending) -> Void
        ) {
            self.record = record
            self.plan = plan
            self.steps = plan.http2Steps
            self.file = file
            self.cursor = BodyCursor(plan.segments)
            self.onEnd = onEnd
        }
    }

    let context: ChannelHandlerContext
    private let connection: HTTP2ConnectionState
    private let streamID: Int
    private let fileIO: NonBlockingFileIO
    private let isTLS: Bool
    private let statistics: ServerStatistics
    private let metrics: ServerMetrics
    private var dateCache = HTTPDateCache()
    private(set) var run: Run?

    init(
        context: ChannelHandlerContext,
        connection: HTTP2ConnectionState,
        streamID: Int,
        fileIO: NonBlockingFileIO,
        isTLS: Bool,
        statistics: ServerStatistics,
        metrics: ServerMetrics
    ) {
        self.context = context
        self.connection = connection
        self.streamID = streamID
        self.fileIO = fileIO
        self.isTLS = isTLS
        self.statistics = statistics
        self.metrics = metrics
    }

    func date() -> String {
        self.dateCache.now()
    }

    /// Whether the response has not started, or waits on a delay, a pause or a hang.
    var isWaiting: Bool {
        guard let run = self.run else { return false }
        return run.timer != nil || run.hanging
    }

    var isHanging: Bool { self.run?.hanging ?? false }

    /// Starts writing `plan`; a plan whose body streams in from an upstream (`plan.upstreamBody`) reads it from
    /// `incoming`, as the stream's flow control lets it.
    func start(
        _ plan: ResponsePlan,
        record: ExchangeRecord,
        file: NIOFileHandle?,
        incoming: (any IncomingBody)? = nil,
        onEnd: @escaping (HTTP1ResponseWriter.Ending) -> Void
    ) {
        record.plan = plan
        let run = Run(record: record, plan: plan, file: file, onEnd: onEnd)
        run.incoming = plan.upstreamBody == nil ? nil : incoming
        self.run = run
        self.advance()
    }

    func abort() {
        guard let run = self.run else { return }
        self.run = nil
        self.release(run)
    }

    func writabilityChanged() {
        guard self.context.channel.isWritable else { return }
        self.pump()
        self.continueChunk()
    }

    // MARK: - Steps

    func advance() {
        guard let run = self.run else { return }
        while run.next < run.steps.count {
            let step = run.steps[run.next]
            run.next += 1
            switch step {
            case .delay(let duration):
                self.statistics.delayScheduled()
                self.metrics.recordDelay(duration)
                run.timerIsDelay = true
                self.schedule(duration, run) {
                    run.timerIsDelay = false
                    self.statistics.delayEnded()
                    self.advance()
                }
                return
            case .interim(let responses):
                for interim in responses {
                    var headers = HPACKHeaders([(":status", String(interim.status))])
                    for field in interim.headers where !Self.hopByHop.contains(field.name.lowercased()) {
                        headers.add(name: field.name.lowercased(), value: field.value)
                    }
                    self.write(.headers(.init(headers: headers)), bytes: 0, body: false, run)
                }
            case .head(let over, let endStream):
                if let over { self.connection.tap.paceNext(over: .nanoseconds(over.nanoseconds)) }
                let date = self.date()
                run.record.dateSent = date
                run.record.statusSent = run.plan.status
                run.ended = endStream
                if endStream { run.record.bodyFinished = true }
                self.write(
                    .headers(
                        .init(
                            headers: self.headers(of: run.plan, status: String(run.plan.status), date: date),
                            endStream: endStream
                        )
                    ),
                    bytes: run.plan.headLength,
                    body: false,
                    run
                )
                if over != nil {
                    self.context.flush()
                    // The body waits for the head to be on its way, however slowly.
                    run.lastWrite?.assumeIsolated().whenComplete { _ in
                        guard self.run === run else { return }
                        self.advance()
                    }
                    return
                }
            case .bodyDelay(let duration):
                self.context.flush()
                self.schedule(duration, run) { self.advance() }
                return
            case .body(let body):
                self.startBody(body, run)
                return
            case .endStream:
                if !run.ended {
                    run.ended = true
                    run.record.bodyFinished = true
                    self.write(
                        .data(.init(data: .byteBuffer(ByteBuffer()), endStream: true)),
                        bytes: 0,
                        body: false,
                        run
                    )
                }
            case .resetStream(let code):
                self.context.flush()
                // NIO sends RST_STREAM at once but holds DATA for flow control: the body written so far goes first.
                guard let previous = run.lastWrite else {
                    self.write(.rstStream(HTTP2ErrorCode(networkCode: Int(code.value))), bytes: 0, body: false, run)
                    continue
                }
                previous.assumeIsolated().whenComplete { _ in
                    guard self.run === run else { return }
                    self.write(.rstStream(HTTP2ErrorCode(networkCode: Int(code.value))), bytes: 0, body: false, run)
                    self.context.flush()
                    self.advance()
                }
                return
            case .goaway(let code, let refusing):
                self.context.flush()
                if refusing {
                    // Not processed: the stream ends with the GOAWAY (NIO closes the streams above its last id).
                    run.lastWrite = self.connection.goaway(code, stream: self.streamID, refusing: true)
                    self.end(run, .init(outcome: .dropped, close: nil))
                    return
                }
                // After the answer: NIO holds DATA for flow control but sends GOAWAY at once, so the body written so far
                // goes first; the stream's END_STREAM follows the GOAWAY.
                let streamID = self.streamID
                let connection = self.connection
                let sendGoaway: () -> Void = {
                    guard self.run === run else { return }
                    run.lastWrite = connection.goaway(code, stream: streamID, refusing: false)
                    run.lastWrite?.assumeIsolated().whenComplete { _ in
                        guard self.run === run else { return }
                        self.advance()
                    }
                }
                if let previous = run.lastWrite {
                    previous.assumeIsolated().whenComplete { _ in sendGoaway() }
                } else {
                    sendGoaway()
                }
                return
            case .closeConnection(let reset):
                // The exchange ends (and is journaled) as the server's own cut, then the connection goes.
                self.context.flush()
                let connection = self.connection
                let ending = HTTP1ResponseWriter.Ending(outcome: reset ? .reset : .dropped, close: nil)
                let close: () -> Void = {
                    self.end(run, ending)
                    connection.close(reset: reset)
                }
                if let last = run.lastWrite { last.assumeIsolated().whenComplete { _ in close() } } else { close() }
                return
            case .garbage(let bytes):
                run.record.firstByteAt = run.record.firstByteAt ?? .now()
                self.context.flush()
                if let written = self.connection.tap.writeRaw(bytes) {
                    run.lastWrite = written
                    let record = run.record
                    written.assumeIsolated().whenSuccess { record.bytesSent += Int64(bytes.count) }
                }
                let connection = self.connection
                let close: () -> Void = {
                    self.end(run, .init(outcome: .dropped, close: nil))
                    connection.close(reset: false)
                }
                if let last = run.lastWrite { last.assumeIsolated().whenComplete { _ in close() } } else { close() }
                return
            case .badStatusHead:
                // A `:status` that is not three digits: the reason phrase where the code belongs.
                let status = run.plan.reason.isEmpty ? "OK" : run.plan.reason
                self.write(
                    .headers(
                        .init(headers: self.headers(of: run.plan, status: status, date: self.date()), endStream: true)
                    ),
                    bytes: run.plan.headLength,
                    body: false,
                    run
                )
            case .dataAfterEndStream:
                self.context.flush()
                let streamID = UInt32(self.streamID)
                // A DATA frame (type 0, END_STREAM set) on a stream that has ended: 9 bytes of frame header, then "hello".
                let frame: [UInt8] =
                    [
                        0, 0, 5, 0x0, 0x1, UInt8(streamID >> 24 & 0x7F), UInt8(streamID >> 16 & 0xFF),
                        UInt8(streamID >> 8 & 0xFF), UInt8(streamID & 0xFF),
                    ]
                    + Array("hello".utf8)
                let tap = self.connection.tap
                let previous = run.lastWrite
                let promise = self.context.eventLoop.makePromise(of: Void.self)
                let send: () -> Void = {
                    if let written = tap.writeRaw(frame) { written.cascade(to: promise) } else { promise.succeed() }
                }
                if let previous { previous.assumeIsolated().whenComplete { _ in send() } } else { send() }
                run.lastWrite = promise.futureResult
            case .hang(let duration):
                run.hanging = true
                if let duration {
                    self.schedule(duration, run) {
                        run.hanging = false
                        self.advance()
                    }
                }
                return
            case .pause(let duration):
                self.pause(duration, run)
                return
            case .chunk(let item, let whole):
                if !self.writeChunk(item, whole: whole, run) { return }
            case .pieces(let body):
                // This step repeats until the body is all out. A piece the stream cannot take waits as a pending
                // item (`continueChunk()` goes on), so at most one piece is made ahead of the flow-control window.
                if let piece = body.next() {
                    run.next -= 1
                    if !self.writeChunk(StreamItem(payload: .bytes(piece)), whole: false, run) { return }
                }
            case .finish(let finish):
                self.finish(finish, run)
                return
            }
        }
    }

    private func finish(_ finish: WriteStep.Finish, _ run: Run) {
        self.context.flush()
        let ending: HTTP1ResponseWriter.Ending
        switch finish {
        case .completed:
            ending = .init(outcome: .completed, close: nil)
        case .dropped:
            ending = .init(outcome: .dropped, close: nil)
        case .reset:
            ending = .init(outcome: .reset, close: nil)
        case .timedOut:
            ending = .init(outcome: .timeout, close: nil)
        }
        guard let last = run.lastWrite else {
            self.end(run, ending)
            return
        }
        last.assumeIsolated().whenComplete { result in
            switch result {
            case .success: self.end(run, ending)
            case .failure where run.record.bodyFinished: self.end(run, ending)
            case .failure: self.end(run, .init(outcome: .clientClosed, close: nil))
            }
        }
    }

    private func end(_ run: Run, _ ending: HTTP1ResponseWriter.Ending) {
        guard self.run === run else { return }
        self.run = nil
        self.release(run)
        run.onEnd(ending)
    }

    private func release(_ run: Run) {
        // A body from an upstream not sent to its end is given up: its upstream stops.
        run.incoming?.cancel()
        if let timer = run.timer {
            timer.cancel()
            run.timer = nil
            if run.timerIsDelay {
                run.timerIsDelay = false
                self.statistics.delayEnded()
            }
        }
        if let file = run.file, !run.fileReadInFlight {
            try? file.close()
            run.file = nil
        }
    }

    private func schedule(_ duration: Duration, _ run: Run, _ then: @escaping () -> Void) {
        self.context.flush()
        run.timer = self.context.eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(duration.nanoseconds)) {
            run.timer = nil
            guard self.run === run else { return }
            then()
        }
    }

    /// The response's header block: `:status`, then the plan's fields in lower case, without hop-by-hop ones.
    private func headers(of plan: ResponsePlan, status: String, date: String) -> HPACKHeaders {
        var headers = HPACKHeaders()
        headers.reserveCapacity(plan.headers.count + 1)
        headers.add(name: ":status", value: status)
        var dated = !plan.dateIsAutomatic
        for field in plan.headers {
            let name = field.name.lowercased()
            if Self.hopByHop.contains(name) { continue }
            if !dated, name == "date" {
                headers.add(name: name, value: date)
                dated = true
            } else {
                headers.add(name: name, value: field.value)
            }
        }
        return headers
    }

    // MARK: - The body

    private func startBody(_ body: BodyWrite, _ run: Run) {
        var pieceSize: Int64 = HTTP1ResponseWriter.chunkSize
        if case .file = run.plan.source {
            pieceSize = self.isTLS ? HTTP1ResponseWriter.tlsFileChunkSize : HTTP1ResponseWriter.fileChunkSize
        }
        if let size = body.pieceSize { pieceSize = size }
        run.pacer = BodyPacer(pieceSize: pieceSize, bytesPerSecond: body.bytesPerSecond, cutAfter: body.cutAfter)
        run.inBody = true
        run.bodyStartedAt = .now()
        self.pump()
    }

    /// Whether the step after the body is the stream's end, which the last DATA frame may carry.
    private func bodyEndsStream(_ run: Run) -> Bool {
        guard run.next < run.steps.count, case .endStream = run.steps[run.next] else { return false }
        return true
    }

    private func pump() {
        guard let run = self.run, run.inBody, run.timer == nil, !run.fileReadInFlight else { return }
        if let incoming = run.incoming {
            self.pumpIncoming(incoming, run)
            return
        }
        while self.context.channel.isWritable {
            switch run.pacer.next(
                sent: run.cursor.sent,
                elapsed: .nanoseconds((NIODeadline.now() - run.bodyStartedAt).nanoseconds)
            ) {
            case .cut:
                self.endBody(run)
                return
            case .wait(let duration):
                self.schedule(duration, run) { self.pump() }
                return
            case .write(let limit):
                guard let chunk = run.cursor.next(limit: limit) else {
                    self.endBody(run)
                    return
                }
                if case .file = run.plan.source, case .source(let offset, let length) = chunk, self.isTLS {
                    self.readFileThenPump(offset: offset, length: length, run)
                    return
                }
                let data = BodyPieces.data(
                    for: chunk,
                    of: run.plan.source,
                    file: run.file,
                    allocator: self.context.channel.allocator
                )
                self.writeData(data, run)
            }
        }
        if run.cursor.isFinished {
            self.endBody(run)
        } else {
            self.context.flush()
        }
    }

    private func writeData(_ data: IOData, _ run: Run) {
        let last = run.cursor.sent >= run.plan.bodyLength && self.bodyEndsStream(run) && run.pacer.cutAfter == nil
        if last {
            run.ended = true
            // The whole response is out once END_STREAM is: NIO may close the stream before the write completes.
            run.record.bodyFinished = true
        }
        self.write(.data(.init(data: data, endStream: last)), bytes: Int64(data.readableBytes), body: true, run)
    }

    /// Writes as much of an upstream's body as the stream's flow control, the pace and any cut allow: a piece is
    /// taken only when the stream is writable, so a slow client leaves the rest with the upstream. When the upstream
    /// breaks off, the stream is reset (INTERNAL_ERROR): the client sees an incomplete body, never a complete one.
    private func pumpIncoming(_ incoming: any IncomingBody, _ run: Run) {
        while self.context.channel.isWritable {
            let elapsed = Duration.nanoseconds((NIODeadline.now() - run.bodyStartedAt).nanoseconds)
            switch run.pacer.next(sent: run.incomingSent, elapsed: elapsed) {
            case .cut:
                self.endBody(run)
                return
            case .wait(let duration):
                self.schedule(duration, run) { self.pump() }
                return
            case .write(let limit):
                switch incoming.read(upTo: Int(clamping: limit)) {
                case .bytes(let piece):
                    run.incomingSent += Int64(piece.readableBytes)
                    self.write(
                        .data(.init(data: .byteBuffer(piece), endStream: false)),
                        bytes: piece.readableBytes,
                        body: true,
                        run
                    )
                case .wait:
                    incoming.whenReadable { [weak self] in
                        guard let self, self.run === run else { return }
                        self.pump()
                    }
                    self.context.flush()
                    if run.inBody { incoming.stillWaiting() }
                    return
                case .end:
                    self.endBody(run)
                    return
                case .failed:
                    // NIO sends RST_STREAM at once but holds DATA for flow control: the body written so far goes first.
                    // Out of the body for good: a writability change meanwhile must not end the stream as if the
                    // body were complete.
                    run.incoming = nil
                    run.inBody = false
                    self.context.flush()
                    let reset: () -> Void = {
                        guard self.run === run else { return }
                        self.write(.rstStream(.internalError), bytes: 0, body: false, run)
                        self.finish(.dropped, run)
                    }
                    if let previous = run.lastWrite {
                        previous.assumeIsolated().whenComplete { _ in reset() }
                    } else {
                        reset()
                    }
                    return
                }
            }
        }
        self.context.flush()
    }

    private func endBody(_ run: Run) {
        run.inBody = false
        self.advance()
    }

    private func readFileThenPump(offset: Int64, length: Int64, _ run: Run) {
        guard let handle = run.file else {
            self.end(run, .init(outcome: .dropped, close: nil))
            return
        }
        run.fileReadInFlight = true
        self.context.flush()
        self.fileIO.read(
            fileHandle: handle,
            fromOffset: offset,
            byteCount: Int(length),
            allocator: self.context.channel.allocator,
            eventLoop: self.context.eventLoop
        ).assumeIsolated().whenComplete { result in
            run.fileReadInFlight = false
            guard self.run === run else {
                try? run.file?.close()
                run.file = nil
                return
            }
            switch result {
            case .success(let buffer):
                self.writeData(.byteBuffer(buffer), run)
                self.pump()
            case .failure:
                self.end(run, .init(outcome: .dropped, close: nil))
            }
        }
    }

    // MARK: - Writing and counting

    /// Writes a frame on the stream and counts `bytes` into the record once it is on its way.
    @discardableResult
    private func write(_ payload: HTTP2Frame.FramePayload, bytes: Int, body: Bool, _ run: Run) -> EventLoopFuture<Void>
    {
        self.write(payload, bytes: Int64(bytes), body: body, run)
    }

    @discardableResult
    private func write(
        _ payload: HTTP2Frame.FramePayload,
        bytes: Int64,
        body: Bool,
        _ run: Run
    ) -> EventLoopFuture<Void> {
        let record = run.record
        if record.firstByteAt == nil { record.firstByteAt = .now() }
        let future = self.context.write(NIOAny(payload))
        future.assumeIsolated().whenSuccess {
            record.bytesSent += bytes
            if body { record.bodyBytesSent += bytes }
        }
        run.lastWrite = future
        return future
    }
}

@available(*, unavailable)
extension HTTP2ResponseWriter: Sendable {}
