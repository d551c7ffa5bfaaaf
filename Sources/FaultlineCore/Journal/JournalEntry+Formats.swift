/// The journal's two outside forms: a JSON object (the control API and `--journal`), and nginx's combined log
/// format (`--access-log`).
extension JournalEntry {
    /// The entry as one line of JSON, keys in a fixed order. Built by appending to one string: `--journal` formats
    /// an entry per request.
    public var json: String {
        var out = ""
        out.reserveCapacity(640)
        out += "{\"id\":\(self.id),\"connection\":\(self.connection),\"listener\":"
        JSONString.append(self.listener, to: &out)
        out += ",\"client\":"
        JSONString.append(self.client, to: &out)
        out += ",\"receivedAt\":"
        JSONString.append(Timestamps.rfc3339(self.receivedAt), to: &out)
        out += ",\"method\":"
        JSONString.append(self.method, to: &out)
        out += ",\"target\":"
        JSONString.append(self.target, to: &out)
        out += ",\"path\":"
        JSONString.append(self.path, to: &out)
        out += ",\"version\":"
        JSONString.append(self.version, to: &out)
        out += ",\"tls\":"
        Self.appendOptional(self.tls, to: &out)
        out += ",\"headers\":"
        Self.appendHeaders(self.headers, to: &out)
        if self.headersTruncated > 0 {
            out += ",\"headersTruncated\":\(self.headersTruncated)"
        }
        out += ",\"bodyBytes\":\(self.bodyBytes),\"rule\":"
        Self.appendOptional(self.rule, to: &out)
        out += ",\"step\":"
        out += self.step.map { String($0) } ?? "null"
        out += ",\"status\":\(self.status),\"responseHeaders\":"
        Self.appendHeaders(self.responseHeaders, to: &out)
        out += ",\"fault\":"
        Self.appendOptional(self.fault, to: &out)
        out += ",\"outcome\":"
        JSONString.append(self.outcome.rawValue, to: &out)
        out += ",\"bytesSent\":\(self.bytesSent),\"bodyBytesSent\":\(self.bodyBytesSent),\"firstByteMs\":"
        out += self.firstByteMs.map(Self.milliseconds) ?? "null"
        out += ",\"totalMs\":"
        out += Self.milliseconds(self.totalMs)
        if let stream = self.stream {
            out += ",\"stream\":\(stream)"
        }
        if let eventsSent = self.eventsSent {
            // Only stream answers carry these keys, so every other entry keeps the exact form it always had.
            out += ",\"eventsSent\":\(eventsSent),\"lastEventId\":"
            Self.appendOptional(self.lastEventID, to: &out)
            out += ",\"retryMs\":"
            out += self.retryMs.map { String($0) } ?? "null"
        }
        if let upstream = self.upstream {
            out += ",\"upstream\":{\"url\":"
            JSONString.append(upstream.url, to: &out)
            out += ",\"status\":"
            out += upstream.status.map { String($0) } ?? "null"
            out += ",\"ms\":"
            out += Self.milliseconds(upstream.milliseconds)
            out += "}"
        }
        if !self.regexGaveUp.isEmpty {
            out += ",\"regexGaveUp\":["
            for (index, label) in self.regexGaveUp.enumerated() {
                if index > 0 { out += "," }
                JSONString.append(label, to: &out)
            }
            out += "]"
        }
        out += "}"
        return out
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

    private static func appendHeaders(_ headers: [HeaderField], to out: inout String) {
        out += "["
        for (index, header) in headers.enumerated() {
            out += index == 0 ? "[" : ",["
            JSONString.append(header.name, to: &out)
            out += ","
            JSONString.append(header.value, to: &out)
            out += "]"
        }
        out += "]"
    }

    private static func appendOptional(_ text: String?, to out: inout String) {
        if let text {
            JSONString.append(text, to: &out)
        } else {
            out += "null"
        }
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
        let whole = Int64(seconds.rounded(.down))
        let milliseconds = Int((seconds - Double(whole)) * 1000)
        let (date, time) = self.parts(whole)
        let ms = milliseconds < 10 ? "00\(milliseconds)" : milliseconds < 100 ? "0\(milliseconds)" : "\(milliseconds)"
        return "\(date.year)-\(self.two(date.month))-\(self.two(date.day))T\(time).\(ms)Z"
    }

    /// `26/Nov/2026:23:40:12 +0000`, nginx's `$time_local` in UTC.
    public static func commonLog(_ seconds: Double) -> String {
        let (date, time) = self.parts(Int64(seconds.rounded(.down)))
        return "\(self.two(date.day))/\(HTTPDate.months[Int(date.month) - 1])/\(date.year):\(time) +0000"
    }

    private static func parts(_ seconds: Int64) -> (date: (year: Int64, month: Int64, day: Int64), time: String) {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let time =
            "\(self.two(secondOfDay / 3600)):\(self.two((secondOfDay % 3600) / 60)):\(self.two(secondOfDay % 60))"
        return (HTTPDate.civilDate(daysSince1970: days), time)
    }

    private static func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
}
