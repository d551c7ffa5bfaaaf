import NIOCore

/// The first handler of every connection, next to the socket. It counts open connections (the one place they are
/// counted), registers the connection for the control API's reset, numbers it, and is where closes meant to bypass
/// TLS start: an RST must reach the client as a TCP reset, not after a TLS alert, and `close-without-notify` must
/// not send close_notify.
final class ConnectionFrontHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    typealias InboundOut = NIOAny

    let info: ConnectionInfo
    private let statistics: ServerStatistics
    private let registry: ConnectionRegistry
    private var counted = false

    init(info: ConnectionInfo, statistics: ServerStatistics, registry: ConnectionRegistry) {
        self.info = info
        self.statistics = statistics
        self.registry = registry
    }

    func channelActive(context: ChannelHandlerContext) {
        self.counted = true
        self.statistics.connectionOpened()
        self.registry.add(context.channel)
        self.info.fill(from: context.channel, id: self.statistics.nextConnectionID())
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if self.counted {
            self.counted = false
            self.statistics.connectionClosed()
            self.registry.remove(context.channel)
        }
        context.fireChannelInactive()
    }
}

@available(*, unavailable)
extension ConnectionFrontHandler: Sendable {}
