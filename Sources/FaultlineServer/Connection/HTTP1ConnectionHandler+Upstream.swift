import FaultlineCore
import Logging
import NIOCore

// MARK: - `proxy` answers

extension HTTP1ConnectionHandler {
    /// Forwards the request to the reply's upstream and, when its head arrives, plans the upstream's answer with the
    /// rule's headers, delays, pace and fault on top and hands it to the writer, which reads the body as it streams
    /// in. The request's body goes up as it arrives (the state machine forwards it while `upstream` is set), and the
    /// client is read only as fast as the upstream takes it. An upstream that gives no answer gets Faultline's own 502
    /// or 504, with the cause on one line.
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
            self.apply(self.machine.forwardingHeld(held), context: context)
        }
        exchange.start(
            request: request.head,
            body: request.body,
            bodyIsComplete: !self.machine.isForwardingBody,
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
                serverIsClosing: self.machine.closesAfterResponse,
                environment: self.environment
            )
            switch outgoing {
            case .upstream(let plan):
                self.write(plan, record: record, file: nil, incoming: exchange.body, context: context)
            case .own(let answer):
                self.write(self.plan(answer, for: request), record: record, file: nil, context: context)
            }
        }
        // What came of the body before the reply went up with the request; the rest is forwarded, not kept.
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
