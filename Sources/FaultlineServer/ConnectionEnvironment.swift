import FaultlineCore
import Logging
import NIOCore
import NIOPosix

/// What every connection of one listener shares: the server's state, its responders, the thread pool for blocking
/// work, and what kind of listener it is. Built once per listener; each connection's handler gets it with the current
/// limits.
struct ConnectionEnvironment: Sendable {
    let control: ServerControl
    /// For work that may block: opening body files, and the control API (it may parse a scenario).
    let threadPool: NIOThreadPool
    let statistics: ServerStatistics
    let logger: Logger
    /// Whether the connection is TLS (file bodies then go through memory: TLS cannot send a file region).
    var isTLS = false
    /// The TLS fault of the listener, if any.
    var tlsFault: TLSFault?
    /// HTTP/2 on the listener, when on.
    var http2: HTTP2Spec?
    /// Who answers requests: the rules, the control API.
    let responders: ServerResponders
    /// Every event loop of the server: the control API waits for each to finish what it is doing before it answers,
    /// so an exchange whose answer a client already has is in the journal it reads.
    var eventLoops: [any EventLoop] = []
    /// The HTTP client of `proxy` answers; `nil` where there is none (a handler test), which answers them 502.
    var upstream: UpstreamClient?

    init(
        control: ServerControl,
        threadPool: NIOThreadPool,
        statistics: ServerStatistics,
        logger: Logger,
        isTLS: Bool = false,
        tlsFault: TLSFault? = nil
    ) {
        self.control = control
        self.threadPool = threadPool
        self.statistics = statistics
        self.logger = logger
        self.isTLS = isTLS
        self.tlsFault = tlsFault
        self.responders = ServerResponders(control: control, statistics: statistics)
    }
}
