import FaultlineCore
import Logging
import NIOCore
import NIOSSL
import NIOTLS
import SwiftASN1
import X509

/// Sits after the TLS handler and watches the handshake: what it negotiated (the version, the client certificate's
/// subject) goes into the connection's info for the journal; a handshake that fails, one that does not finish within
/// `requestTimeout` (the connection is closed), or a client that refuses a fault listener's certificate after the
/// handshake and leaves without a request, is journaled as a connection of its own.
final class TLSHandshakeObserver: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    typealias InboundOut = NIOAny

    private let info: ConnectionInfo
    private let recorder: ServerRecorder
    private let fault: TLSFault?
    private let logger: Logger
    /// How long the handshake may take.
    private let timeout: TimeAmount
    private var handshakeDone = false
    private var deadline: Scheduled<Void>?

    init(info: ConnectionInfo, recorder: ServerRecorder, fault: TLSFault?, timeout: TimeAmount, logger: Logger) {
        self.info = info
        self.recorder = recorder
        self.fault = fault
        self.timeout = timeout
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { self.startDeadline(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        self.startDeadline(context: context)
        context.fireChannelActive()
    }

    /// A handshake that never finishes would hold the connection (and a descriptor) for good.
    private func startDeadline(context: ChannelHandlerContext) {
        guard self.deadline == nil, !self.handshakeDone else { return }
        self.deadline = context.eventLoop.assumeIsolated().scheduleTask(in: self.timeout) {
            self.deadline = nil
            guard !self.handshakeDone else { return }
            self.info.journalConnectionOnly(
                fault: self.fault?.rawValue ?? "tls-handshake-timeout",
                outcome: .timeout,
                recorder: self.recorder
            )
            context.close(promise: nil)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is GracePeriodEndedEvent, !self.handshakeDone {
            // The server stops with the handshake still going: its own cut.
            self.info.journalConnectionOnly(
                fault: self.fault?.rawValue ?? "tls-handshake-cut",
                outcome: .dropped,
                recorder: self.recorder
            )
        }
        if let event = event as? TLSUserEvent, case .handshakeCompleted = event {
            self.handshakeDone = true
            self.deadline?.cancel()
            self.deadline = nil
            if let handler = try? context.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self) {
                self.info.tlsVersion = handler.tlsVersion.map(TLSListener.name(of:))
                if let peer = handler.peerCertificate, let der = try? peer.toDERBytes(),
                    let certificate = try? Certificate(derEncoded: der)
                {
                    self.info.clientSubject = certificate.subject.description
                }
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard !self.handshakeDone else {
            context.fireErrorCaught(error)
            return
        }
        // The handshake failed: the client refused the certificate, or spoke no TLS.
        self.logger.debug("TLS handshake failed", metadata: ["error": "\(error)"])
        self.info.journalConnectionOnly(
            fault: self.fault?.rawValue ?? "tls-handshake-failed",
            outcome: .clientClosed,
            recorder: self.recorder
        )
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.deadline?.cancel()
        self.deadline = nil
        // On a TLS fault listener a client that refuses the certificate after the handshake (a wrong host name, say)
        // just closes: journal the connection so the refusal shows.
        if let fault = self.fault, self.handshakeDone, self.info.requestsSeen == 0 {
            self.info.journalConnectionOnly(fault: fault.rawValue, outcome: .clientClosed, recorder: self.recorder)
        }
        context.fireChannelInactive()
    }
}

@available(*, unavailable)
extension TLSHandshakeObserver: Sendable {}
