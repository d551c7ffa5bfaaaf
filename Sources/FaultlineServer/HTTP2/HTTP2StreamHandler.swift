import FaultlineCore
import Foundation
import Logging
import NIOCore
import NIOHPACK
import NIOHTTP2
import NIOPosix

/// Serves one HTTP/2 stream: its request (HEADERS, then DATA) goes to the same responders as an HTTP/1.1 request,
/// the reply is planned the same way, and `HTTP2ResponseWriter` sends it as frames. A stream beyond the connection's
/// `maxConcurrentStreams` (or above a GOAWAY) is refused with RST_STREAM REFUSED_STREAM; a stream the client resets
/// ends as `client-closed`. Every stream ends in the journal, with its stream id.
final class HTTP2StreamHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias OutboundIn = HTTP2Frame.FramePayload
    typealias OutboundOut = HTTP2Frame.FramePayload

    let environment: ConnectionEnvironment
    private let connection: HTTP2ConnectionState
    private let limits: Limits
    private var streamID = 0
    private var admitted = false
    private var writer: HTTP2ResponseWriter?
    private var request: HTTP1ConnectionStateMachine.Request?
    /// The request is complete (END_STREAM seen) and answered or being answered.
    private var answering = false
    private(set) var current: ExchangeRecord?
    private(set) var isActive = true
    /// The server's grace period ran out with this stream open.
    private var graceEnded = false
    /// The upstream request of a `proxy` answer in flight.
    var upstream: UpstreamExchange?
    /// The request's body goes on to the upstream as it arrives (the reply, a `proxy` answer, came before its end).
    private var forwarding = false
    /// The reply decided from the head, before the body, for a scenario with `proxy` rules; sent once the body ends.
    private var earlyReply: Reply?
    /// The upstream has not taken the forwarded body so far: the stream is not read (its flow-control window then
    /// stays shut, and the client waits).
    private var bodyHeld = false
    private var readPending = false

    private var recorder: ServerRecorder { self.environment.control.recorder }

    init(environment: ConnectionEnvironment, connection: HTTP2ConnectionState, limits: Limits) {
        self.environment = environment
        self.connection = connection
        self.limits = limits
    }

    // MARK: - Lifecycle

    func handlerAdded(context: ChannelHandlerContext) {
        self.streamID =
            (try? context.channel.syncOptions?.getOption(HTTP2StreamChannelOptions.streamID)).map { Int(Int32($0)) }
            ?? 0
        self.writer = HTTP2ResponseWriter(
            context: context,
            connection: self.connection,
            streamID: self.streamID,
            fileIO: NonBlockingFileIO(threadPool: self.environment.threadPool),
            isTLS: self.environment.isTLS,
            statistics: self.environment.statistics,
            metrics: self.environment.control.metrics
        )
        self.admitted = self.connection.admit(stream: self.streamID)
        if self.admitted { self.connection.register(stream: self.streamID, channel: context.channel) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        // The writer holds this handler's context: let it go on the next tick, after `channelInactive`'s last look.
        context.eventLoop.assumeIsolated().execute { self.writer = nil }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.isActive = false
        if self.admitted { self.connection.streamClosed(self.streamID) }
        context.fireChannelInactive()
        // NIO closes a stream as its last frame goes out, before that write's promise completes: the writer then
        // finishes the exchange itself. What is still open on the next tick was cut short by the client (RST_STREAM
        // CANCEL, a closed connection).
        let writer = self.writer
        context.eventLoop.assumeIsolated().execute {
            writer?.abort()
            self.endUpstream()
            if let record = self.current {
                self.current = nil
                self.journal(record, outcome: record.bodyFinished ? .completed : .clientClosed)
            } else if let request = self.request, !self.answering {
                let record = ExchangeRecord(request: request, decision: nil, isJournaled: request.facts.isJournaled)
                self.journal(record, outcome: self.graceEnded ? .dropped : .clientClosed)
            }
        }
    }

    // MARK: - Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .headers(let headers):
            if self.request == nil {
                self.receivedHead(headers.headers, endStream: headers.endStream, context: context)
            } else if headers.endStream, self.forwarding {
                self.forwarding = false
                self.upstream?.endBody()
            } else if headers.endStream {
                // Trailers end the request.
                self.receivedEnd(context: context)
            }
        case .data(let data):
            guard let request = self.request else { return }
            if self.forwarding {
                // On its way upstream: counted, not kept (`maxBodySize` bounds what Faultline keeps).
                if case .byteBuffer(let buffer) = data.data {
                    request.bodyBytes += Int64(buffer.readableBytes)
                    self.upstream?.sendBody(buffer)
                }
                if data.endStream {
                    self.forwarding = false
                    self.upstream?.endBody()
                }
                return
            }
            guard !self.answering else { return }
            if case .byteBuffer(let buffer) = data.data {
                request.bodyBytes += Int64(buffer.readableBytes)
                if request.keepsBody { request.body.append(contentsOf: buffer.readableBytesView) }
            }
            if request.bodyBytes > self.limits.maxBodySize {
                self.refuse(
                    413,
                    "the request body is larger than \(ByteCount.format(self.limits.maxBodySize))",
                    context: context
                )
                return
            }
            if data.endStream { self.receivedEnd(context: context) }
        default:
            break
        }
    }

    func read(context: ChannelHandlerContext) {
        // The upstream catches up with the forwarded body before more of it is read.
        guard !self.bodyHeld else {
            self.readPending = true
            return
        }
        context.read()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        self.writer?.writabilityChanged()
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case is GracePeriodEndedEvent:
            // The server's grace period ran out: what is left is its own cut.
            self.graceEnded = true
            self.abort(outcome: .dropped, context: context)
        case is ChannelShouldQuiesceEvent, is ResetEvent:
            // A hang (or, for a reset, anything that waits) ends: the stream is reset.
            if self.writer?.isHanging == true || (event is ResetEvent && self.writer?.isWaiting == true) {
                self.abort(outcome: .dropped, context: context)
            }
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    private func receivedHead(_ headers: HPACKHeaders, endStream: Bool, context: ChannelHandlerContext) {
        let head = Self.incomingRequest(headers, info: self.connection.info)
        self.connection.info.requestsSeen += 1
        let responder = self.environment.responders.responder(for: head)
        let request = HTTP1ConnectionStateMachine.Request(
            head: head,
            keepsBody: responder.readsBody,
            facts: .arriving(isJournaled: responder.isJournaled, journal: self.recorder.journal)
        )
        request.facts.streamID = self.streamID
        self.request = request
        guard self.admitted else {
            // Beyond maxConcurrentStreams, or above a GOAWAY: refused, as real servers do; nothing was processed.
            self.answering = true
            let record = ExchangeRecord(request: request, decision: nil, isJournaled: request.facts.isJournaled)
            context.writeAndFlush(self.wrapOutboundOut(.rstStream(.refusedStream)), promise: nil)
            self.journal(record, outcome: .dropped)
            context.close(promise: nil)
            return
        }
        if case .refuse(let status, let message) = RequestAdmission.check(
            head,
            headerBytes: RequestAdmission.headerBytes(head.headers),
            limits: self.limits
        ), status != 505 {
            self.refuse(status, message, context: context)
            return
        }
        if endStream {
            self.receivedEnd(context: context)
        } else if responder.forwardsBodies, !responder.mayBlock {
            // The body may go upstream, as it arrives: the reply is decided from the head (rules never read bodies).
            let reply = responder.respond(to: self.asked(request))
            if reply.response.proxy != nil {
                self.answering = true
                self.forwarding = true
                self.send(reply, to: request, isJournaled: responder.isJournaled, context: context)
            } else {
                self.earlyReply = reply
            }
        }
    }

    private func asked(_ request: HTTP1ConnectionStateMachine.Request) -> ResponderRequest {
        ResponderRequest(
            head: request.head,
            body: request.body,
            clientIsLoopback: self.connection.info.clientIsLoopback,
            listenerAddress: self.connection.info.listenerAddress
        )
    }

    private func receivedEnd(context: ChannelHandlerContext) {
        guard let request = self.request, !self.answering else { return }
        self.answering = true
        let responder = self.environment.responders.responder(for: request.head)
        if let early = self.earlyReply {
            self.earlyReply = nil
            self.send(early, to: request, isJournaled: responder.isJournaled, context: context)
            return
        }
        let asked = self.asked(request)
        guard responder.mayBlock else {
            self.send(responder.respond(to: asked), to: request, isJournaled: responder.isJournaled, context: context)
            return
        }
        let placeholder = ExchangeRecord(request: request, decision: nil, isJournaled: responder.isJournaled)
        self.current = placeholder
        let loop = context.eventLoop
        let threadPool = self.environment.threadPool
        EventLoopFuture.andAllComplete(self.environment.eventLoops.map { $0.submit {} }, on: loop).flatMap {
            threadPool.runIfActive(eventLoop: loop) { responder.respond(to: asked) }
        }.assumeIsolated().whenComplete { result in
            guard self.isActive, self.current === placeholder else { return }
            guard let reply = try? result.get() else {
                self.abort(outcome: .dropped, context: context)
                return
            }
            self.send(reply, to: request, isJournaled: responder.isJournaled, context: context)
        }
    }

    /// Answers a request refused before any responder saw it, and resets the rest of its body.
    private func refuse(_ status: Int, _ message: String, context: ChannelHandlerContext) {
        guard let request = self.request, !self.answering else { return }
        self.answering = true
        let response = ResolvedResponse.text(
            status: status,
            "Faultline: \(message).\n",
            headers: self.environment.responders.rules.defaultHeaders
        )
        self.send(
            Reply(response: response, decision: self.earlyReply?.decision, planning: .plain),
            to: request,
            isJournaled: request.facts.isJournaled,
            context: context
        )
    }

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
                guard self.isActive, self.current === record else { return }
                self.abort(outcome: .dropped, context: context)
            }
        }
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
            mode: reply.planning
        )
    }

    func date() -> String {
        self.writer?.date() ?? HTTPDate.format(secondsSince1970: Int64(Date().timeIntervalSince1970))
    }

    func write(
        _ plan: ResponsePlan,
        record: ExchangeRecord,
        file: NIOFileHandle?,
        incoming: (any IncomingBody)? = nil,
        context: ChannelHandlerContext
    ) {
        guard let writer = self.writer else { return }
        writer.start(plan, record: record, file: file, incoming: incoming) { ending in
            guard self.current === record else { return }
            self.current = nil
            // An answer without a body (HEAD, 304) leaves the upstream to finish its own, unless the client's body
            // is still on its way (it will not all come now, and the upstream would wait for it); a fault stops it.
            self.endUpstream(letFinish: plan.upstreamBody == nil && plan.fault == nil && !self.forwarding)
            self.bodyHeld = false
            self.journal(record, outcome: ending.outcome)
            if self.forwarding, self.isActive {
                // Answered before the client finished its body (RFC 9113 section 8.1): the rest is not wanted.
                self.forwarding = false
                context.writeAndFlush(self.wrapOutboundOut(.rstStream(.noError)), promise: nil)
            }
        }
    }

    /// Ends the stream's exchange at once, with RST_STREAM CANCEL.
    private func abort(outcome: JournalEntry.Outcome, context: ChannelHandlerContext) {
        self.writer?.abort()
        self.endUpstream()
        if let record = self.current {
            self.current = nil
            self.journal(record, outcome: outcome)
        } else if let request = self.request, !self.answering {
            self.answering = true
            self.journal(
                ExchangeRecord(request: request, decision: nil, isJournaled: request.facts.isJournaled),
                outcome: outcome
            )
        }
        context.writeAndFlush(self.wrapOutboundOut(.rstStream(.cancel)), promise: nil)
    }

    private func journal(_ record: ExchangeRecord, outcome: JournalEntry.Outcome) {
        guard !record.recorded, record.isJournaled else { return }
        record.recorded = true
        var entry = record.entry(outcome: outcome, connection: self.connection.info)
        if entry.fault == nil, let tlsFault = self.environment.tlsFault { entry.fault = tlsFault.rawValue }
        self.recorder.record(entry, generation: record.request.facts.journalGeneration)
    }

    /// The engine's view of an HTTP/2 request: the pseudo-headers become the method and target, `:authority` the
    /// `Host`, and the request is version 2.0.
    static func incomingRequest(_ headers: HPACKHeaders, info: ConnectionInfo) -> IncomingRequest {
        var method = "GET"
        var target = "/"
        var authority: String?
        var fields: [HeaderField] = []
        fields.reserveCapacity(headers.count + 1)
        for (name, value, _) in headers {
            switch name {
            case ":method": method = value
            case ":path": target = value
            case ":authority": authority = value
            case ":scheme", ":protocol": break
            default: fields.append(HeaderField(name, value))
            }
        }
        if let authority, !fields.contains(named: "host") {
            fields.insert(HeaderField("host", authority), at: 0)
        }
        var request = IncomingRequest(method: method, target: target, headers: fields, version: (2, 0))
        request.tlsVersion = info.tlsVersion
        request.clientCertificateSubject = info.clientSubject
        return request
    }
}

@available(*, unavailable)
extension HTTP2StreamHandler: Sendable {}

// MARK: - `proxy` answers (UpstreamForwarding)

extension HTTP2StreamHandler: UpstreamForwarding {
    var requestBodyIsArriving: Bool { self.forwarding }

    var closesAfterAnswer: Bool { false }

    func upstreamHoldsBody(_ held: Bool, context: ChannelHandlerContext) {
        self.bodyHeld = held
        if !held, self.readPending {
            self.readPending = false
            context.read()
        }
    }
}
