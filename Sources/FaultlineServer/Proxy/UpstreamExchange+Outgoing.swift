import FaultlineCore
import Logging

extension UpstreamExchange {
    /// What a connection sends for the upstream's answer, whichever protocol it speaks.
    enum Outgoing {
        /// The upstream's answer with the rule's keys on top; its body streams in from `body`.
        case upstream(ResponsePlan)
        /// Faultline's own answer: the upstream gave none (a 502 or 504 naming the cause).
        case own(Reply)
    }

    /// What to send for `answer` to a request that `reply` proxied. A failure is logged with its cause.
    func outgoing(
        for answer: Answer,
        reply: Reply,
        request: IncomingRequest,
        date: String,
        serverIsClosing: Bool,
        environment: ConnectionEnvironment
    ) -> Outgoing {
        switch answer {
        case .head(let head):
            return .upstream(
                ResponsePlanner.plan(
                    upstream: head,
                    response: reply.response,
                    for: request,
                    date: date,
                    serverIsClosing: serverIsClosing
                )
            )
        case .failed(let failure):
            environment.logger.info(
                "upstream failed",
                metadata: ["url": "\(self.url)", "status": "\(failure.status)", "cause": "\(failure.cause)"]
            )
            let response = ResponsePlanner.upstreamFailure(
                status: failure.status,
                cause: failure.cause,
                upstream: self.spec.upstream,
                defaultHeaders: environment.responders.rules.defaultHeaders
            )
            return .own(Reply(response: response, decision: reply.decision, planning: .plain))
        }
    }
}
