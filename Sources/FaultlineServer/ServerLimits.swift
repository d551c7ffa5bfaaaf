public import FaultlineCore

/// Limits given on the command line, overriding the scenario's `limits` one by one.
public struct LimitOverrides: Sendable, Equatable {
    public var maxBodySize: Int64?
    public var maxURILength: Int64?
    public var maxHeaderSize: Int64?
    public var requestTimeout: Duration?

    public init(
        maxBodySize: Int64? = nil,
        maxURILength: Int64? = nil,
        maxHeaderSize: Int64? = nil,
        requestTimeout: Duration? = nil
    ) {
        self.maxBodySize = maxBodySize
        self.maxURILength = maxURILength
        self.maxHeaderSize = maxHeaderSize
        self.requestTimeout = requestTimeout
    }

    /// The scenario's limits with these overrides applied.
    public func applied(to limits: Limits) -> Limits {
        var result = limits
        if let maxBodySize { result.maxBodySize = maxBodySize }
        if let maxURILength { result.maxURILength = maxURILength }
        if let maxHeaderSize { result.maxHeaderSize = maxHeaderSize }
        if let requestTimeout { result.requestTimeout = requestTimeout }
        return result
    }
}
