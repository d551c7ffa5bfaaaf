/// Exactly what the server puts on the wire for one exchange, decided without a socket.
public struct ResponsePlan: Sendable {
    /// How the exchange ends.
    public enum Action: Sendable, Equatable {
        /// Send the head (and the body, if any).
        case respond
        /// Close the connection without writing a byte (`status: 499`, as nginx logs a client that left).
        case drop
    }

    /// One piece of the body, in order.
    public enum BodySegment: Sendable, Equatable {
        /// Bytes made by the planner (a multipart boundary and part headers).
        case bytes([UInt8])
        /// A slice of `source`.
        case slice(offset: Int64, length: Int64)

        var length: Int64 {
            switch self {
            case .bytes(let bytes): Int64(bytes.count)
            case .slice(_, let length): length
            }
        }
    }

    public var action: Action
    /// The wait before the status line.
    public var delay: Duration
    /// Informational responses written before the final head.
    public var interim: [InterimResponse]
    public var status: Int
    public var reason: String
    /// The header fields in the order they are sent.
    public var headers: [HeaderField]
    /// Where body slices come from.
    public var source: ResolvedBody
    /// The body to send after the head: empty for HEAD and bodiless statuses.
    public var segments: [BodySegment]
    /// Close the connection once the response is sent.
    public var closeAfter: Bool

    /// How many body bytes follow the head.
    public var bodyLength: Int64 { self.segments.reduce(0) { $0 + $1.length } }
}
