/// A fault as the scenario wrote it (`fault:`); numbers and durations may be templates.
public enum FaultSpec: Sendable {
    /// Read the request, close without writing a byte (also `status: 499`).
    case drop
    /// Close with a TCP RST.
    case reset
    /// Write nothing; hold the connection until the client closes it, or for a while then close it.
    case hang(Templated<Duration>?)
    /// The head with the true Content-Length, the first N body bytes, then a close (FIN).
    case truncate(Templated<Int64>)
    /// The head, the first N body bytes, then an RST.
    case resetAfter(Templated<Int64>)
    /// Seeded random bytes instead of a response, then a close.
    case garbage
    /// A chunked body whose second chunk-size line is not hexadecimal, then a close.
    case badChunk
    /// A malformed status line, then a close.
    case badStatus
    /// The head written a few bytes at a time over the duration.
    case slowHeaders(Templated<Duration>)
    /// A stream's first N events (or items), then a close without the stream's end.
    case cutAfter(Templated<Int>)
    /// A stream's first N events (or items), then nothing, held until the client leaves.
    case stallAfter(Templated<Int>)
    /// A stream's first N events (or items), then a TCP RST.
    case resetAfterEvents(Templated<Int>)
    /// HTTP/2: RST_STREAM with this code instead of a response, or after the head and `afterBytes` body bytes.
    case rstStream(HTTP2ErrorName, afterBytes: Templated<Int64>?)
    /// HTTP/2: GOAWAY with this code and a last-stream-id below this stream (the request was not processed).
    case goaway(HTTP2ErrorName)
    /// HTTP/2: the stream is answered, then GOAWAY with this code and last-stream-id = this stream.
    case goawayAfter(HTTP2ErrorName)
}

/// A fault with every value decided for one request.
public enum Fault: Sendable, Equatable {
    case drop
    case reset
    case hang(Duration?)
    case truncate(Int64)
    case resetAfter(Int64)
    /// The bytes come from this key's generated stream.
    case garbage(key: UInt64, length: Int)
    case badChunk
    case badStatus
    case slowHeaders(Duration)
    case cutAfter(Int)
    case stallAfter(Int)
    case resetAfterEvents(Int)
    case rstStream(HTTP2ErrorName, afterBytes: Int64?)
    case goaway(HTTP2ErrorName)
    case goawayAfter(HTTP2ErrorName)

    /// For a stream fault: how many events (or items) go out before it strikes.
    public var streamItemsBefore: Int? {
        switch self {
        case .cutAfter(let count), .stallAfter(let count), .resetAfterEvents(let count): count
        default: nil
        }
    }

    /// Whether the fault exists only on HTTP/2 (an HTTP/1.1 request meeting it is answered with `reset`).
    public var isHTTP2Only: Bool {
        switch self {
        case .rstStream, .goaway, .goawayAfter: true
        default: false
        }
    }

    /// The fault's name in the journal and metrics.
    public var name: String {
        switch self {
        case .drop: "drop"
        case .reset: "reset"
        case .hang: "hang"
        case .truncate: "truncate"
        case .resetAfter: "resetAfter"
        case .garbage: "garbage"
        case .badChunk: "bad-chunk"
        case .badStatus: "bad-status"
        case .slowHeaders: "slowHeaders"
        case .cutAfter: "cutAfter"
        case .stallAfter: "stallAfter"
        case .resetAfterEvents: "resetAfterEvents"
        case .rstStream: "rstStream"
        case .goaway: "goaway"
        case .goawayAfter: "goawayAfter"
        }
    }
}

/// How fast to send a body (`throttle:`).
public enum ThrottleSpec: Sendable, Equatable {
    /// Bytes per second, such as `16KiB/s`.
    case rate(Templated<Int64>)
    /// Spread the whole body evenly over a duration (`{over: 2s}`), as httpbin's `/drip` does.
    case over(Templated<Duration>)
}

/// An outage window (`active: {after, for}`), counted from when the scenario was loaded or reset.
public struct ActiveWindow: Sendable, Equatable {
    public var after: Duration
    /// `nil`: until the end.
    public var length: Duration?

    public init(after: Duration, length: Duration?) {
        self.after = after
        self.length = length
    }

    /// Whether the window is open `elapsed` after the start.
    public func contains(_ elapsed: Duration) -> Bool {
        guard elapsed >= self.after else { return false }
        guard let length = self.length else { return true }
        return elapsed < self.after + length
    }
}
