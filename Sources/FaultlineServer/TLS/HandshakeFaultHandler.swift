import FaultlineCore
import Foundation
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
    private let control: ServerControl
    private let statistics: ServerStatistics
    private var connection = 0
    private var listener = "-"
    private var client = "-"
    private var receivedAt = Date().timeIntervalSince1970
    private var arrivedAt = NIODeadline.now()
    private var journaled = false

    init(fault: TLSFault, control: ServerControl, statistics: ServerStatistics) {
        self.fault = fault
        self.control = control
        self.statistics = statistics
    }

    func channelActive(context: ChannelHandlerContext) {
        self.statistics.connectionOpened()
        self.connection = self.statistics.nextConnectionID()
        self.listener = context.channel.localAddress.map(Self.describe) ?? "-"
        self.client = context.channel.remoteAddress?.ipAddress ?? "-"
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard self.fault == .handshakeReset, !self.journaled else { return }
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
        self.statistics.connectionClosed()
        self.journal(.clientClosed)
        context.fireChannelInactive()
    }

    private func journal(_ outcome: JournalEntry.Outcome) {
        guard !self.journaled else { return }
        self.journaled = true
        self.control.recorder.record(
            JournalEntry.connectionOnly(
                connection: self.connection,
                listener: self.listener,
                client: self.client,
                receivedAt: self.receivedAt,
                fault: self.fault.rawValue,
                outcome: outcome,
                totalMs: Double((NIODeadline.now() - self.arrivedAt).nanoseconds) / 1e6
            )
        )
    }

    /// A listener's address as the journal names it: `127.0.0.1:8080`, `[::1]:8080`.
    static func describe(_ address: SocketAddress) -> String {
        let host = address.ipAddress.map { $0.contains(":") ? "[\($0)]" : $0 } ?? "-"
        return "\(host):\(address.port ?? 0)"
    }
}

@available(*, unavailable)
extension HandshakeFaultHandler: Sendable {}
