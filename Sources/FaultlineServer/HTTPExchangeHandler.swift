import FaultlineCore
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// Serves one connection: reads requests (pipelined ones are queued and answered in order), asks the rule engine
/// for each answer, and carries out the plan on the event loop: the delay as a scheduled task, then the head and
/// the body, streamed with back-pressure. A client that leaves cancels whatever was pending.
final class HTTPExchangeHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// How many complete requests may wait behind the one being answered before reading stops.
    static let maxQueuedRequests = 16
    /// The largest piece of a generated body written at once.
    static let chunkSize = 64 * 1024

    // MARK: - Collaborators

    private let live: LiveScenario
    private let fileIO: NonBlockingFileIO
    private let logger: Logger
    private let statistics: ServerStatistics

    // MARK: - Connection state

    /// The request whose head has arrived but not its end.
    private var receiving: ReceivedRequest?
    /// Complete requests (or a protocol error) waiting for their turn.
    private var queue = CircularBuffer<QueuedItem>()
    /// The response being sent.
    private var exchange: Exchange?
    /// A read the channel asked for while the queue was full.
    private var readPending = false
    /// The decoder failed; nothing more is read.
    private var stoppedReading = false
    /// The client shut down its sending side; close once the response in flight is sent.
    private var inputClosed = false
    /// The server is shutting down; close once the queue is answered.
    private var quiescing = false
    private var isActive = true
    private var dateCache = HTTPDateCache()

    init(live: LiveScenario, fileIO: NonBlockingFileIO, statistics: ServerStatistics, logger: Logger) {
        self.live = live
        self.fileIO = fileIO
        self.statistics = statistics
        self.logger = logger
    }

    func channelActive(context: ChannelHandlerContext) {
        self.statistics.connectionOpened()
        context.fireChannelActive()
    }

    // MARK: - Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.receiving = ReceivedRequest(request: IncomingRequest(head))
        case .body(let buffer):
            self.receiving?.bodyBytes += Int64(buffer.readableBytes)
        case .end:
            guard let received = self.receiving else { return }
            self.receiving = nil
            self.queue.append(.request(received))
            self.answerNext(context: context)
        }
    }

    func read(context: ChannelHandlerContext) {
        if self.stoppedReading { return }
        if self.queue.count >= Self.maxQueuedRequests {
            self.readPending = true
            return
        }
        context.read()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parserError = error as? HTTPParserError else {
            self.logger.debug("connection error", metadata: ["error": "\(error)"])
            context.close(promise: nil)
            return
        }
        // Answer what came before the malformed request, then the error, then close.
        self.stoppedReading = true
        self.receiving = nil
        self.queue.append(.protocolError(parserError))
        self.answerNext(context: context)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case let event as ChannelEvent where event == .inputClosed:
            self.inputClosed = true
            // A client that closes while its response has not started (a delay, a file opening) has given up, as
            // nginx judges it (499): drop the pending work now rather than answer nobody later.
            if let exchange = self.exchange, !exchange.headSent {
                self.logger.debug("client closed before its response started", metadata: ["target": "\(exchange.request.target)"])
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
        if let exchange = self.exchange {
            exchange.cancel(statistics: self.statistics)
            self.logger.debug("client left before its response was complete", metadata: ["target": "\(exchange.request.target)"])
        }
        self.exchange = nil
        self.queue.removeAll()
        context.fireChannelInactive()
    }

    // MARK: - Answering

    private func answerNext(context: ChannelHandlerContext) {
        guard self.isActive, self.exchange == nil, let item = self.queue.popFirst() else { return }
        if self.readPending, self.queue.count < Self.maxQueuedRequests {
            self.readPending = false
            context.read()
        }
        switch item {
        case .request(let received):
            self.answer(received, context: context)
        case .protocolError(let error):
            let status = error == .headerOverflow ? 431 : 400
            let response = ResolvedResponse(
                status: status,
                headers: self.live.engine.scenario.defaultHeaders,
                body: .bytes(Array("Faultline: the request is malformed (\(error)).\n".utf8), contentType: "text/plain; charset=utf-8")
            )
            var request = IncomingRequest(method: "GET", target: "/", headers: [HeaderField("Connection", "close")])
            request.version = (1, 1)
            let plan = ResponsePlanner.plan(response, for: request, date: self.dateCache.now(), serverIsClosing: true)
            let exchange = Exchange(request: request, plan: plan)
            self.exchange = exchange
            self.send(exchange, context: context)
        }
    }

    private func answer(_ received: ReceivedRequest, context: ChannelHandlerContext) {
        let request = received.request
        if request.path.hasPrefix(ControlAPI.prefix) {
            let response = ControlAPI.respond(to: request, remoteAddress: context.channel.remoteAddress, live: self.live)
            self.start(Exchange(request: request, plan: self.plan(response, for: request)), context: context)
            return
        }
        let decision = self.live.engine.decide(request)
        guard case .file(let path, _) = decision.response.body else {
            self.start(Exchange(request: request, plan: self.plan(decision.response, for: request)), context: context)
            return
        }
        // Open the file off the event loop; its size goes into Content-Length.
        self.fileIO.openFile(_deprecatedPath: path, eventLoop: context.eventLoop).assumeIsolated().whenComplete {
            result in
            switch result {
            case .success(let (handle, region)):
                guard self.isActive else {
                    try? handle.close()
                    return
                }
                let plan = self.plan(decision.response, for: request, fileLength: Int64(region.readableBytes))
                let exchange = Exchange(request: request, plan: plan)
                exchange.file = (handle, region)
                self.start(exchange, context: context)
            case .failure(let error):
                self.logger.error("cannot open body file", metadata: ["path": "\(path)", "error": "\(error)"])
                let response = ResolvedResponse(
                    status: 500,
                    body: .bytes(Array("Faultline: the body file \(path) cannot be read.\n".utf8), contentType: "text/plain; charset=utf-8")
                )
                self.start(Exchange(request: request, plan: self.plan(response, for: request)), context: context)
            }
        }
        // Mark the connection busy while the file opens, so the next request waits its turn.
        self.exchange = Exchange(request: request, plan: nil)
    }

    private func plan(_ response: ResolvedResponse, for request: IncomingRequest, fileLength: Int64? = nil) -> ResponsePlan {
        ResponsePlanner.plan(
            response,
            for: request,
            fileLength: fileLength,
            date: self.dateCache.now(),
            serverIsClosing: self.quiescing
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
            context.write(self.wrapOutboundOut(.head(plan.nioHead)), promise: nil)
            exchange.headSent = true
            exchange.remaining = plan.bodyLength
            self.pumpBody(context: context)
        }
    }

    /// Writes as much of the body as the channel takes, then waits for it to become writable again.
    private func pumpBody(context: ChannelHandlerContext) {
        guard let exchange = self.exchange, let plan = exchange.plan, !exchange.bodyFinished else { return }
        switch plan.body {
        case .none:
            break
        case .bytes(let bytes, _):
            context.write(self.wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: bytes)))), promise: nil)
            exchange.remaining = 0
        case .file:
            if let (_, region) = exchange.file {
                context.write(self.wrapOutboundOut(.body(.fileRegion(region))), promise: nil)
            }
            exchange.remaining = 0
        case .generated(let generator, let size):
            while exchange.remaining > 0, context.channel.isWritable {
                let count = Int(min(Int64(Self.chunkSize), exchange.remaining))
                var buffer = context.channel.allocator.buffer(capacity: count)
                buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { pointer in
                    generator.write(offset: size - exchange.remaining, count: count, into: pointer)
                    return count
                }
                context.write(self.wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
                exchange.remaining -= Int64(count)
            }
            if exchange.remaining > 0 {
                context.flush()
                return
            }
        }
        exchange.bodyFinished = true
        let promise = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: promise)
        promise.futureResult.assumeIsolated().whenComplete { result in
            self.finish(exchange, succeeded: (try? result.get()) != nil, context: context)
        }
    }

    private func finish(_ exchange: Exchange, succeeded: Bool, context: ChannelHandlerContext) {
        exchange.cancel(statistics: self.statistics)
        guard self.exchange === exchange else { return }
        self.exchange = nil
        guard succeeded, self.isActive else { return }
        if exchange.plan?.closeAfter ?? true {
            context.close(promise: nil)
            return
        }
        self.answerNext(context: context)
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
    /// A request being read: its head and how many body bytes came.
    struct ReceivedRequest {
        var request: IncomingRequest
        var bodyBytes: Int64 = 0
    }

    /// What waits for its turn on the connection.
    enum QueuedItem {
        case request(ReceivedRequest)
        case protocolError(HTTPParserError)
    }

    /// One response in flight and what it holds: its delay timer and its open file.
    final class Exchange {
        let request: IncomingRequest
        /// `nil` while the body file is being opened.
        let plan: ResponsePlan?
        var delayTask: Scheduled<Void>?
        var file: (NIOFileHandle, FileRegion)?
        var remaining: Int64 = 0
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
            if let (handle, _) = self.file {
                try? handle.close()
                self.file = nil
            }
        }
    }
}
