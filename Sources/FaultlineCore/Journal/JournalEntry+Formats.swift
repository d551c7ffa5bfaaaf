/// The journal's two outside forms: a JSON object (the control API and `--journal`), and nginx's combined log
/// format (`--access-log`).
extension JournalEntry {
    /// The entry as one line of JSON, keys in a fixed order.
    public var json: String {
        String(decoding: self.jsonBytes, as: UTF8.self)
    }

    /// `json` as UTF-8 bytes: built by appending bytes, since `--journal` writes a line for every request.
    public var jsonBytes: [UInt8] {
        var out = JSONBytes(capacity: 1024)
        self.appendJSON(to: &out)
        return out.bytes
    }

    /// The entries as `--journal` writes them, one JSON line each (ended by a newline), in one buffer.
    public static func jsonLines(_ entries: [JournalEntry]) -> [UInt8] {
        var out = JSONBytes(capacity: entries.count * 512)
        for entry in entries {
            entry.appendJSON(to: &out)
            out.raw("\n")
        }
        return out.bytes
    }

    /// Appends `json` to `out`.
    func appendJSON(to out: inout JSONBytes) {
        out.raw("{\"id\":")
        out.int(self.id)
        out.raw(",\"connection\":")
        out.int(self.connection)
        out.raw(",\"listener\":")
        out.string(self.listener)
        out.raw(",\"client\":")
        out.string(self.client)
        out.raw(",\"receivedAt\":\"")
        Timestamps.appendRFC3339(self.receivedAt, to: &out)
        out.raw("\",\"method\":")
        out.string(self.method)
        out.raw(",\"target\":")
        out.string(self.target)
        out.raw(",\"path\":")
        out.string(self.path)
        out.raw(",\"version\":")
        out.string(self.version)
        out.raw(",\"tls\":")
        out.optional(self.tls)
        out.raw(",\"headers\":")
        Self.appendHeaders(self.headers, to: &out)
        if self.headersTruncated > 0 {
            out.raw(",\"headersTruncated\":")
            out.int(self.headersTruncated)
        }
        out.raw(",\"bodyBytes\":")
        out.int(self.bodyBytes)
        out.raw(",\"rule\":")
        out.optional(self.rule)
        out.raw(",\"step\":")
        if let step = self.step { out.int(step) } else { out.raw("null") }
        out.raw(",\"status\":")
        out.int(self.status)
        out.raw(",\"responseHeaders\":")
        Self.appendHeaders(self.sentHeaders.planned, dated: self.sentHeaders.date, to: &out)
        out.raw(",\"fault\":")
        out.optional(self.fault)
        out.raw(",\"outcome\":")
        out.string(self.outcome.rawValue)
        out.raw(",\"bytesSent\":")
        out.int(self.bytesSent)
        out.raw(",\"bodyBytesSent\":")
        out.int(self.bodyBytesSent)
        out.raw(",\"firstByteMs\":")
        if let firstByteMs = self.firstByteMs {
            Self.appendMilliseconds(firstByteMs, to: &out)
        } else {
            out.raw("null")
        }
        out.raw(",\"totalMs\":")
        Self.appendMilliseconds(self.totalMs, to: &out)
        if let stream = self.stream {
            out.raw(",\"stream\":")
            out.int(stream)
        }
        if let eventsSent = self.eventsSent {
            // Only stream answers carry these keys, so every other entry keeps the exact form it always had.
            out.raw(",\"eventsSent\":")
            out.int(eventsSent)
            out.raw(",\"lastEventId\":")
            out.optional(self.lastEventID)
            out.raw(",\"retryMs\":")
            if let retryMs = self.retryMs { out.int(retryMs) } else { out.raw("null") }
        }
        if let upstream = self.upstream {
            out.raw(",\"upstream\":{\"url\":")
            out.string(upstream.url)
            out.raw(",\"status\":")
            if let status = upstream.status { out.int(status) } else { out.raw("null") }
            out.raw(",\"ms\":")
            Self.appendMilliseconds(upstream.milliseconds, to: &out)
            out.raw("}")
        }
        if !self.regexGaveUp.isEmpty {
            out.raw(",\"regexGaveUp\":[")
            for (index, label) in self.regexGaveUp.enumerated() {
                if index > 0 { out.raw(",") }
                out.string(label)
            }
            out.raw("]")
        }
        out.raw("}")
    }

    /// Entries as a JSON array, one per line.
    public static func jsonArray(_ entries: [JournalEntry]) -> String {
        entries.isEmpty ? "[]\n" : "[\n" + entries.map(\.json).joined(separator: ",\n") + "\n]\n"
    }

    /// The entry in nginx's combined format: `$remote_addr - $remote_user [$time_local] "$request" $status
    /// $body_bytes_sent "$http_referer" "$http_user_agent"`, 499 included.
    public var accessLogLine: String {
        let user = self.headers.first(named: "Authorization").flatMap(Self.basicUser) ?? "-"
        let referer = self.headers.first(named: "Referer") ?? "-"
        let agent = self.headers.first(named: "User-Agent") ?? "-"
        // nginx writes HTTP/2 requests as HTTP/2.0.
        let version = self.version == "HTTP/2" ? "HTTP/2.0" : self.version
        let request = self.method.isEmpty ? "-" : "\(self.method) \(self.target) \(version)"
        return "\(self.client) - \(user) [\(Timestamps.commonLog(self.receivedAt))] \"\(Self.escaped(request))\" "
            + "\(self.status) \(self.bodyBytesSent) \"\(Self.escaped(referer))\" \"\(Self.escaped(agent))\""
    }

    /// Appends `headers` as a list of `[name, value]` pairs; `date`, when given, as the first `Date` field's value.
    private static func appendHeaders(_ headers: [HeaderField], dated date: String? = nil, to out: inout JSONBytes) {
        var date = date
        out.raw("[")
        for (index, header) in headers.enumerated() {
            out.raw(index == 0 ? "[" : ",[")
            out.string(header.name)
            out.raw(",")
            if let sent = date, header.name == "Date" {
                out.string(sent)
                date = nil
            } else {
                out.string(header.value)
            }
            out.raw("]")
        }
        out.raw("]")
    }

    /// Appends `milliseconds(value)`: the same text, worked out in integers when the value is in range (a
    /// thousandth is exact as an integer count, and the shortest decimal that reads back as `value` rounded to three
    /// places is that count's digits with the trailing zeros left off).
    static func appendMilliseconds(_ value: Double, to out: inout JSONBytes) {
        let scaled = (value * 1000).rounded()
        guard scaled.magnitude < 1e15 else {
            out.raw(Self.milliseconds(value))
            return
        }
        let thousandths = Int64(scaled)
        if thousandths < 0 { out.raw("-") }
        let magnitude = thousandths.magnitude
        out.int(magnitude / 1000)
        var fraction = magnitude % 1000
        guard fraction != 0 else { return }
        var digits = 3
        while fraction % 10 == 0 {
            fraction /= 10
            digits -= 1
        }
        out.raw(".")
        out.int(Int64(fraction), width: digits)
    }

    static func milliseconds(_ value: Double) -> String {
        let rounded = (value * 1000).rounded() / 1000
        return rounded == rounded.rounded() ? String(Int64(rounded)) : String(rounded)
    }

    /// nginx escapes `"`, `\` and bytes outside printable ASCII as `\xHH` in log lines.
    static func escaped(_ text: String) -> String {
        var output = ""
        for byte in text.utf8 {
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 || byte > 0x7E {
                let hex = String(byte, radix: 16, uppercase: true)
                output += "\\x" + (hex.count == 1 ? "0" + hex : hex)
            } else {
                output.unicodeScalars.append(Unicode.Scalar(byte))
            }
        }
        return output
    }

    /// The user name of `Basic` credentials, as nginx's `$remote_user`.
    static func basicUser(_ authorization: String) -> String? {
        let credentials = AuthCheck.basicCredentials(authorization)
        guard let user = credentials?.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).first,
            !user.isEmpty
        else {
            return nil
        }
        return String(user)
    }
}

/// Timestamps in the forms the journal and the access log use.
public enum Timestamps {
    /// `2026-11-26T23:40:12.345Z`.
    public static func rfc3339(_ seconds: Double) -> String {
        var out = JSONBytes(capacity: 24)
        self.appendRFC3339(seconds, to: &out)
        return String(decoding: out.bytes, as: UTF8.self)
    }

    /// Appends `rfc3339(seconds)`.
    static func appendRFC3339(_ seconds: Double, to out: inout JSONBytes) {
        // Counted in whole milliseconds first: `.007` is not exact in binary, and its remainder would read `.006`.
        let total = Int64((seconds * 1000).rounded())
        let whole = total >= 0 ? total / 1000 : (total - 999) / 1000
        let milliseconds = total - whole * 1000
        let (date, secondOfDay) = self.split(whole)
        out.int(date.year)
        out.raw("-")
        out.int(date.month, width: 2)
        out.raw("-")
        out.int(date.day, width: 2)
        out.raw("T")
        out.int(secondOfDay / 3600, width: 2)
        out.raw(":")
        out.int((secondOfDay % 3600) / 60, width: 2)
        out.raw(":")
        out.int(secondOfDay % 60, width: 2)
        out.raw(".")
        out.int(milliseconds, width: 3)
        out.raw("Z")
    }

    /// `26/Nov/2026:23:40:12 +0000`, nginx's `$time_local` in UTC.
    public static func commonLog(_ seconds: Double) -> String {
        let (date, time) = self.parts(Int64(seconds.rounded(.down)))
        return "\(self.two(date.day))/\(HTTPDate.months[Int(date.month) - 1])/\(date.year):\(time) +0000"
    }

    private static func parts(_ seconds: Int64) -> (date: (year: Int64, month: Int64, day: Int64), time: String) {
        let (date, secondOfDay) = self.split(seconds)
        let time =
            "\(self.two(secondOfDay / 3600)):\(self.two((secondOfDay % 3600) / 60)):\(self.two(secondOfDay % 60))"
        return (date, time)
    }

    /// The civil date of a time in seconds since 1970, and the second of that day.
    private static func split(_ seconds: Int64) -> (date: (year: Int64, month: Int64, day: Int64), secondOfDay: Int64) {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        return (HTTPDate.civilDate(daysSince1970: days), seconds - days * 86_400)
    }

    private static func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
}
