/// One request `faultline record` passed to the upstream, with the upstream's whole answer.
public struct RecordedExchange: Sendable {
    public var method: String
    /// The request's path, percent-decoded (as rules match it).
    public var path: String
    /// The request's query parameters, percent-decoded, in order.
    public var query: [QueryItem]
    public var status: Int
    /// The upstream's header fields as it sent them.
    public var headers: [HeaderField]
    public var body: RecordedBody

    public init(
        method: String,
        path: String,
        query: [QueryItem],
        status: Int,
        headers: [HeaderField],
        body: RecordedBody
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// A recorded response body: small ones in memory, large ones in a temporary file.
public enum RecordedBody: Sendable, Equatable {
    /// The bytes (at most `RecordedScenario.inlineLimit` of them).
    case bytes([UInt8])
    /// A temporary file holding `size` bytes whose SHA-256 is `digest` (hexadecimal).
    case file(path: String, size: Int64, digest: String)

    /// The body's length.
    public var size: Int64 {
        switch self {
        case .bytes(let bytes): Int64(bytes.count)
        case .file(_, let size, _): size
        }
    }
}
