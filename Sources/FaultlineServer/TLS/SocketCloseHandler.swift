import NIOCore

/// Sits at the front of every pipeline, next to the socket, so that closes meant to bypass TLS start below the TLS
/// handler: an RST must reach the client as a TCP reset, not after a TLS alert, and `close-without-notify` must
/// not send close_notify.
final class SocketCloseHandler: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = NIOAny
    typealias OutboundOut = NIOAny
}

@available(*, unavailable)
extension SocketCloseHandler: Sendable {}
