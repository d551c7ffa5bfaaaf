import FaultlineCore
import NIOCore

// MARK: - `proxy` answers (UpstreamForwarding)

extension HTTP1ConnectionHandler: UpstreamForwarding {
    /// The state machine forwards the body's parts while `upstream` is set.
    var requestBodyIsArriving: Bool { self.machine.isForwardingBody }

    var closesAfterAnswer: Bool { self.machine.closesAfterResponse }

    func upstreamHoldsBody(_ held: Bool, context: ChannelHandlerContext) {
        self.apply(self.machine.forwardingHeld(held), context: context)
    }
}
