/// A loaded, validated scenario: listeners, limits and rules, ready for the rule engine and the server.
public struct Scenario: Sendable {
    /// The format version; always 1.
    public var version: Int
    /// The scenario's `name`, if given.
    public var name: String?
    /// The seed for every random choice; when `nil` the engine draws one and reports it.
    public var seed: UInt64?
    /// Where to listen; empty means the default plaintext listener.
    public var listeners: [ListenerSpec]
    /// Header fields sent with every answer that no rule makes (the 404 for unmatched requests).
    public var defaultHeaders: [HeaderField]
    /// Request size and time limits.
    public var limits: Limits
    /// The rules, tried in order.
    public var rules: [Rule]
    /// What a well-behaved client does (`expect:`).
    public var expectations: [ClientExpectation]
    /// The files the scenario was loaded from, as named by the user.
    public var sources: [String]

    /// An empty scenario: no rules, default listener and limits.
    public init() {
        self.version = 1
        self.name = nil
        self.seed = nil
        self.listeners = []
        self.defaultHeaders = []
        self.limits = Limits()
        self.rules = []
        self.expectations = []
        self.sources = []
    }
}

/// One address to listen on.
public struct ListenerSpec: Sendable, Equatable {
    /// The address to bind (`127.0.0.1` when not given).
    public var host: String
    /// The port; 0 picks a free one.
    public var port: Int
    /// How the listener speaks TLS; `nil` for plaintext.
    public var tls: TLSSpec?
    /// HTTP/2 beside HTTP/1.1, when on (`http2:`).
    public var http2: HTTP2Spec?
    /// Where the listener is declared, when it comes from a scenario file.
    public var sourceLocation: SourceLocation?

    public init(
        host: String = "127.0.0.1",
        port: Int = 8080,
        tls: TLSSpec? = nil,
        sourceLocation: SourceLocation? = nil
    ) {
        self.host = host
        self.port = port
        self.tls = tls
        self.sourceLocation = sourceLocation
    }
}

/// Limits on what a client may send; a request over one gets the matching 4xx and the connection is closed.
public struct Limits: Sendable, Equatable {
    /// The largest request body accepted (413 beyond).
    public var maxBodySize: Int64 = 10 * 1024 * 1024
    /// The longest request target accepted (414 beyond).
    public var maxURILength: Int64 = 8 * 1024
    /// The largest request header section accepted (431 beyond).
    public var maxHeaderSize: Int64 = 64 * 1024
    /// How long a connection may take to send a complete request head (408 beyond).
    public var requestTimeout: Duration = .seconds(30)

    public init() {}
}
