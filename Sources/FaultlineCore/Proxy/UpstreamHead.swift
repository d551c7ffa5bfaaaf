/// The status line and header fields an upstream answered a proxied request with.
public struct UpstreamHead: Sendable, Equatable {
    public var status: Int
    /// The upstream's reason phrase.
    public var reason: String
    /// The fields as the upstream sent them, in order.
    public var headers: [HeaderField]

    public init(status: Int, reason: String, headers: [HeaderField]) {
        self.status = status
        self.reason = reason
        self.headers = headers
    }
}

/// What the journal says of a proxied exchange's upstream (`upstream` in the journal).
public struct UpstreamOutcome: Sendable, Equatable {
    /// The URL the request went to.
    public var url: String
    /// The upstream's status; `nil` when it could not be reached, timed out or failed before its head.
    public var status: Int?
    /// Milliseconds from sending the request upstream to the upstream's head (or its failure).
    public var milliseconds: Double

    public init(url: String, status: Int?, milliseconds: Double) {
        self.url = url
        self.status = status
        self.milliseconds = milliseconds
    }
}
