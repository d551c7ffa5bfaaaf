/// A rule's (or a sequence step's) `proxy:` answer: forward the request to an upstream and send back what it answers,
/// with the rule's delays, pace, headers and fault applied on top.
///
/// A value type holding one reference: responses and decisions are copied on every request, and a proxy's URL and
/// settings would otherwise make each copy a hundred bytes longer.
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

    private final class Storage: Sendable {
        let upstream: UpstreamURL
        let timeout: Duration
        let trust: Trust

        init(upstream: UpstreamURL, timeout: Duration, trust: Trust) {
            self.upstream = upstream
            self.timeout = timeout
            self.trust = trust
        }
    }

    private var storage: Storage

    public init(upstream: UpstreamURL, timeout: Duration = ProxySpec.defaultTimeout, trust: Trust = .system) {
        self.storage = Storage(upstream: upstream, timeout: timeout, trust: trust)
    }

    /// Where requests go.
    public var upstream: UpstreamURL {
        get { self.storage.upstream }
        set { self.storage = Storage(upstream: newValue, timeout: self.timeout, trust: self.trust) }
    }

    /// How long the upstream may take to connect and answer with its head, and at most to be silent while its body
    /// is awaited (`proxyTimeout:`); past it Faultline answers 504 (or, mid-body, closes the connection).
    public var timeout: Duration {
        get { self.storage.timeout }
        set { self.storage = Storage(upstream: self.upstream, timeout: newValue, trust: self.trust) }
    }

    /// How the upstream's certificate is checked (`https://` upstreams).
    public var trust: Trust {
        get { self.storage.trust }
        set { self.storage = Storage(upstream: self.upstream, timeout: self.timeout, trust: newValue) }
    }

    public static func == (lhs: ProxySpec, rhs: ProxySpec) -> Bool {
        lhs.storage === rhs.storage
            || (lhs.upstream == rhs.upstream && lhs.timeout == rhs.timeout && lhs.trust == rhs.trust)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.upstream)
        hasher.combine(self.timeout)
        hasher.combine(self.trust)
    }
}
