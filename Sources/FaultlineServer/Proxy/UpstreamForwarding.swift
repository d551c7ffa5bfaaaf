import FaultlineCore
import NIOCore

/// A handler that answers `proxy` replies: HTTP/1.1's connection handler and HTTP/2's stream handler. The exchange
/// with the upstream, and what goes to the client for its answer, are the same for both; how the client's body is
/// read, and held back while the upstream catches up, is each protocol's own.
protocol UpstreamForwarding: AnyObject {
    var environment: ConnectionEnvironment { get }
    /// The upstream request of a `proxy` answer in flight.
    var upstream: UpstreamExchange? { get set }
    /// The exchange being answered.
    var current: ExchangeRecord? { get }
    var isActive: Bool { get }
    /// Whether the request's body is still arriving: what follows goes up as it arrives.
    var requestBodyIsArriving: Bool { get }
    /// Whether the connection closes after this answer (HTTP/1.1's `Connection: close`).
    var closesAfterAnswer: Bool { get }
    /// The `Date` value for now.
    func date() -> String
    /// Plans Faultline's own answer.
    func plan(
        _ reply: Reply,
        for request: HTTP1ConnectionStateMachine.Request,
        file: ResponsePlanner.FileFacts?
    ) -> ResponsePlan
    /// Hands a plan to the writer; a plan whose body streams in from an upstream reads it from `incoming`.
    func write(
        _ plan: ResponsePlan,
        record: ExchangeRecord,
        file: NIOFileHandle?,
        incoming: (any IncomingBody)?,
        context: ChannelHandlerContext
    )
    /// The upstream has not taken the forwarded body so far (`true`), or has taken all of it (`false`): the client
    /// is read only while it keeps up.
    func upstreamHoldsBody(_ held: Bool, context: ChannelHandlerContext)
}

extension UpstreamForwarding {
    /// Forwards the request to the reply's upstream and, when its head arrives, plans the upstream's answer with the
    /// rule's headers, delays, pace and fault on top and hands it to the writer, which reads the body as it streams
    /// in. A body still arriving goes up as it does, and the client is read only as fast as the upstream takes it.
    /// An upstream that gives no answer gets Faultline's own 502 or 504, with the cause on one line.
    func forward(
        _ reply: Reply,
        proxy: ProxySpec,
        to request: HTTP1ConnectionStateMachine.Request,
        record: ExchangeRecord,
        context: ChannelHandlerContext
    ) {
        let exchange = UpstreamExchange(spec: proxy, target: request.head.target, eventLoop: context.eventLoop)
        self.upstream = exchange
        record.upstream = exchange
        // The exchange keeps this closure: it names the exchange by identity, not by a reference that would keep it.
        let id = ObjectIdentifier(exchange)
        exchange.onRequestBodyPressure = { [weak self] held in
            guard let self, self.isActive, self.upstream.map(ObjectIdentifier.init) == id else { return }
            self.upstreamHoldsBody(held, context: context)
        }
        exchange.start(
            request: request.head,
            body: request.body,
            bodyIsComplete: !self.requestBodyIsArriving,
            client: self.environment.upstream
        ) { [weak self] answer in
            guard let self, self.isActive, self.current === record else {
                exchange.cancel()
                return
            }
            let outgoing = exchange.outgoing(
                for: answer,
                reply: reply,
                request: request.head,
                date: self.date(),
                serverIsClosing: self.closesAfterAnswer,
                environment: self.environment
            )
            switch outgoing {
            case .upstream(let plan):
                self.write(plan, record: record, file: nil, incoming: exchange.body, context: context)
            case .own(let answer):
                self.write(
                    self.plan(answer, for: request, file: nil),
                    record: record,
                    file: nil,
                    incoming: nil,
                    context: context
                )
            }
        }
        // What came of the body so far went up with the request; the rest is forwarded, not kept.
        request.body = []
    }

    /// Stops the upstream request in flight, if any (the exchange ended, or the connection did). With `letFinish`,
    /// an upstream whose answer has no body for the client (HEAD, 304) finishes by itself, its connection kept.
    func endUpstream(letFinish: Bool = false) {
        guard let exchange = self.upstream else { return }
        self.upstream = nil
        if letFinish {
            exchange.letFinish()
        } else {
            exchange.cancel()
        }
    }
}
