/// A rule's (or a sequence step's) `proxy:` answer: forward the request to an upstream and send back what it answers,
/// with the rule's delays, pace, headers and fault applied on top.
public struct ProxySpec: Sendable, Hashable {
    /// How Faultline checks the upstream's TLS certificate.
    public enum Trust: Sendable, Hashable {
        /// The system's trust store.
        case system
        /// Certificates signed by the CA in this PEM file (`proxyCA:`), resolved to an absolute path.
        case certificateAuthority(file: String)
        /// Not at all (`proxyInsecure: true`).
        case none
    }

    /// The default `proxyTimeout`.
    public static let defaultTimeout: Duration = .seconds(30)

    /// Where requests go.
    public var upstream: UpstreamURL
    /// How long the upstream may take to connect and answer with its head, and at most to be silent while its body
    /// is awaited (`proxyTimeout:`); past it Faultline answers 504 (or, mid-body, closes the connection).
    public var timeout: Duration
    /// How the upstream's certificate is checked (`https://` upstreams).
    public var trust: Trust

    public init(upstream: UpstreamURL, timeout: Duration = ProxySpec.defaultTimeout, trust: Trust = .system) {
        self.upstream = upstream
        self.timeout = timeout
        self.trust = trust
    }
}
