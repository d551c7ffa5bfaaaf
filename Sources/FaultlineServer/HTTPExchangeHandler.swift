import FaultlineCore
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOTLS
import SwiftASN1
import X509

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Serves one connection: reads requests (pipelined ones are queued and answered in order), asks the rule engine
/// for each answer, and carries out the plan on the event loop (the sending half lives in
/// `HTTPExchangeHandler+Sending.swift`). Requests over the limits, with an unsupported version or a failed
/// expectation are refused here, before any rule sees them. Every exchange ends in the journal, however it ends.
final class HTTPExchangeHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// How many complete requests may wait behind the one being answered before reading stops.
    static let maxQueuedRequests = 16
    /// How long a refused client may keep sending before the connection is closed for good.
    static let lingerTime: TimeAmount = .seconds(2)

    // MARK: - Collaborators

    let environment: ConnectionEnvironment
    let fileIO: NonBlockingFileIO
    let limits: Limits
    var control: ServerControl { self.environment.control }
    var statistics: ServerStatistics { self.environment.statistics }
    var logger: Logger { self.environment.logger }
    var live: LiveScenario { self.control.live }
    var recorder: ServerRecorder { self.control.recorder }
    var isTLS: Bool { self.environment.isTLS }
    var tlsFault: TLSFault? { self.environment.tlsFault }

    // MARK: - Connection state

    /// The connection's number, for the journal.
    private(set) var connectionID = 0
    /// The listener's address, such as `127.0.0.1:8080`.
    private(set) var listenerName = ""
    /// The client's address.
    private(set) var clientAddress = "-"
    /// The context of the response encoder: writes through it go below the encoder, as raw bytes on the wire.
    var rawContext: ChannelHandlerContext?
    /// The context next to the socket: closes through it bypass TLS (an RST, a close without close_notify).
    var socketContext: ChannelHandlerContext?
    /// Counts what the connection received, for telling an idle connection from a slow request head.
    private var byteCounter: InboundByteCounter?
    /// The byte count when the request timer started.
    private var bytesAtTimerStart: Int64 = 0
    /// Requests answered on this connection so far.
    private var requestsAnswered = 0
    /// The server closed the connection (rather than the client).
    private var closedByServer = false
    /// The negotiated TLS version, such as `TLSv1.3`.
    private var tlsVersion: String?
    /// The client certificate's subject, when the client presented one.
    private var clientSubject: String?
    /// The TLS handshake finished (always true for plaintext).
    private var handshakeDone = false
    private var connectedAt = NIODeadline.now()
    private var connectedWallClock = Date().timeIntervalSince1970
    /// The request whose head has arrived but not its end.
    private var receiving: ReceivedRequest?
    /// Complete requests (or a refusal) waiting for their turn.
    private var queue = CircularBuffer<QueuedItem>(initialCapacity: 2)
    /// The response being sent.
    var exchange: Exchange?
    /// A read the channel asked for while the queue was full.
    private var readPending = false
    /// A request was refused or malformed: nothing more is read, and the connection closes after the answers.
    private var stoppedReading = false
    /// The client shut down its sending side; close once the response in flight is sent.
    private var inputClosed = false
    /// The server is shutting down; close once the queue is answered.
    private var quiescing = false
    /// After a refusal the output is closed and what the client still sends is read and thrown away for a while,
    /// so that its unread bytes do not make the kernel reset the connection before it has read the answer.
    private var lingering = false
    var isActive = true
    /// Fires when a request head takes longer than `requestTimeout` to arrive, or a lingering close is over.
    private var headTimer: Scheduled<Void>?
    /// Ends a lingering close.
    private var lingerTimer: Scheduled<Void>?
    /// When the head being waited for is due; `nil` when not waiting.
    private var headDeadline: NIODeadline?
    private var dateCache = HTTPDateCache()
    private var handshakeFailureJournaled = false

    /// `limits` are the scenario's when the connection opened (a reloaded scenario may change them).
    init(environment: ConnectionEnvironment, limits: Limits) {
        self.environment = environment
        self.fileIO = NonBlockingFileIO(threadPool: environment.threadPool)
        self.limits = limits
        self.handshakeDone = !environment.isTLS
    }

    // MARK: - Lifecycle

    func handlerAdded(context: ChannelHandlerContext) {
        self.rawContext = try? context.pipeline.syncOperations.context(handlerType: HTTPResponseEncoder.self)
        self.socketContext = try? context.pipeline.syncOperations.context(handlerType: SocketCloseHandler.self)
        self.byteCounter = try? context.pipeline.syncOperations.handler(type: InboundByteCounter.self)
    }

    func channelActive(context: ChannelHandlerContext) {
        self.statistics.connectionOpened()
        self.control.connections.add(context.channel)
        self.connectionID = self.statistics.nextConnectionID()
        if let local = context.channel.localAddress {
            self.listenerName = HandshakeFaultHandler.describe(local)
        }
        self.clientAddress = context.channel.remoteAddress?.ipAddress ?? "-"
        self.connectedAt = .now()
        self.connectedWallClock = Date().timeIntervalSince1970
        self.startHeadTimer(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.isActive = false
        self.headTimer?.cancel()
        self.headTimer = nil
        self.lingerTimer?.cancel()
        self.lingerTimer = nil
        self.statistics.connectionClosed()
        self.control.connections.remove(context.channel)
        self.cancelHeadTimer()
        if let exchange = self.exchange {
            let outcome: JournalEntry.Outcome = exchange.bodyFinished ? .completed : .clientClosed
            self.journal(exchange, outcome: outcome)
            exchange.cancel(statistics: self.statistics)
            self.logger.debug("connection closed with a response in flight", metadata: ["target": "\(exchange.request.target)"])
        }
        self.exchange = nil
        // Requests that never got their turn, and one half received, are journaled too: never answered.
        let unanswered: JournalEntry.Outcome = self.closedByServer ? .dropped : .clientClosed
        for item in self.queue {
            switch item {
            case .request(let received):
                self.journal(Exchange(received: received, plan: nil), outcome: unanswered)
            case .decided(let received, let decision):
                self.journal(Exchange(received: received, plan: nil, decision: decision), outcome: unanswered)
            case .refusal(_, _, let received):
                if let received { self.journal(Exchange(received: received, plan: nil), outcome: unanswered) }
            }
        }
        self.queue.removeAll()
        if let received = self.receiving {
            self.journal(Exchange(received: received, plan: nil), outcome: .clientClosed)
            self.receiving = nil
        }
        // On a TLS fault listener a client that refuses the certificate after the handshake (a wrong host name,
        // say) just closes: journal the connection so the refusal shows.
        if let fault = self.tlsFault, self.handshakeDone, self.requestsAnswered == 0 {
            self.journalConnectionOnly(fault: fault.rawValue)
        }
        context.fireChannelInactive()
    }

    // MARK: - Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !self.stoppedReading, !self.lingering else { return }
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.cancelHeadTimer()
            self.received(head, context: context)
        case .body(let buffer):
            // Changed in place: a copy of the request would copy the control API body read so far with every part.
            guard self.receiving != nil else { return }
            self.receiving?.bodyBytes += Int64(buffer.readableBytes)
            guard let bodyBytes = self.receiving?.bodyBytes, bodyBytes <= self.limits.maxBodySize else {
                let message = "the request body is larger than \(ByteCount.format(self.limits.maxBodySize))"
                self.refuse(413, message, self.receiving, context: context)
                return
            }
            if self.receiving?.isControl == true {
                // The control API reads its bodies (a scenario to load); everything else only counts them.
                self.receiving?.body.append(contentsOf: buffer.readableBytesView)
            }
        case .end:
            guard let received = self.receiving else { return }
            self.receiving = nil
            // After CONNECT or an Upgrade request NIO's parser reads nothing more; the answer closes the connection.
            if received.request.asksToSwitchProtocols { self.stoppedReading = true }
            if self.exchange == nil, self.queue.isEmpty, self.isActive {
                // Nothing ahead of it: answer at once, without a trip through the queue.
                self.answer(request: received, context: context)
                return
            }
            self.queue.append(.request(received))
            self.answerNext(context: context)
        }
    }

    /// Checks a new request head against the limits and its `Expect`, before any rule sees it.
    private func received(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        var incoming = IncomingRequest(head)
        incoming.tlsVersion = self.tlsVersion
        incoming.clientCertificateSubject = self.clientSubject
        var received = ReceivedRequest(request: incoming)
        received.isControl = ControlAPI.handles(incoming)
        received.journalGeneration = self.recorder.journal.generation
        let request = received.request
        switch RequestAdmission.check(request, headerBytes: RequestAdmission.headerBytes(request.headers), limits: self.limits) {
        case .refuse(let status, let message):
            self.refuse(status, message, received, context: context)
            return
        case .decideBeforeBody where self.exchange == nil && self.queue.isEmpty && !received.isControl:
            // The rule is chosen now, before the body, when nothing else is queued ahead of this request.
            let decision = self.live.engine.decide(request)
            switch decision.earlyAnswer {
            case .hangWithoutBody:
                self.queue.append(.decided(received, decision))
                self.answerNext(context: context)
                return
            case .answerWithoutBody:
                self.stoppedReading = true
                self.queue.append(.decided(received, decision))
                self.answerNext(context: context)
                return
            case .askForBody:
                received.decision = decision
                let continueHead = HTTPResponseHead(version: .http1_1, status: .custom(code: 100, reasonPhrase: "Continue"))
                context.writeAndFlush(self.wrapOutboundOut(.head(continueHead)), promise: nil)
            }
        case .admit, .decideBeforeBody:
            break
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
        if !self.handshakeDone {
            // The TLS handshake failed: the client refused the certificate, or spoke no TLS.
            self.journalFailedHandshake(error)
            context.close(promise: nil)
            return
        }
        if self.lingering || self.stoppedReading { return }
        guard let parserError = error as? HTTPParserError else {
            self.logger.debug("connection error", metadata: ["error": "\(error)"])
            context.close(promise: nil)
            return
        }
        // Answer what came before the malformed request, then the error, then close.
        let received = self.receiving
        switch parserError {
        case .headerOverflow:
            self.refuse(431, "the request head is too large", received, context: context)
        case .invalidVersion:
            self.refuse(505, "only HTTP/1.1 and HTTP/1.0 are supported", received, context: context)
        case .invalidMethod:
            self.refuse(501, "the request's method is not implemented", received, context: context)
        default:
            self.refuse(400, "the request is malformed (\(parserError))", received, context: context)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case let event as ChannelEvent where event == .inputClosed:
            self.inputClosed = true
            if self.lingering {
                context.close(promise: nil)
                return
            }
            // A client that closes while its response waits out a delay or a hang has given up, as nginx judges it
            // (499): drop the pending work now rather than answer nobody later. Otherwise answer what it asked for.
            if let exchange = self.exchange, exchange.isWaiting {
                self.logger.debug("client closed while its response waited", metadata: ["target": "\(exchange.request.target)"])
                context.close(promise: nil)
                return
            }
            self.closeIfIdle(context: context)
        case is ChannelShouldQuiesceEvent:
            self.quiescing = true
            // A hang never finishes by itself; the server is stopping, so end it now.
            if let exchange = self.exchange, exchange.isHanging {
                self.finish(exchange, outcome: .dropped, close: .fin, context: context)
                return
            }
            self.closeIfIdle(context: context)
        case is ResetEvent:
            // The control API's reset: a response held back by a delay, a pause or a hang is closed.
            if let exchange = self.exchange, exchange.isWaiting {
                self.finish(exchange, outcome: .dropped, close: .fin, context: context)
            }
        case let event as TLSUserEvent:
            if case .handshakeCompleted = event {
                self.handshakeCompleted(context: context)
            }
            context.fireUserInboundEventTriggered(event)
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

    // MARK: - TLS

    private func handshakeCompleted(context: ChannelHandlerContext) {
        self.handshakeDone = true
        guard let handler = try? context.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self) else { return }
        self.tlsVersion = handler.tlsVersion.map(TLSListener.name(of:))
        if let peer = handler.peerCertificate, let der = try? peer.toDERBytes(),
            let certificate = try? Certificate(derEncoded: der)
        {
            self.clientSubject = certificate.subject.description
        }
    }

    private func journalFailedHandshake(_ error: any Error) {
        guard !self.handshakeFailureJournaled else { return }
        self.logger.debug("TLS handshake failed", metadata: ["error": "\(error)"])
        self.journalConnectionOnly(fault: self.tlsFault?.rawValue ?? "tls-handshake-failed")
    }

    /// Journals a connection that ended without a request (a refused certificate, a failed handshake), once.
    private func journalConnectionOnly(fault: String) {
        guard !self.handshakeFailureJournaled else { return }
        self.handshakeFailureJournaled = true
        self.recorder.record(
            JournalEntry.connectionOnly(
                connection: self.connectionID,
                listener: self.listenerName,
                client: self.clientAddress,
                receivedAt: self.connectedWallClock,
                fault: fault,
                outcome: .clientClosed,
                totalMs: Double((NIODeadline.now() - self.connectedAt).nanoseconds) / 1e6
            )
        )
    }

    // MARK: - Refusals and timeouts

    /// Stops reading and queues a refusal, answered after the requests before it, then the connection closes.
    private func refuse(_ status: Int, _ message: String, _ received: ReceivedRequest?, context: ChannelHandlerContext) {
        self.stoppedReading = true
        self.receiving = nil
        self.queue.append(.refusal(status: status, message: message, received))
        self.answerNext(context: context)
    }

    /// Closes the output, then reads and discards input until the client closes or `lingerTime` passes, as
    /// nginx's lingering close does.
    private func lingerThenClose(context: ChannelHandlerContext) {
        self.lingering = true
        self.cancelHeadTimer()
        context.close(mode: .output, promise: nil)
        self.lingerTimer = context.eventLoop.assumeIsolated().scheduleTask(in: Self.lingerTime) {
            context.close(promise: nil)
        }
        context.read()
    }

    /// Starts waiting for a request head. The deadline moves with every request, but the timer behind it is
    /// scheduled only when none is pending: a request costs a store, not a timer, on a busy keep-alive connection.
    private func startHeadTimer(context: ChannelHandlerContext) {
        self.headDeadline = .now() + .nanoseconds(self.limits.requestTimeout.nanoseconds)
        self.bytesAtTimerStart = self.byteCounter?.total ?? 0
        if self.headTimer == nil {
            self.scheduleHeadTimer(at: self.headDeadline ?? .now(), context: context)
        }
    }

    private func scheduleHeadTimer(at deadline: NIODeadline, context: ChannelHandlerContext) {
        self.headTimer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) {
            self.headTimer = nil
            self.headTimerFired(context: context)
        }
    }

    private func headTimerFired(context: ChannelHandlerContext) {
        guard let deadline = self.headDeadline, self.isActive, !self.lingering else { return }
        if deadline > .now() {
            // The deadline moved on since this timer was set.
            self.scheduleHeadTimer(at: deadline, context: context)
            return
        }
        self.headDeadline = nil
        guard self.exchange == nil, self.queue.isEmpty else { return }
        // An idle keep-alive connection is closed quietly, as nginx's keepalive_timeout does: a 408 there
        // could be read as the answer to a request the client sends at that moment.
        if self.requestsAnswered > 0, (self.byteCounter?.total ?? 0) == self.bytesAtTimerStart {
            self.closedByServer = true
            context.close(promise: nil)
            return
        }
        let message = "no complete request head arrived within \(DurationSyntax.format(self.limits.requestTimeout))"
        self.refuse(408, message, self.receiving, context: context)
    }

    /// Stops waiting for a head; a pending timer finds no deadline and lets itself go.
    private func cancelHeadTimer() {
        self.headDeadline = nil
    }

    // MARK: - Choosing the answer

    func answerNext(context: ChannelHandlerContext) {
        guard self.isActive, self.exchange == nil, let item = self.queue.popFirst() else { return }
        if self.readPending, self.queue.count < Self.maxQueuedRequests {
            self.readPending = false
            context.read()
        }
        switch item {
        case .request(let received):
            self.answer(request: received, context: context)
        case .decided(let received, let decision):
            self.answer(received, decision: decision, context: context)
        case .refusal(let status, let message, let received):
            // A refusal stopped reading, so the plan closes the connection after it.
            let response = ResolvedResponse.text(status: status, "Faultline: \(message).\n", headers: self.live.engine.scenario.defaultHeaders)
            let record = received ?? ReceivedRequest(request: IncomingRequest(method: "", target: "", version: (1, 1)))
            self.start(Exchange(received: record, plan: self.plan(response, for: record.request)), context: context)
        }
    }

    /// Answers a complete request: the control API's, or the rules'.
    private func answer(request received: ReceivedRequest, context: ChannelHandlerContext) {
        if received.isControl {
            self.answerControl(received, context: context)
            return
        }
        let decision = received.decision ?? self.live.engine.decide(received.request)
        self.answer(received, decision: decision, context: context)
    }

    /// The control API may parse and check a scenario (reading its files) or format the whole journal: that work
    /// runs on the thread pool, so the connections of this event loop never wait for it.
    private func answerControl(_ received: ReceivedRequest, context: ChannelHandlerContext) {
        let placeholder = Exchange(received: received, plan: nil)
        self.exchange = placeholder
        let (request, body, control) = (received.request, received.body, self.control)
        let (remoteAddress, localAddress) = (context.channel.remoteAddress, context.channel.localAddress)
        let statistics = self.statistics
        self.environment.threadPool.runIfActive(eventLoop: context.eventLoop) {
            ControlAPI.respond(
                to: request,
                body: body,
                remoteAddress: remoteAddress,
                localAddress: localAddress,
                control: control,
                statistics: statistics
            )
        }.assumeIsolated().whenComplete { result in
            guard self.isActive, self.exchange === placeholder else { return }
            let response = (try? result.get()) ?? ResolvedResponse(
                status: 503,
                body: .bytes(Array(#"{"error":"the server is shutting down"}"#.utf8), contentType: "application/json")
            )
            self.start(Exchange(received: received, plan: self.plan(response, for: request)), context: context)
        }
    }

    private func answer(_ received: ReceivedRequest, decision: Decision, context: ChannelHandlerContext) {
        let request = received.request
        guard case .file(let file, _) = decision.response.body else {
            self.start(Exchange(received: received, plan: self.plan(decision.response, for: request), decision: decision), context: context)
            return
        }
        // Mark the connection busy while the file opens (off the event loop), so the next request waits its turn.
        let placeholder = Exchange(received: received, plan: nil, decision: decision)
        self.exchange = placeholder
        self.environment.threadPool.runIfActive(eventLoop: context.eventLoop) {
            BodyFileOpener.open(file)
        }.assumeIsolated().whenComplete { result in
            switch result {
            case .success(.success(let opened)):
                guard self.isActive, self.exchange === placeholder else {
                    try? opened.handle.close()
                    return
                }
                let facts = ResponsePlanner.FileFacts(length: opened.length, modified: opened.modified)
                let exchange = Exchange(received: received, plan: self.plan(decision.response, for: request, file: facts), decision: decision)
                exchange.file = opened.handle
                self.start(exchange, context: context)
            case .success(.failure(let failure)):
                guard self.isActive, self.exchange === placeholder else { return }
                self.logger.error("cannot open body file", metadata: ["path": "\(file.path)", "error": "\(failure.reason)"])
                let response = ResolvedResponse.text(status: 500, "Faultline: \(failure.description).\n")
                self.start(Exchange(received: received, plan: self.plan(response, for: request), decision: decision), context: context)
            case .failure:
                // The thread pool is shutting down with the server.
                guard self.isActive, self.exchange === placeholder else { return }
                self.finish(placeholder, outcome: .dropped, close: .fin, context: context)
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
            serverIsClosing: self.quiescing || self.stoppedReading || self.tlsFault == .closeWithoutNotify
        )
    }

    // MARK: - Ending an exchange

    /// Records the exchange once, however it ended.
    func journal(_ exchange: Exchange, outcome: JournalEntry.Outcome) {
        guard !exchange.journaled, !exchange.isControl else { return }
        exchange.journaled = true
        var entry = exchange.entry(outcome: outcome, connection: self.connectionID, listener: self.listenerName, client: self.clientAddress)
        entry.tls = self.tlsVersion
        if entry.fault == nil, let tlsFault = self.tlsFault { entry.fault = tlsFault.rawValue }
        self.recorder.record(entry, generation: exchange.received.journalGeneration)
    }

    /// The exchange is over: record it, then close the connection or answer the next request.
    func finish(_ exchange: Exchange, outcome: JournalEntry.Outcome, close: CloseKind?, context: ChannelHandlerContext) {
        // A 408 ends in a timeout however completely it was sent.
        self.journal(exchange, outcome: exchange.plan?.status == 408 && outcome == .completed ? .timeout : outcome)
        exchange.cancel(statistics: self.statistics)
        guard self.exchange === exchange else { return }
        self.exchange = nil
        self.requestsAnswered += 1
        guard self.isActive else { return }
        if close != nil || exchange.plan?.closeAfter ?? true { self.closedByServer = true }
        switch close {
        case .some(.reset):
            self.resetConnection(context: context)
            return
        case .some(.fin):
            context.close(promise: nil)
            return
        case .none:
            break
        }
        if exchange.plan?.closeAfter ?? true {
            if self.tlsFault == .closeWithoutNotify {
                // Below the TLS handler: the TCP connection ends with no close_notify.
                (self.socketContext ?? context).close(promise: nil)
            } else if self.stoppedReading && !self.inputClosed {
                self.lingerThenClose(context: context)
            } else {
                context.close(promise: nil)
            }
            return
        }
        self.answerNext(context: context)
        // The next answer may have ended the connection already (a refusal, a fault).
        guard self.isActive, !self.lingering else { return }
        if self.exchange == nil, self.queue.isEmpty, self.receiving == nil {
            self.startHeadTimer(context: context)
        }
        self.closeIfIdle(context: context)
    }

    /// How a fault ends the connection.
    enum CloseKind {
        /// A normal close (FIN).
        case fin
        /// An abortive close (RST).
        case reset
    }

    /// Closes with a TCP RST: SO_LINGER with a zero timeout, then close.
    func resetConnection(context: ChannelHandlerContext) {
        // Closed from next to the socket, so TLS sends no alert or close_notify before the RST.
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
    /// A request being read: its head, how many body bytes came, when, and the decision made early for `Expect`.
    struct ReceivedRequest {
        var request: IncomingRequest
        var bodyBytes: Int64 = 0
        /// The body, kept for control API requests only.
        var body: [UInt8] = []
        var decision: Decision?
        /// A request to the control API: its body is kept, and it is not journaled.
        var isControl = false
        /// The journal's generation when the request arrived: a reset after that leaves it out of the journal.
        var journalGeneration: Int?
        /// Wall-clock arrival, in seconds since 1970.
        var receivedAt: Double = Date().timeIntervalSince1970
        /// Monotonic arrival, for durations.
        var arrivedAt: NIODeadline = .now()
    }

    /// What waits for its turn on the connection. Indirect: a request with its decision takes several hundred
    /// bytes, and an idle connection's queue should not reserve room for many of them.
    indirect enum QueuedItem {
        /// A complete request.
        case request(ReceivedRequest)
        /// A request answered before its body was read.
        case decided(ReceivedRequest, Decision)
        /// A request refused before any rule saw it; the connection closes after the answer.
        case refusal(status: Int, message: String, ReceivedRequest?)
    }
}
