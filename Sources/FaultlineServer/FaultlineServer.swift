public import FaultlineCore
import Foundation
public import Logging
import NIOCore
import NIOExtras
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOTLS
import Synchronization

/// A running Faultline server: one or more listeners sharing one event loop group and one live scenario.
///
/// Start it with `start(control:configuration:)`, read `listeners` for the real ports, and stop it with
/// `shutdown(gracePeriod:)`, which stops accepting, lets responses in flight finish, then closes what is left.
public final class FaultlineServer: Sendable {
    /// How to run the server.
    public struct Configuration: Sendable {
        /// Where to listen; empty means one plaintext listener on 127.0.0.1:8080.
        public var listeners: [ListenerSpec]
        /// Limits from the command line, overriding the scenario's.
        public var limitOverrides: LimitOverrides
        /// The test CA for `tls: auto` and TLS fault listeners; generated at start when one is needed and none given.
        public var certificateAuthority: TestCertificateAuthority?
        /// Event loop threads; `nil` means one per core.
        public var eventLoopThreads: Int?
        public var logger: Logger
        /// Where the exchanges of `proxy` answers are recorded (`faultline record`), if anywhere.
        public var recording: UpstreamRecording?

        public init(
            listeners: [ListenerSpec] = [],
            limitOverrides: LimitOverrides = LimitOverrides(),
            certificateAuthority: TestCertificateAuthority? = nil,
            eventLoopThreads: Int? = nil,
            logger: Logger = Logger(label: "faultline", factory: { _ in SwiftLogNoOpLogHandler() }),
            recording: UpstreamRecording? = nil
        ) {
            self.listeners = listeners
            self.limitOverrides = limitOverrides
            self.certificateAuthority = certificateAuthority
            self.eventLoopThreads = eventLoopThreads
            self.logger = logger
            self.recording = recording
        }
    }

    /// What the control API works on: the live scenario, the journal, the metrics.
    public let control: ServerControl
    /// The scenario being served; replace its engine to reload.
    public var live: LiveScenario { self.control.live }
    /// The journal, metrics and log files.
    public var recorder: ServerRecorder { self.control.recorder }
    /// The listeners as bound, in the order configured, with their real ports.
    public let listeners: [BoundListener]
    /// Live counters: open connections, pending delays.
    public let statistics: ServerStatistics
    /// The test CA that signed the generated certificates, when a listener uses one.
    public let certificateAuthority: TestCertificateAuthority?

    private let group: MultiThreadedEventLoopGroup
    private let threadPool: NIOThreadPool
    /// The HTTP client of `proxy` answers, made on first use.
    private let upstream: UpstreamClient
    /// Emptied at shutdown: a quiescing helper must go before its event loops do, since its deinit touches them.
    private let quiescers: Mutex<[ServerQuiescingHelper]>
    private let logger: Logger

    private init(
        control: ServerControl,
        listeners: [BoundListener],
        statistics: ServerStatistics,
        certificateAuthority: TestCertificateAuthority?,
        group: MultiThreadedEventLoopGroup,
        threadPool: NIOThreadPool,
        upstream: UpstreamClient,
        quiescers: [ServerQuiescingHelper],
        logger: Logger
    ) {
        self.control = control
        self.listeners = listeners
        self.statistics = statistics
        self.certificateAuthority = certificateAuthority
        self.group = group
        self.threadPool = threadPool
        self.upstream = upstream
        self.quiescers = Mutex(quiescers)
        self.logger = logger
    }

    /// Binds every listener and starts serving `live`, with a control API that has no scenario text to show.
    public static func start(live: LiveScenario, configuration: Configuration) async throws -> FaultlineServer {
        let control = ServerControl(
            live: live,
            source: ServerControl.Source(yaml: "", baseDirectory: nil)
        )
        return try await self.start(control: control, configuration: configuration)
    }

    /// Binds every listener and starts serving `control.live`. Nothing is left running when it throws.
    public static func start(control: ServerControl, configuration: Configuration) async throws -> FaultlineServer {
        let live = control.live
        let group = MultiThreadedEventLoopGroup(
            numberOfThreads: max(1, configuration.eventLoopThreads ?? System.coreCount)
        )
        let threadPool = NIOThreadPool(numberOfThreads: 2)
        threadPool.start()
        let statistics = ServerStatistics()
        let upstream = UpstreamClient(group: group, threadPool: threadPool, recorder: configuration.recording)
        let specs = configuration.listeners.isEmpty ? [ListenerSpec()] : configuration.listeners
        let needsCA = specs.contains { $0.tls?.usesGeneratedCA ?? false }
        let authority: TestCertificateAuthority?
        let tlsListeners: [TLSListener?]
        do {
            authority =
                needsCA
                ? try configuration.certificateAuthority ?? TestCertificateAuthority()
                : configuration.certificateAuthority
            tlsListeners = try specs.map { spec in
                try spec.tls.map { try TLSListener.make($0, http2: spec.http2 != nil, authority: authority) }
            }
        } catch {
            try? await threadPool.shutdownGracefully()
            try? await group.shutdownGracefully()
            throw ServerError.cannotSetUpTLS(reason: "\(error)")
        }
        var bound: [BoundListener] = []
        var quiescers: [ServerQuiescingHelper] = []
        var channels: [any Channel] = []
        do {
            for (spec, tls) in zip(specs, tlsListeners) {
                let quiescer = ServerQuiescingHelper(group: group)
                var environment = ConnectionEnvironment(
                    control: control,
                    threadPool: threadPool,
                    statistics: statistics,
                    logger: configuration.logger,
                    isTLS: tls != nil,
                    tlsFault: tls?.fault
                )
                environment.eventLoops = Array(group.makeIterator())
                environment.http2 = spec.http2
                environment.upstream = upstream
                let listenerEnvironment = environment
                let overrides = configuration.limitOverrides
                let channel = try await ServerBootstrap(group: group)
                    .serverChannelOption(.backlog, value: 4096)
                    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                    // Held weakly: NIO may keep this closure until after the event loops have stopped, and a quiescing
                    // helper that went then would touch a closed loop ("Cannot schedule tasks on an EventLoop that has
                    // already shut down"). The helper lives in `quiescers`, and goes while the loops run.
                    .serverChannelInitializer { [weak quiescer] channel in
                        let helper = quiescer
                        return channel.eventLoop.makeCompletedFuture {
                            guard let helper else { throw ChannelError.ioOnClosedChannel }
                            try channel.pipeline.syncOperations.addHandler(
                                helper.makeServerChannelHandler(channel: channel)
                            )
                        }
                    }
                    .childChannelOption(.allowRemoteHalfClosure, value: true)
                    .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                    // A connection keeps its last read buffer between requests (the HTTP decoder holds it): start
                    // small, as a request head is, and grow for connections that read more.
                    .childChannelOption(
                        .recvAllocator,
                        value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 512, maximum: 65536)
                    )
                    .childChannelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try Self.configureConnection(
                                channel,
                                tls: tls,
                                environment: listenerEnvironment,
                                limits: overrides.applied(to: live.engine.scenario.limits)
                            )
                        }
                    }
                    .bind(host: spec.host, port: spec.port)
                    .get()
                channels.append(channel)
                quiescers.append(quiescer)
                bound.append(BoundListener(spec: spec, port: channel.localAddress?.port ?? spec.port))
            }
        } catch {
            for channel in channels { try? await channel.close() }
            // A quiescing helper touches its event loop when it goes, so it must go before the loops do.
            quiescers.removeAll()
            try? await threadPool.shutdownGracefully()
            try? await group.shutdownGracefully()
            let failed = specs[bound.count]
            if let failure = error as? IOError, failure.errnoCode == EADDRINUSE {
                throw ServerError.portInUse(host: failed.host, port: failed.port)
            }
            throw ServerError.cannotBind(host: failed.host, port: failed.port, reason: "\(error)")
        }
        return FaultlineServer(
            control: control,
            listeners: bound,
            statistics: statistics,
            certificateAuthority: authority,
            group: group,
            threadPool: threadPool,
            upstream: upstream,
            quiescers: quiescers,
            logger: configuration.logger
        )
    }

    /// Sets up an accepted connection: the front handler, TLS (and its handshake observer) or a TLS fault, then HTTP:
    /// HTTP/1.1, or with `http2` HTTP/2 as ALPN chooses on TLS, or as the first bytes say in plaintext.
    static func configureConnection(
        _ channel: any Channel,
        tls: TLSListener?,
        environment: ConnectionEnvironment,
        limits: Limits
    ) throws {
        let sync = channel.pipeline.syncOperations
        let info = ConnectionInfo()
        let control = environment.control
        try sync.addHandler(
            ConnectionFrontHandler(info: info, statistics: environment.statistics, registry: control.connections)
        )
        switch tls?.mode {
        case .handshakeHang, .handshakeReset:
            try sync.addHandler(
                HandshakeFaultHandler(fault: tls?.fault ?? .handshakeHang, info: info, recorder: control.recorder)
            )
            return
        case .tls(let context):
            try sync.addHandler(NIOSSLServerHandler(context: context))
            try sync.addHandler(
                TLSHandshakeObserver(
                    info: info,
                    recorder: control.recorder,
                    fault: tls?.fault,
                    timeout: .nanoseconds(limits.requestTimeout.nanoseconds),
                    logger: environment.logger
                )
            )
            if let spec = environment.http2 {
                // ALPN decides: h2, or HTTP/1.1 for clients that offer nothing else (or nothing at all).
                try sync.addHandler(
                    ApplicationProtocolNegotiationHandler { result in
                        channel.eventLoop.makeCompletedFuture {
                            if case .negotiated("h2") = result {
                                try HTTP2Pipeline.configure(
                                    channel,
                                    environment: environment,
                                    spec: spec,
                                    limits: limits,
                                    info: info
                                )
                            } else {
                                try Self.configurePipeline(channel, environment: environment, limits: limits)
                            }
                        }
                    }
                )
                return
            }
        case .none:
            if let spec = environment.http2 {
                // Prior knowledge: a connection that starts with the HTTP/2 preface speaks HTTP/2 from the start.
                try sync.addHandler(
                    ProtocolSniffer(
                        timeout: .nanoseconds(limits.requestTimeout.nanoseconds),
                        installHTTP1: { _ in
                            try Self.configurePipeline(channel, environment: environment, limits: limits)
                        },
                        installHTTP2: { _ in
                            try HTTP2Pipeline.configure(
                                channel,
                                environment: environment,
                                spec: spec,
                                limits: limits,
                                info: info
                            )
                        }
                    )
                )
                return
            }
        }
        try Self.configurePipeline(channel, environment: environment, limits: limits)
    }

    /// Sets up a connection's HTTP/1.1 handlers (after TLS, when there is TLS): the request decoder and the
    /// connection handler. A connection without a front handler (a test's embedded channel) gets one.
    static func configurePipeline(_ channel: any Channel, environment: ConnectionEnvironment, limits: Limits) throws {
        let sync = channel.pipeline.syncOperations
        if (try? sync.handler(type: ConnectionFrontHandler.self)) == nil {
            try sync.addHandler(
                ConnectionFrontHandler(
                    info: ConnectionInfo(),
                    statistics: environment.statistics,
                    registry: environment.control.connections
                ),
                position: .first
            )
        }
        // The decoder's own caps only bound memory; the state machine enforces the configured limits itself, so that
        // a long target gets 414 and a large header section 431 rather than the decoder's one error for both.
        var decoderLimits = NIOHTTPDecoderLimitConfiguration()
        let (sum, sumOverflowed) = limits.maxURILength.addingReportingOverflow(limits.maxHeaderSize)
        let (scaled, scaleOverflowed) = sum.multipliedReportingOverflow(by: 4)
        let cap = sumOverflowed || scaleOverflowed ? Int.max : Int(clamping: max(1 << 20, scaled))
        decoderLimits.maxHeaderFieldSize = cap
        decoderLimits.maxHeaderListSize = cap
        try sync.addHandler(InboundByteCounter())
        // With HTTP/2 in plaintext, what follows an `Upgrade: h2c` request is HTTP/2's: handed on, not dropped.
        let leftOver: RemoveAfterUpgradeStrategy =
            environment.http2 != nil && !environment.isTLS ? .forwardBytes : .dropBytes
        try sync.addHandler(
            ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: leftOver, limitConfiguration: decoderLimits))
        )
        try sync.addHandler(HTTP1ConnectionHandler(environment: environment, limits: limits))
    }

    /// Stops accepting connections, lets responses in flight finish for up to `gracePeriod`, then closes every
    /// connection and stops the event loops.
    ///
    /// The order matters: every connection still open when the grace period runs out is told so
    /// (`GracePeriodEndedEvent`) and closed on its own event loop, and the server waits until each has closed and the
    /// listeners have done their bookkeeping of it, while all the loops still run; only then do the thread pool and the
    /// loops stop. So a connection's last work (its journal entry, the quiescing helpers' promises, which hop between
    /// loops) never lands on a loop that has already shut down.
    public func shutdown(gracePeriod: Duration = .seconds(10)) async {
        let quiesced = self.startQuiescing()
        if await !self.wait(for: quiesced, upTo: gracePeriod) {
            await self.cutOpenConnections()
            // Bounded all the same: a connection that cannot even be closed must not keep the process alive.
            _ = await self.wait(for: quiesced, upTo: .seconds(5))
        }
        await self.upstream.shutdown()
        try? await self.threadPool.shutdownGracefully()
        try? await self.group.shutdownGracefully()
        self.recorder.flush()
    }

    /// Waits until every event loop of the server has finished what it was doing when asked, as the control API does
    /// before it answers: an exchange whose answer a client already has is then in the journal. Returns at once on
    /// one of the server's own event loops (which cannot wait for itself).
    public func settle() {
        let loops = Array(self.group.makeIterator())
        guard let first = loops.first, !loops.contains(where: { $0.inEventLoop }) else { return }
        try? EventLoopFuture.andAllComplete(loops.map { $0.submit {} }, on: first).wait()
    }

    /// Closes the listeners and asks every connection to finish what it is doing and close; the future completes when
    /// every connection has closed.
    private func startQuiescing() -> EventLoopFuture<Void> {
        let quiescers = self.quiescers.withLock { quiescers in
            defer { quiescers = [] }
            return quiescers
        }
        let loop = self.group.next()
        let quiesced = quiescers.map { quiescer in
            let promise = loop.makePromise(of: Void.self)
            quiescer.initiateShutdown(promise: promise)
            return promise.futureResult
        }
        // The helpers go here, while the loops run: each touches its loop when it goes.
        return EventLoopFuture.andAllComplete(quiesced, on: loop)
    }

    /// Waits until `future` completes or `limit` has passed; whether it completed.
    private func wait(for future: EventLoopFuture<Void>, upTo limit: Duration) async -> Bool {
        let loop = future.eventLoop
        let outcome = loop.makePromise(of: Bool.self)
        let timer = loop.scheduleTask(in: .nanoseconds(limit.nanoseconds)) { outcome.succeed(false) }
        future.whenComplete { _ in outcome.succeed(true) }
        let completed = (try? await outcome.futureResult.get()) ?? false
        timer.cancel()
        return completed
    }

    /// Closes every connection still open, after telling it that the server cuts it, and waits until all have closed.
    private func cutOpenConnections() async {
        let open = self.control.connections.all
        for channel in open {
            // Both run on the channel's own loop, in this order: the event first, so the exchanges it cuts are
            // journaled as the server's doing (`dropped`), then the close.
            channel.pipeline.fireUserInboundEventTriggered(GracePeriodEndedEvent())
            channel.close(promise: nil)
        }
        for channel in open {
            try? await channel.closeFuture.get()
        }
    }
}

/// A listener as bound.
public struct BoundListener: Sendable {
    /// The listener as configured.
    public let spec: ListenerSpec
    /// The real port (the one the system chose for port 0).
    public let port: Int

    /// Whether the listener speaks TLS.
    public var isTLS: Bool { self.spec.tls != nil }

    /// The base URL without a trailing slash: `http://127.0.0.1:8080`, or `https://localhost:8443` for TLS (the
    /// name the generated certificate is for) when the listener binds a loopback or wildcard address.
    public var url: String {
        var host = self.spec.host
        if self.isTLS, ["127.0.0.1", "::1", "0.0.0.0", "::", "localhost"].contains(host) {
            host = "localhost"
        }
        if host.contains(":") { host = "[\(host)]" }
        return "\(self.isTLS ? "https" : "http")://\(host):\(self.port)"
    }
}

/// Why the server could not start.
public enum ServerError: Error, CustomStringConvertible {
    case cannotBind(host: String, port: Int, reason: String)
    /// Another process listens on the port already.
    case portInUse(host: String, port: Int)
    case cannotSetUpTLS(reason: String)

    public var description: String {
        switch self {
        case .cannotBind(let host, let port, let reason):
            "Cannot listen on \(host):\(port): \(reason)."
        case .portInUse(_, let port):
            "port \(port) is in use"
        case .cannotSetUpTLS(let reason):
            "Cannot set up TLS: \(reason)."
        }
    }
}
