import FaultlineCore
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The `handshake-hang` and `handshake-reset` listeners: no TLS at all, just a TCP connection that never answers
/// the ClientHello, or that answers it with an RST. Each connection is journaled.
final class HandshakeFaultHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let fault: TLSFault
    private let info: ConnectionInfo
    private let recorder: ServerRecorder

    init(fault: TLSFault, info: ConnectionInfo, recorder: ServerRecorder) {
        self.fault = fault
        self.info = info
        self.recorder = recorder
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard self.fault == .handshakeReset, !self.info.connectionJournaled else { return }
        // The ClientHello arrived: reset the connection instead of answering it.
        self.journal(.reset)
        guard let provider = context.channel as? any SocketOptionProvider else {
            context.close(promise: nil)
            return
        }
        provider.setSoLinger(linger(l_onoff: 1, l_linger: 0)).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            context.close(promise: nil)
            return
        }
        if event is ChannelShouldQuiesceEvent {
            // The server is stopping: a handshake that never ends would hold it for the whole grace period.
            self.journal(.dropped)
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.journal(.clientClosed)
        context.fireChannelInactive()
    }

    private func journal(_ outcome: JournalEntry.Outcome) {
        self.info.journalConnectionOnly(fault: self.fault.rawValue, outcome: outcome, recorder: self.recorder)
    }
}

@available(*, unavailable)
extension HandshakeFaultHandler: Sendable {}
