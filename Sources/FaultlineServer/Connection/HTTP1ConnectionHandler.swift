import FaultlineCore
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOTLS

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Carries one HTTP/1.1 connection's events to its state machine and the machine's actions out: a request goes to
/// its responder (on the thread pool when the responder may block), the reply is planned and handed to the writer,
/// and every exchange ends in the journal, however it ends. The decisions are the state machine's, the answers the
/// responders', the bytes the writer's.
final class HTTP1ConnectionHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    let environment: ConnectionEnvironment
    private let limits: Limits
    var machine: HTTP1ConnectionStateMachine
    private var info = ConnectionInfo()
    var byteCounter: InboundByteCounter?
    /// The context next to the socket: closes through it bypass TLS (an RST, a close without close_notify).
    private var socketContext: ChannelHandlerContext?
    private var writer: HTTP1ResponseWriter?
    /// What the writer calls when an exchange ends: made once per connection, not once per request.
    private var onEnd: ((ExchangeRecord, HTTP1ResponseWriter.Ending) -> Void)?
    /// The exchange being answered: its reply may still be on the thread pool, or its body file opening.
    var current: ExchangeRecord?
    /// The connection's one timer, for the state machine's deadlines.
    private var timer: Scheduled<Void>?
    var isActive = true
    /// The upstream request of a `proxy` answer in flight (`HTTP1ConnectionHandler+Upstream.swift`).
    var upstream: UpstreamExchange?

    private var recorder: ServerRecorder { self.environment.control.recorder }

    /// `limits` are the scenario's when the connection opened (a reloaded scenario may change them).
    init(environment: ConnectionEnvironment, limits: Limits) {
        self.environment = environment
        self.machine = HTTP1ConnectionStateMachine(
            configuration: .init(
                limits: limits,
                closesWithoutNotify: environment.tlsFault == .closeWithoutNotify,
                acceptsH2CUpgrade: environment.http2 != nil && !environment.isTLS
            )
        )
        self.limits = limits
    }

    // MARK: - Lifecycle

    func handlerAdded(context: ChannelHandlerContext) {
        let sync = context.pipeline.syncOperations
        self.socketContext = try? sync.context(handlerType: ConnectionFrontHandler.self)
        if let front = try? sync.handler(type: ConnectionFrontHandler.self) { self.info = front.info }
        self.byteCounter = try? sync.handler(type: InboundByteCounter.self)
        self.writer = HTTP1ResponseWriter(
            context: context,
            isTLS: self.environment.isTLS,
            fileIO: NonBlockingFileIO(threadPool: self.environment.threadPool),
            statistics: self.environment.statistics,
            metrics: self.environment.control.metrics
        )
        self.onEnd = { record, ending in self.ended(record, ending, context: context) }
        if context.channel.isActive, !self.environment.isTLS {
            // Added after the connection opened (a plaintext HTTP/2 listener looked at its first bytes): the request
            // head has been due since the connection's start.
            let waited = NIODeadline.now() - self.info.connectedAt
            self.apply(self.machine.connected(now: context.eventLoop.now - waited), context: context)
        } else if context.channel.isActive, self.info.tlsVersion != nil {
            // Added once ALPN chose HTTP/1.1: the handshake is over, and the head is due from now.
            self.apply(self.machine.connected(now: context.eventLoop.now), context: context)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        // The writer holds this handler's context: let it go with the pipeline, or the two would keep each other.
        self.writer?.abort()
        self.writer = nil
        self.onEnd = nil
        self.endUpstream()
    }

    func channelActive(context: ChannelHandlerContext) {
        // On TLS the request head is due from the end of the handshake, which has a deadline of its own.
        if !self.environment.isTLS {
            self.apply(self.machine.connected(now: context.eventLoop.now), context: context)
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.isActive = false
        self.timer?.cancel()
        self.timer = nil
        self.writer?.abort()
        self.endUpstream()
        if let record = self.current {
            self.current = nil
            self.journal(record, outcome: record.bodyFinished ? .completed : .clientClosed)
        }
        // Requests that never got their turn, and one half received, are journaled too: never answered.
        for (request, outcome) in self.machine.connectionClosed() {
            let record = ExchangeRecord(
                request: request,
                decision: request.earlyReply?.decision,
                isJournaled: request.facts.isJournaled
            )
            self.journal(record, outcome: outcome)
        }
        context.fireChannelInactive()
    }

    // MARK: - Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.apply(self.machine.receivedHead(self.request(for: head), now: context.eventLoop.now), context: context)
        case .body(let buffer):
            self.apply(self.machine.receivedBody(buffer, now: context.eventLoop.now), context: context)
        case .end:
            self.apply(self.machine.receivedEnd(), context: context)
        }
    }

    func read(context: ChannelHandlerContext) {
        self.apply(self.machine.readRequested(), context: context)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parserError = error as? HTTPParserError else {
            self.environment.logger.debug("connection error", metadata: ["error": "\(error)"])
            context.close(promise: nil)
            return
        }
        let failure = ParseFailure.classify(parserError, bytes: self.byteCounter?.currentBytes)
        self.apply(self.machine.parseFailed(failure), context: context)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case let event as ChannelEvent where event == .inputClosed:
            self.apply(self.machine.inputClosed(responseIsWaiting: self.writer?.isWaiting ?? false), context: context)
        case is ChannelShouldQuiesceEvent:
            self.apply(self.machine.quiesce(responseIsHanging: self.writer?.isHanging ?? false), context: context)
        case is ResetEvent:
            self.apply(self.machine.reset(responseIsWaiting: self.writer?.isWaiting ?? false), context: context)
        case is GracePeriodEndedEvent:
            self.apply(self.machine.gracePeriodEnded(), context: context)
        case let event as TLSUserEvent:
            if case .handshakeCompleted = event {
                self.apply(self.machine.connected(now: context.eventLoop.now), context: context)
            }
            context.fireUserInboundEventTriggered(event)
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        self.writer?.writabilityChanged()
        context.fireChannelWritabilityChanged()
    }

    // MARK: - Carrying out the state machine's actions

    func apply(_ action: HTTP1ConnectionStateMachine.Action, context: ChannelHandlerContext) {
        switch action {
        case .none:
            break
        case .read:
            context.read()
        case .respond(let request, let read):
            self.respond(to: request, context: context)
            if read { context.read() }
        case .decideEarly(let request):
            let reply = self.environment.responders.rules.respond(to: self.responderRequest(request))
            self.apply(self.machine.earlyReply(reply), context: context)
        case .sendContinue:
            context.writeAndFlush(
                self.wrapOutboundOut(.byteBuffer(ByteBuffer(string: "HTTP/1.1 100 Continue\r\n\r\n"))),
                promise: nil
            )
        case .refuse(let refusal, let read):
            self.answer(refusal, context: context)
            if read { context.read() }
        case .scheduleTimer(let deadline):
            self.timer?.cancel()
            self.timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) {
                self.timer = nil
                guard self.isActive else { return }
                self.apply(
                    self.machine.timerFired(now: context.eventLoop.now, bytesReceived: self.byteCounter?.total ?? 0),
                    context: context
                )
            }
        case .close(let kind):
            self.close(kind, context: context)
        case .closeOutputAndLinger(let until):
            context.close(mode: .output, promise: nil)
            self.apply(.scheduleTimer(until), context: context)
            context.read()
        case .upgradeToHTTP2(let request):
            self.upgradeToHTTP2(request, context: context)
        case .abortResponse(let outcome, let kind):
            self.writer?.abort()
            self.endUpstream()
            if let record = self.current {
                self.current = nil
                self.journal(record, outcome: outcome)
            }
            self.close(kind, context: context)
        case .all(let actions):
            for action in actions { self.apply(action, context: context) }
        case .respondForwarding(let request, let sendContinue, let read):
            if sendContinue { self.apply(.sendContinue, context: context) }
            self.respond(to: request, context: context)
            if read { context.read() }
        case .forward(.part(let part)):
            self.upstream?.sendBody(part)
        case .forward(.end):
            self.upstream?.endBody()
        }
    }

    // MARK: - Answering

    /// The state machine's view of a request head, routed and numbered.
    private func request(for head: HTTPRequestHead) -> HTTP1ConnectionStateMachine.Request {
        var incoming = IncomingRequest(head)
        incoming.tlsVersion = self.info.tlsVersion
        incoming.clientCertificateSubject = self.info.clientSubject
        self.info.requestsSeen += 1
        let responder = self.environment.responders.responder(for: incoming)
        let request = HTTP1ConnectionStateMachine.Request(
            head: incoming,
            keepsBody: responder.readsBody,
            facts: .arriving(isJournaled: responder.isJournaled, journal: self.recorder.journal)
        )
        request.mayForwardBody = responder.forwardsBodies && incoming.hasBody
        return request
    }

    private func responderRequest(_ request: HTTP1ConnectionStateMachine.Request) -> ResponderRequest {
        ResponderRequest(
            head: request.head,
            body: request.body,
            clientIsLoopback: self.info.clientIsLoopback,
            listenerAddress: self.info.listenerAddress
        )
    }

    /// Asks the request's responder (off the event loop when it may block) and sends the reply.
    private func respond(to request: HTTP1ConnectionStateMachine.Request, context: ChannelHandlerContext) {
        if let early = request.earlyReply {
            self.send(early, to: request, isJournaled: request.facts.isJournaled, context: context)
            return
        }
        let responder = self.environment.responders.responder(for: request.head)
        let asked = self.responderRequest(request)
        guard responder.mayBlock else {
            self.send(responder.respond(to: asked), to: request, isJournaled: responder.isJournaled, context: context)
            return
        }
        // Marks the connection busy while the responder works, so the next request waits its turn.
        let placeholder = ExchangeRecord(request: request, decision: nil, isJournaled: responder.isJournaled)
        self.current = placeholder
        // Every event loop first finishes what it is doing: an exchange another loop has answered but not yet
        // journaled (its last write's callback still to run) is then in the journal this request reads.
        let loop = context.eventLoop
        let threadPool = self.environment.threadPool
        EventLoopFuture.andAllComplete(self.environment.eventLoops.map { $0.submit {} }, on: loop).flatMap {
            threadPool.runIfActive(eventLoop: loop) { responder.respond(to: asked) }
        }.assumeIsolated().whenComplete { result in
            guard self.isActive, self.current === placeholder else { return }
            let reply =
                (try? result.get())
                ?? Reply(
                    response: ResolvedResponse(
                        status: 503,
                        body: .bytes(
                            Array((JSONValue.object([("error", "the server is shutting down")]).text + "\n").utf8),
                            contentType: "application/json"
                        )
                    ),
                    planning: .plain
                )
            self.send(reply, to: request, isJournaled: responder.isJournaled, context: context)
        }
    }

    /// Writes a refusal decided before any responder saw the request.
    private func answer(_ refusal: HTTP1ConnectionStateMachine.Refusal, context: ChannelHandlerContext) {
        let request = refusal.request ?? self.emptyRequest()
        let response = ResolvedResponse.text(
            status: refusal.status,
            "Faultline: \(refusal.message).\n",
            headers: self.environment.responders.rules.defaultHeaders
        )
        // A rule chosen before the body (`Expect: 100-continue`) counted this request: it is journaled under it.
        let reply = Reply(response: response, decision: request.earlyReply?.decision, planning: .plain)
        self.send(reply, to: request, isJournaled: request.facts.isJournaled, context: context)
    }

    /// A request that never had a head (a timeout, a malformed first line), numbered now.
    private func emptyRequest() -> HTTP1ConnectionStateMachine.Request {
        HTTP1ConnectionStateMachine.Request(
            head: IncomingRequest(method: "", target: "", version: (1, 1)),
            keepsBody: false,
            facts: .arriving(isJournaled: true, journal: self.recorder.journal)
        )
    }

    /// Plans the reply and hands it to the writer; a body file is opened first, off the event loop.
    private func send(
        _ reply: Reply,
        to request: HTTP1ConnectionStateMachine.Request,
        isJournaled: Bool,
        context: ChannelHandlerContext
    ) {
        let record = ExchangeRecord(request: request, decision: reply.decision, isJournaled: isJournaled)
        self.current = record
        guard case .file(let file, _) = reply.response.body else {
            if let proxy = reply.response.proxy {
                self.forward(reply, proxy: proxy, to: request, record: record, context: context)
                return
            }
            self.write(self.plan(reply, for: request), record: record, file: nil, context: context)
            return
        }
        self.environment.threadPool.runIfActive(eventLoop: context.eventLoop) {
            BodyFileOpener.open(file)
        }.assumeIsolated().whenComplete { result in
            switch result {
            case .success(.success(let opened)):
                guard self.isActive, self.current === record else {
                    try? opened.handle.close()
                    return
                }
                let facts = ResponsePlanner.FileFacts(length: opened.length, modified: opened.modified)
                self.write(
                    self.plan(reply, for: request, file: facts),
                    record: record,
                    file: opened.handle,
                    context: context
                )
            case .success(.failure(let failure)):
                guard self.isActive, self.current === record else { return }
                self.environment.logger.error(
                    "cannot open body file",
                    metadata: ["path": "\(file.path)", "error": "\(failure.reason)"]
                )
                let refused = Reply(
                    response: .text(status: 500, "Faultline: \(failure.description).\n"),
                    decision: reply.decision
                )
                self.write(self.plan(refused, for: request), record: record, file: nil, context: context)
            case .failure:
                // The thread pool is shutting down with the server.
                guard self.isActive, self.current === record else { return }
                self.apply(.abortResponse(.dropped, .fin), context: context)
            }
        }
    }

    /// The `Date` value for now.
    func date() -> String {
        self.writer?.date() ?? HTTPDate.format(secondsSince1970: Int64(Date().timeIntervalSince1970))
    }

    func plan(
        _ reply: Reply,
        for request: HTTP1ConnectionStateMachine.Request,
        file: ResponsePlanner.FileFacts? = nil
    ) -> ResponsePlan {
        ResponsePlanner.plan(
            reply.response,
            for: request.head,
            file: file,
            date: self.date(),
            serverIsClosing: self.machine.closesAfterResponse,
            mode: reply.planning,
            prepared: reply.preparedAnswer
        )
    }

    /// Hands `plan` to the writer; a plan whose body streams in from an upstream reads it from `incoming`.
    func write(
        _ plan: ResponsePlan,
        record: ExchangeRecord,
        file: NIOFileHandle?,
        incoming: (any IncomingBody)? = nil,
        context: ChannelHandlerContext
    ) {
        guard let writer = self.writer, let onEnd = self.onEnd else { return }
        writer.start(plan, record: record, file: file, incoming: incoming, onEnd: onEnd)
    }

    /// The writer is done with an exchange: journal it, then let the state machine say what follows.
    private func ended(_ record: ExchangeRecord, _ ending: HTTP1ResponseWriter.Ending, context: ChannelHandlerContext) {
        guard self.current === record, let plan = record.plan else { return }
        self.current = nil
        // An answer without a body (HEAD, 304) leaves the upstream to finish its own, unless the client's body is
        // still on its way (the rest will not be read, and the upstream would wait for it); a fault stops it.
        self.endUpstream(letFinish: plan.upstreamBody == nil && plan.fault == nil && !self.machine.isForwardingBody)
        // A 408 ends in a timeout however completely it was sent.
        let outcome: JournalEntry.Outcome =
            plan.status == 408 && ending.outcome == .completed ? .timeout : ending.outcome
        self.journal(record, outcome: outcome)
        guard self.isActive else { return }
        let action = self.machine.responseFinished(
            close: ending.close,
            closeAfter: plan.closeAfter,
            now: context.eventLoop.now,
            bytesReceived: self.byteCounter?.total ?? 0
        )
        self.apply(action, context: context)
    }

    // MARK: - h2c

    /// Answers `101 Switching Protocols` and hands the connection to HTTP/2, with the request as stream 1. A request
    /// whose header block would not fit one frame is answered over HTTP/1.1 instead (the upgrade is the server's
    /// choice).
    private func upgradeToHTTP2(_ request: HTTP1ConnectionStateMachine.Request, context: ChannelHandlerContext) {
        guard let spec = self.environment.http2, let injector = H2CUpgradeInjector(request: request.head) else {
            self.respond(to: request, context: context)
            return
        }
        self.timer?.cancel()
        self.timer = nil
        let switching = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"
        context.writeAndFlush(self.wrapOutboundOut(.byteBuffer(ByteBuffer(string: switching))), promise: nil)
        do {
            let sync = context.pipeline.syncOperations
            try sync.addHandler(injector)
            try HTTP2Pipeline.configure(
                context.channel,
                environment: self.environment,
                spec: spec,
                limits: self.limits,
                info: self.info
            )
            // The decoder goes last: what it holds past the request is handed on, to the injector.
            let decoder = try sync.context(handlerType: ByteToMessageHandler<HTTPRequestDecoder>.self)
            sync.removeHandler(context: context, promise: nil)
            sync.removeHandler(context: decoder, promise: nil)
        } catch {
            self.environment.logger.debug("cannot switch to HTTP/2", metadata: ["error": "\(error)"])
            context.close(promise: nil)
        }
    }

    // MARK: - Journal and closes

    /// Records the exchange once, however it ended.
    private func journal(_ record: ExchangeRecord, outcome: JournalEntry.Outcome) {
        guard !record.recorded, record.isJournaled else { return }
        record.recorded = true
        var entry = record.entry(outcome: outcome, connection: self.info)
        if entry.fault == nil, let tlsFault = self.environment.tlsFault { entry.fault = tlsFault.rawValue }
        self.recorder.record(entry, generation: record.request.facts.journalGeneration)
    }

    private func close(_ kind: HTTP1ConnectionStateMachine.CloseKind, context: ChannelHandlerContext) {
        switch kind {
        case .fin where self.environment.tlsFault == .closeWithoutNotify:
            // Below the TLS handler: the TCP connection ends with no close_notify.
            (self.socketContext ?? context).close(promise: nil)
        case .fin:
            context.close(promise: nil)
        case .reset:
            self.resetConnection(context: context)
        }
    }

    /// Closes with a TCP RST once what was written is delivered: SO_LINGER with a zero timeout, then close, from next
    /// to the socket so TLS sends no alert or close_notify first.
    private func resetConnection(context: ChannelHandlerContext) {
        let closer = self.socketContext ?? context
        guard let provider = context.channel as? any SocketOptionProvider else {
            closer.close(promise: nil)
            return
        }
        SendQueueDrain.wait(on: context.channel).flatMap {
            provider.setSoLinger(linger(l_onoff: 1, l_linger: 0))
        }.assumeIsolated().whenComplete { _ in
            closer.close(promise: nil)
        }
    }
}

@available(*, unavailable)
extension HTTP1ConnectionHandler: Sendable {}
