import AsyncHTTPClient
import FaultlineCore
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// The HTTP client every `proxy` answer of a server goes through: one AsyncHTTPClient `HTTPClient` on the server's
/// own event loops, made when the first proxied request needs it and shut down with the server. Its connections to
/// each upstream are pooled and kept alive. A proxied exchange is handled on the event loop of the client's connection
/// (AsyncHTTPClient calls its delegate there and prefers an upstream connection on the same loop; requiring one
/// would make it open a connection per request, closed when idle).
final class UpstreamClient: Sendable {
    private let group: any EventLoopGroup
    /// The client once made; `shutDown` once the server stops (no client is made after that).
    private let state = Mutex<(client: HTTPClient?, shutDown: Bool)>((nil, false))
    /// TLS settings per kind of trust, built once (reading a CA file is not done per request).
    private let tlsConfigurations = Mutex<[ProxySpec.Trust: TLSConfiguration]>([:])
    /// Where recorded exchanges go (`faultline record`), if anywhere.
    let recorder: UpstreamRecording?
    /// For writing recorded bodies off the event loops.
    let threadPool: NIOThreadPool?

    init(group: any EventLoopGroup, threadPool: NIOThreadPool? = nil, recorder: UpstreamRecording? = nil) {
        self.group = group
        self.threadPool = threadPool
        self.recorder = recorder
    }

    /// The shared client, made on first use; `nil` once the server is shutting down.
    func httpClient() -> HTTPClient? {
        self.state.withLock { state in
            if state.shutDown { return nil }
            if let client = state.client { return client }
            let made = HTTPClient(eventLoopGroupProvider: .shared(self.group), configuration: Self.configuration)
            state.client = made
            return made
        }
    }

    /// How the client talks to upstreams: HTTP/1.1 (so header names and framing pass as the upstream wrote them), no
    /// redirects followed (a 3xx is the upstream's answer to pass back), no decompression (the body passes as it
    /// came), and no retried connection attempts (a refused connection is an answer: 502). Connecting may take long;
    /// each rule's `proxyTimeout` cuts it short.
    static var configuration: HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: HTTPClient.Configuration.Timeout(connect: .minutes(5), read: nil),
            connectionPool: HTTPClient.Configuration.ConnectionPool(
                idleTimeout: .seconds(60),
                concurrentHTTP1ConnectionsPerHostSoftLimit: 1024
            ),
            decompression: .disabled
        )
        configuration.httpVersion = .http1Only
        configuration.connectionPool.retryConnectionEstablishment = false
        // No spans: the journal says what happened, and span attributes cost every request a dictionary.
        configuration.tracing.tracer = nil
        return configuration
    }

    /// The TLS settings for an upstream checked with `trust`.
    func tlsConfiguration(for trust: ProxySpec.Trust) throws -> TLSConfiguration {
        if let cached = self.tlsConfigurations.withLock({ $0[trust] }) { return cached }
        var configuration = TLSConfiguration.makeClientConfiguration()
        switch trust {
        case .system:
            break
        case .certificateAuthority(let file):
            configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(file))
        case .none:
            configuration.certificateVerification = .none
        }
        self.tlsConfigurations.withLock { $0[trust] = configuration }
        return configuration
    }

    /// Closes the client's connections; proxied requests after this get 502.
    func shutdown() async {
        let client = self.state.withLock { state in
            defer { state = (nil, true) }
            return state.client
        }
        try? await client?.shutdown().get()
    }
}
