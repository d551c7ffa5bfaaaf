import FaultlineCore
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Serves one connection: reads requests (pipelined ones are queued and answered in order), asks the rule engine
/// for each answer, and carries out the plan on the event loop: the delay as a scheduled task, informational
/// responses, then the head and the body, streamed with back-pressure. A client that leaves cancels whatever was
/// pending. Requests over the limits, with an unsupported version or a failed expectation are refused here, before
/// any rule sees them.
final class HTTPExchangeHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// How many complete requests may wait behind the one being answered before reading stops.
    static let maxQueuedRequests = 16
    /// The largest piece of an in-memory or generated body written at once.
    static let chunkSize: Int64 = 64 * 1024

    // MARK: - Collaborators

    private let live: LiveScenario
    private let fileIO: NonBlockingFileIO
    private let limits: Limits
    private let statistics: ServerStatistics
    private let logger: Logger

    // MARK: - Connection state

    /// The request whose head has arrived but not its end.
    private var receiving: ReceivedRequest?
    /// Complete requests (or a refusal) waiting for their turn.
    private var queue = CircularBuffer<QueuedItem>()
    /// The response being sent.
    private var exchange: Exchange?
    /// A read the channel asked for while the queue was full.
    private var readPending = false
    /// A request was refused or malformed: nothing more is read, and the connection closes after the answers.
    private var stoppedReading = false
    /// The client shut down its sending side; close once the response in flight is sent.
    private var inputClosed = false
    /// The server is shutting down; close once the queue is answered.
    private var quiescing = false
    private var isActive = true
    /// After a refusal the output is closed and what the client still sends is read and thrown away for a while,
    /// so that its unread bytes do not make the kernel reset the connection before it has read the answer.
    private var lingering = false
    /// Fires when a request head takes longer than `requestTimeout` to arrive, or a lingering close is over.
    private var headTimer: Scheduled<Void>?
    private var dateCache = HTTPDateCache()

    init(
        live: LiveScenario,
        fileIO: NonBlockingFileIO,
        limits: Limits,
        statistics: ServerStatistics,
        logger: Logger
    ) {
        self.live = live
        self.fileIO = fileIO
        self.limits = limits
        self.statistics = statistics
        self.logger = logger
    }

    // MARK: - Inbound

    func channelActive(context: ChannelHandlerContext) {
        self.statistics.connectionOpened()
        self.startHeadTimer(context: context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !self.stoppedReading, !self.lingering else { return }
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.cancelHeadTimer()
            self.received(head, context: context)
        case .body(let buffer):
            guard var received = self.receiving else { return }
            received.bodyBytes += Int64(buffer.readableBytes)
            if received.bodyBytes > self.limits.maxBodySize {
                self.refuse(413, "the request body is larger than \(ByteCount.format(self.limits.maxBodySize))", context: context)
                return
            }
            self.receiving = received
        case .end:
            guard let received = self.receiving else { return }
            self.receiving = nil
            // After CONNECT or an Upgrade request NIO's parser reads nothing more; the answer closes the connection.
            if received.request.asksToSwitchProtocols { self.stoppedReading = true }
            self.queue.append(.request(received))
            self.answerNext(context: context)
        }
    }

    /// Checks a new request head against the limits and its `Expect`, before any rule sees it.
    private func received(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        let request = IncomingRequest(head)
        if head.version.major != 1 || head.version.minor > 1 {
            self.refuse(505, "HTTP/\(head.version.major).\(head.version.minor) is not supported; use HTTP/1.1 or HTTP/1.0", context: context)
            return
        }
        if Int64(head.uri.utf8.count) > self.limits.maxURILength {
            self.refuse(414, "the request target is longer than \(ByteCount.format(self.limits.maxURILength))", context: context)
            return
        }
        let headerBytes = head.headers.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 4 }
        if Int64(headerBytes) > self.limits.maxHeaderSize {
            self.refuse(431, "the header section is larger than \(ByteCount.format(self.limits.maxHeaderSize))", context: context)
            return
        }
        if let length = request.headers.first(named: "Content-Length").flatMap({ Int64($0) }), length > self.limits.maxBodySize {
            self.refuse(413, "the request body is larger than \(ByteCount.format(self.limits.maxBodySize))", context: context)
            return
        }
        var received = ReceivedRequest(request: request)
        if let expectation = request.headers.first(named: "Expect") {
            guard expectation.lowercased().split(separator: " ").joined() == "100-continue" else {
                self.refuse(417, "the expectation '\(expectation)' cannot be met", context: context)
                return
            }
            // RFC 9110 section 10.1.1: an HTTP/1.0 client's 100-continue is ignored; otherwise the rule is chosen
            // now, before the body, when nothing else is queued ahead of this request.
            if request.version == (1, 1), self.exchange == nil, self.queue.isEmpty, !self.isControlRequest(request) {
                let decision = self.live.engine.decide(request)
                if decision.response.status >= 400 {
                    // The rule refuses without reading the body (401, 417, ...): answer now and close, since the
                    // body the client may still send is not read.
                    self.stoppedReading = true
                    self.queue.append(.decided(request, decision))
                    self.answerNext(context: context)
                    return
                }
                received.decision = decision
                let continueHead = HTTPResponseHead(version: .http1_1, status: .custom(code: 100, reasonPhrase: "Continue"))
                context.writeAndFlush(self.wrapOutboundOut(.head(continueHead)), promise: nil)
            }
        }
        self.receiving = received
    }

    func read(context: ChannelHandlerContext) {
        if self.lingering {
            context.read()
            return
        }
        if self.stoppedReading { return }
        if self.queue.count >= Self.maxQueuedRequests {
            self.readPending = true
            return
        }
        context.read()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if self.lingering || self.stoppedReading { return }
        guard let parserError = error as? HTTPParserError else {
            self.logger.debug("connection error", metadata: ["error": "\(error)"])
            context.close(promise: nil)
            return
        }
        // Answer what came before the malformed request, then the error, then close.
        switch parserError {
        case .headerOverflow:
            self.refuse(431, "the request head is too large", context: context)
        case .invalidVersion:
            self.refuse(505, "only HTTP/1.1 and HTTP/1.0 are supported", context: context)
        case .invalidMethod:
            self.refuse(501, "the request's method is not implemented", context: context)
        default:
            self.refuse(400, "the request is malformed (\(parserError))", context: context)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case let event as ChannelEvent where event == .inputClosed:
            self.inputClosed = true
            // A client that closes while its response waits out a delay has given up, as nginx judges it (499):
            // drop the pending work now rather than answer nobody later. Otherwise answer what it asked for.
            if self.lingering {
                context.close(promise: nil)
                return
            }
            if let exchange = self.exchange, exchange.delayTask != nil {
                self.logger.debug("client closed during a delay", metadata: ["target": "\(exchange.request.target)"])
                context.close(promise: nil)
                return
            }
            self.closeIfIdle(context: context)
        case is ChannelShouldQuiesceEvent:
            self.quiescing = true
            self.closeIfIdle(context: context)
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            self.pumpBody(context: context)
        }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.isActive = false
        self.statistics.connectionClosed()
        self.cancelHeadTimer()
        if let exchange = self.exchange {
            exchange.cancel(statistics: self.statistics)
            self.logger.debug("client left before its response was complete", metadata: ["target": "\(exchange.request.target)"])
        }
        self.exchange = nil
        self.queue.removeAll()
        context.fireChannelInactive()
    }

    // MARK: - Refusals and timeouts

    /// Stops reading and queues a refusal, answered after the requests before it, then the connection closes.
    private func refuse(_ status: Int, _ message: String, context: ChannelHandlerContext) {
        self.stoppedReading = true
        self.receiving = nil
        self.queue.append(.refusal(status: status, message: message))
        self.answerNext(context: context)
    }

    /// How long a refused client may keep sending before the connection is closed for good.
    static let lingerTime: TimeAmount = .seconds(2)

    /// Closes the output, then reads and discards input until the client closes or `lingerTime` passes, as
    /// nginx's lingering close does.
    private func linger(context: ChannelHandlerContext) {
        self.lingering = true
        self.cancelHeadTimer()
        context.close(mode: .output, promise: nil)
        self.headTimer = context.eventLoop.assumeIsolated().scheduleTask(in: Self.lingerTime) {
            self.headTimer = nil
            context.close(promise: nil)
        }
        context.read()
    }

    private func startHeadTimer(context: ChannelHandlerContext) {
        self.cancelHeadTimer()
        let timeout = self.limits.requestTimeout.nanoseconds
        self.headTimer = context.eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(timeout)) {
            self.headTimer = nil
            guard self.isActive, self.exchange == nil, self.queue.isEmpty else { return }
            self.refuse(408, "no complete request head arrived within \(DurationSyntax.format(self.limits.requestTimeout))", context: context)
        }
    }

    private func cancelHeadTimer() {
        self.headTimer?.cancel()
        self.headTimer = nil
    }

    // MARK: - Answering

    private func isControlRequest(_ request: IncomingRequest) -> Bool {
        request.path.hasPrefix(ControlAPI.prefix)
    }

    private func answerNext(context: ChannelHandlerContext) {
        guard self.isActive, self.exchange == nil, let item = self.queue.popFirst() else { return }
        if self.readPending, self.queue.count < Self.maxQueuedRequests {
            self.readPending = false
            context.read()
        }
        switch item {
        case .request(let received):
            if self.isControlRequest(received.request) {
                let response = ControlAPI.respond(to: received.request, remoteAddress: context.channel.remoteAddress, live: self.live)
                self.start(Exchange(request: received.request, plan: self.plan(response, for: received.request)), context: context)
                return
            }
            let decision = received.decision ?? self.live.engine.decide(received.request)
            self.answer(received.request, decision: decision, context: context)
        case .decided(let request, let decision):
            self.answer(request, decision: decision, context: context)
        case .refusal(let status, let message):
            let response = ResolvedResponse(
                status: status,
                headers: self.live.engine.scenario.defaultHeaders,
                body: .bytes(Array("Faultline: \(message).\n".utf8), contentType: "text/plain; charset=utf-8")
            )
            let request = IncomingRequest(method: "GET", target: "/", headers: [HeaderField("Connection", "close")])
            self.start(Exchange(request: request, plan: self.plan(response, for: request)), context: context)
        }
    }

    private func answer(_ request: IncomingRequest, decision: Decision, context: ChannelHandlerContext) {
        guard case .file(let path, _) = decision.response.body else {
            self.start(Exchange(request: request, plan: self.plan(decision.response, for: request)), context: context)
            return
        }
        // Mark the connection busy while the file opens (off the event loop), so the next request waits its turn.
        let placeholder = Exchange(request: request, plan: nil)
        self.exchange = placeholder
        self.fileIO.openFile(_deprecatedPath: path, eventLoop: context.eventLoop).assumeIsolated().whenComplete { result in
            switch result {
            case .success(let (handle, region)):
                guard self.isActive, self.exchange === placeholder else {
                    try? handle.close()
                    return
                }
                let modified = (try? handle.withUnsafeFileDescriptor { descriptor -> Int64 in
                    var status = stat()
                    guard fstat(descriptor, &status) == 0 else { return 0 }
                    #if canImport(Darwin)
                    return Int64(status.st_mtimespec.tv_sec)
                    #else
                    return Int64(status.st_mtim.tv_sec)
                    #endif
                }) ?? 0
                let facts = ResponsePlanner.FileFacts(length: Int64(region.readableBytes), modified: modified)
                let exchange = Exchange(request: request, plan: self.plan(decision.response, for: request, file: facts))
                exchange.file = handle
                self.start(exchange, context: context)
            case .failure(let error):
                guard self.isActive, self.exchange === placeholder else { return }
                self.logger.error("cannot open body file", metadata: ["path": "\(path)", "error": "\(error)"])
                let response = ResolvedResponse(
                    status: 500,
                    body: .bytes(Array("Faultline: the body file \(path) cannot be read.\n".utf8), contentType: "text/plain; charset=utf-8")
                )
                self.start(Exchange(request: request, plan: self.plan(response, for: request)), context: context)
            }
        }
    }

    private func plan(
        _ response: ResolvedResponse,
        for request: IncomingRequest,
        file: ResponsePlanner.FileFacts? = nil
    ) -> ResponsePlan {
        ResponsePlanner.plan(
            response,
            for: request,
            file: file,
            date: self.dateCache.now(),
            serverIsClosing: self.quiescing || self.stoppedReading
        )
    }

    /// Waits out the plan's delay on the event loop, then sends.
    private func start(_ exchange: Exchange, context: ChannelHandlerContext) {
        self.exchange = exchange
        guard let plan = exchange.plan else { return }
        let nanoseconds = plan.delay.nanoseconds
        guard nanoseconds > 0 else {
            self.send(exchange, context: context)
            return
        }
        self.statistics.delayScheduled()
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
            self.logger.debug("dropping the connection without a response", metadata: ["target": "\(exchange.request.target)"])
            exchange.cancel(statistics: self.statistics)
            self.exchange = nil
            context.close(promise: nil)
        case .respond:
            for interim in plan.interim {
                context.write(self.wrapOutboundOut(.head(interim.nioHead)), promise: nil)
            }
            context.write(self.wrapOutboundOut(.head(plan.nioHead)), promise: nil)
            exchange.headSent = true
            exchange.cursor = BodyCursor(plan.segments)
            self.pumpBody(context: context)
        }
    }

    /// Writes as much of the body as the channel takes, then waits for it to become writable again.
    private func pumpBody(context: ChannelHandlerContext) {
        guard let exchange = self.exchange, let plan = exchange.plan, exchange.headSent, !exchange.bodyFinished else {
            return
        }
        while context.channel.isWritable, let chunk = exchange.cursor.next(limit: self.chunkLimit(for: plan.source)) {
            context.write(self.wrapOutboundOut(.body(self.data(for: chunk, of: plan.source, exchange: exchange, context: context))), promise: nil)
        }
        guard exchange.cursor.isFinished else {
            context.flush()
            return
        }
        exchange.bodyFinished = true
        let promise = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: promise)
        promise.futureResult.assumeIsolated().whenComplete { result in
            self.finish(exchange, succeeded: (try? result.get()) != nil, context: context)
        }
    }

    /// Files go out as whole regions (the kernel's sendfile paces them); other bodies in bounded pieces.
    private func chunkLimit(for source: ResolvedBody) -> Int64 {
        if case .file = source { return Int64.max }
        return Self.chunkSize
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

    private func finish(_ exchange: Exchange, succeeded: Bool, context: ChannelHandlerContext) {
        exchange.cancel(statistics: self.statistics)
        guard self.exchange === exchange else { return }
        self.exchange = nil
        guard succeeded, self.isActive else { return }
        if exchange.plan?.closeAfter ?? true {
            if self.stoppedReading && !self.inputClosed {
                self.linger(context: context)
            } else {
                context.close(promise: nil)
            }
            return
        }
        self.answerNext(context: context)
        if self.exchange == nil, self.queue.isEmpty, self.receiving == nil {
            self.startHeadTimer(context: context)
        }
        self.closeIfIdle(context: context)
    }

    /// Closes the connection when the client or the server wants it closed and nothing is left to answer.
    private func closeIfIdle(context: ChannelHandlerContext) {
        guard self.inputClosed || self.quiescing || self.stoppedReading,
            self.exchange == nil, self.queue.isEmpty, self.receiving == nil || self.inputClosed
        else { return }
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension HTTPExchangeHandler: Sendable {}

// MARK: - Supporting types

extension HTTPExchangeHandler {
    /// A request being read: its head, how many body bytes came, and the decision made early for `Expect`.
    struct ReceivedRequest {
        var request: IncomingRequest
        var bodyBytes: Int64 = 0
        var decision: Decision?
    }

    /// What waits for its turn on the connection.
    enum QueuedItem {
        /// A complete request.
        case request(ReceivedRequest)
        /// A request answered before its body was read.
        case decided(IncomingRequest, Decision)
        /// A request refused before any rule saw it; the connection closes after the answer.
        case refusal(status: Int, message: String)
    }

    /// One response in flight and what it holds: its delay timer and its open file.
    final class Exchange {
        let request: IncomingRequest
        /// `nil` while the body file is being opened.
        let plan: ResponsePlan?
        var delayTask: Scheduled<Void>?
        var file: NIOFileHandle?
        var cursor = BodyCursor([])
        var headSent = false
        var bodyFinished = false

        init(request: IncomingRequest, plan: ResponsePlan?) {
            self.request = request
            self.plan = plan
        }

        /// Cancels the timer and closes the file; safe to call more than once.
        func cancel(statistics: ServerStatistics) {
            if let delayTask = self.delayTask {
                delayTask.cancel()
                statistics.delayEnded()
                self.delayTask = nil
            }
            if let file = self.file {
                try? file.close()
                self.file = nil
            }
        }
    }
}
