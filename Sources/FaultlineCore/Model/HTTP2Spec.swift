/// HTTP/2 on a listener (`http2: true`, or a mapping of settings that turns it on too): on TLS, ALPN offers `h2`
/// then `http/1.1`; on plaintext, a connection that starts with the HTTP/2 preface, or sends `Upgrade: h2c`, speaks
/// HTTP/2 and anything else HTTP/1.1.
public struct HTTP2Spec: Sendable, Equatable {
    /// How many streams a client may have open at once (`SETTINGS_MAX_CONCURRENT_STREAMS`); a stream beyond it gets
    /// RST_STREAM REFUSED_STREAM.
    public var maxConcurrentStreams: Int
    /// The flow-control window each stream starts with (`SETTINGS_INITIAL_WINDOW_SIZE`).
    public var initialWindowSize: Int
    /// The largest frame payload Faultline accepts (`SETTINGS_MAX_FRAME_SIZE`), 16,384 to 16,777,215.
    public var maxFrameSize: Int

    /// The defaults: 100 streams, a 64 KiB - 1 window, 16 KiB frames (what most servers advertise).
    public init(maxConcurrentStreams: Int = 100, initialWindowSize: Int = 65_535, maxFrameSize: Int = 16_384) {
        self.maxConcurrentStreams = maxConcurrentStreams
        self.initialWindowSize = initialWindowSize
        self.maxFrameSize = maxFrameSize
    }
}

/// An HTTP/2 error code (RFC 9113 section 7), as the faults `rstStream`, `goaway` and `goawayAfter` name it.
public struct HTTP2ErrorName: Sendable, Equatable, Hashable {
    /// The code on the wire.
    public var value: UInt32

    public init(_ value: UInt32) {
        self.value = value
    }

    /// The codes RFC 9113 names, in the order of their values.
    public static let names = [
        "NO_ERROR", "PROTOCOL_ERROR", "INTERNAL_ERROR", "FLOW_CONTROL_ERROR", "SETTINGS_TIMEOUT", "STREAM_CLOSED",
        "FRAME_SIZE_ERROR", "REFUSED_STREAM", "CANCEL", "COMPRESSION_ERROR", "CONNECT_ERROR", "ENHANCE_YOUR_CALM",
        "INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED",
    ]

    public static let noError = HTTP2ErrorName(0x0)
    public static let internalError = HTTP2ErrorName(0x2)
    public static let refusedStream = HTTP2ErrorName(0x7)
    public static let cancel = HTTP2ErrorName(0x8)

    /// A name (`REFUSED_STREAM`, any case) or a number (`7`, `0x7`); `nil` for neither.
    public static func parse(_ text: String) -> HTTP2ErrorName? {
        let trimmed = text.trimmingSpaces()
        if let index = self.names.firstIndex(where: { $0.equalsIgnoringASCIICase(trimmed) }) {
            return HTTP2ErrorName(UInt32(index))
        }
        if trimmed.lowercased().hasPrefix("0x"), let value = UInt32(trimmed.dropFirst(2), radix: 16) {
            return HTTP2ErrorName(value)
        }
        return UInt32(trimmed).map(HTTP2ErrorName.init)
    }

    /// The RFC's name, or the number for a code it does not name.
    public var name: String {
        self.value < UInt32(Self.names.count) ? Self.names[Int(self.value)] : "0x" + String(self.value, radix: 16)
    }
}
