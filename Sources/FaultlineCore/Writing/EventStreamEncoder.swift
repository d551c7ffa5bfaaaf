/// Writes Server-Sent Events in the `text/event-stream` format of the WHATWG HTML standard (section 9.2.6): one
/// `field: value` line per field, a `data:` line for each line of the data (a line ends at CRLF, LF or CR), `:` lines
/// for a comment, and a blank line ending the event. Lines end with LF.
public enum EventStreamEncoder {
    /// One event's fields, every template filled in.
    public struct Fields: Sendable, Equatable {
        public var comment: String?
        public var event: String?
        public var id: String?
        public var retry: Duration?
        public var data: String?

        public init(
            comment: String? = nil,
            event: String? = nil,
            id: String? = nil,
            retry: Duration? = nil,
            data: String? = nil
        ) {
            self.comment = comment
            self.event = event
            self.id = id
            self.retry = retry
            self.data = data
        }
    }

    /// The event as bytes: comment lines, `event`, `id`, `retry` (whole milliseconds), the `data` lines, then the
    /// blank line that dispatches it.
    public static func encode(_ fields: Fields) -> [UInt8] {
        var out: [UInt8] = []
        if let comment = fields.comment {
            for line in self.lines(of: comment) { self.append("", line, to: &out) }
        }
        if let event = fields.event { self.append("event", event[...], to: &out) }
        if let id = fields.id { self.append("id", id[...], to: &out) }
        if let retry = fields.retry { self.append("retry", Substring(String(self.milliseconds(retry))), to: &out) }
        if let data = fields.data {
            for line in self.lines(of: data) { self.append("data", line, to: &out) }
        }
        out.append(UInt8(ascii: "\n"))
        return out
    }

    /// The whole milliseconds of a duration, as `retry:` takes them.
    public static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        guard !overflow else { return seconds < 0 ? 0 : Int64.max }
        return max(0, product &+ attoseconds / 1_000_000_000_000_000)
    }

    /// Whether `text` can be the value of a one-line field (`event`, `id`): no line break, and for an id no NUL
    /// (a client ignores such an id).
    public static func isFieldValue(_ text: String, isID: Bool = false) -> Bool {
        !text.unicodeScalars.contains { $0 == "\n" || $0 == "\r" || (isID && $0 == "\0") }
    }

    /// The lines of a value, split at CRLF, LF or CR as the parser splits them; an empty value is one empty line.
    static func lines(of text: String) -> [Substring] {
        var lines: [Substring] = []
        var start = text.startIndex
        var index = text.startIndex
        // Characters, not scalars: Swift reads "\r\n" as one Character.
        while index < text.endIndex {
            let character = text[index]
            if character == "\n" || character == "\r" || character == "\r\n" {
                lines.append(text[start..<index])
                start = text.index(after: index)
            }
            index = text.index(after: index)
        }
        lines.append(text[start...])
        return lines
    }

    /// `name: value`, or `name:` alone for an empty value (a comment is `: text`).
    private static func append(_ name: String, _ value: Substring, to out: inout [UInt8]) {
        out.append(contentsOf: name.utf8)
        out.append(UInt8(ascii: ":"))
        if !value.isEmpty {
            out.append(UInt8(ascii: " "))
            out.append(contentsOf: value.utf8)
        }
        out.append(UInt8(ascii: "\n"))
    }
}
