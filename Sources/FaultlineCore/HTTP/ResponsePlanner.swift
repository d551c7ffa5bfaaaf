/// Applies HTTP's rules (RFC 9110, RFC 9112) to a resolved response: the headers Faultline sets by itself, which
/// statuses and methods carry a body, and whether the connection stays open.
///
/// A header the scenario sets explicitly replaces the automatic one of the same name: a server that lies is a valid
/// test, and the scenario asks for it on purpose.
public enum ResponsePlanner {
    /// The statuses whose answers carry a `Location` and, for non-HEAD requests, a short HTML body.
    static let redirectStatuses: Set<Int> = [300, 301, 302, 303, 305, 307, 308]

    /// Plans the response to `request`.
    ///
    /// - Parameters:
    ///   - fileLength: the size of a `.file` body, measured by the caller when it opened the file.
    ///   - date: the `Date` header value for now.
    ///   - serverIsClosing: the server is shutting down, so the connection closes after this response.
    public static func plan(
        _ response: ResolvedResponse,
        for request: IncomingRequest,
        fileLength: Int64? = nil,
        date: String,
        serverIsClosing: Bool = false
    ) -> ResponsePlan {
        let status = response.status
        if status == 499 {
            return ResponsePlan(
                action: .drop, delay: response.delay, status: 499, reason: "", headers: [], body: .none,
                bodyLength: 0, closeAfter: true
            )
        }

        var body = response.body
        if case .none = body, self.redirectStatuses.contains(status), let location = response.location {
            body = .bytes(Array(self.redirectPage(status: status, location: location).utf8), contentType: "text/html; charset=utf-8")
        }
        let length: Int64 =
            switch body {
            case .none: 0
            case .bytes(let bytes, _): Int64(bytes.count)
            case .file: fileLength ?? 0
            case .generated(_, let size): size
            }

        // 1xx, 204 and 304 never carry a body or Content-Length; 205 says Content-Length: 0 (RFC 9110 15.3.6).
        let bodiless = status < 200 || status == 204 || status == 304
        var automatic: [HeaderField] = [HeaderField("Date", date)]
        if !bodiless {
            if status != 205, length > 0, let contentType = body.contentType {
                automatic.append(HeaderField("Content-Type", contentType))
            }
            automatic.append(HeaderField("Content-Length", status == 205 ? "0" : String(length)))
        }
        if let location = response.location {
            automatic.append(HeaderField("Location", location))
        }
        if let retryAfter = response.retryAfter {
            automatic.append(HeaderField("Retry-After", retryAfter))
        }

        // A final 1xx leaves the client waiting for a response that never comes; close so it finds out.
        var closeAfter = !request.wantsKeepAlive || serverIsClosing || status < 200
        if let connection = response.headers.first(named: "Connection"), HTTPTokens.contains("close", in: connection) {
            closeAfter = true
        }
        if closeAfter {
            automatic.append(HeaderField("Connection", "close"))
        } else if request.version == (1, 0) {
            automatic.append(HeaderField("Connection", "keep-alive"))
        }

        let explicit = response.headers
        let headers = automatic.filter { !explicit.contains(named: $0.name) } + explicit
        let sendsBody = !bodiless && status != 205 && request.method != "HEAD" && length > 0
        return ResponsePlan(
            action: .respond,
            delay: response.delay,
            status: status,
            reason: response.reason ?? StatusReason.phrase(for: status),
            headers: headers,
            body: sendsBody ? body : .none,
            bodyLength: sendsBody ? length : 0,
            closeAfter: closeAfter
        )
    }

    /// The short HTML page a redirect carries, as nginx and Apache send one.
    static func redirectPage(status: Int, location: String) -> String {
        let title = "\(status) \(StatusReason.phrase(for: status))"
        let href = HTMLEscaping.escape(location)
        return "<html>\n<head><title>\(title)</title></head>\n<body>\n<h1>\(title)</h1>\n"
            + "<p>The document has moved <a href=\"\(href)\">here</a>.</p>\n</body>\n</html>\n"
    }
}

/// Escapes text for HTML attribute values and content.
enum HTMLEscaping {
    static func escape(_ text: String) -> String {
        var output = ""
        for character in text {
            switch character {
            case "&": output += "&amp;"
            case "<": output += "&lt;"
            case ">": output += "&gt;"
            case "\"": output += "&quot;"
            case "'": output += "&#39;"
            default: output.append(character)
            }
        }
        return output
    }
}

/// Reads comma-separated token lists such as `Connection: keep-alive, Upgrade`.
enum HTTPTokens {
    static func contains(_ token: String, in value: String) -> Bool {
        value.split(separator: ",").contains { $0.trimmingSpaces().equalsIgnoringASCIICase(token) }
    }
}

extension IncomingRequest {
    /// Whether the client asked to keep the connection open (RFC 9112 section 9.3): HTTP/1.1 unless it sent
    /// `Connection: close`, HTTP/1.0 only with `Connection: keep-alive`.
    public var wantsKeepAlive: Bool {
        let connection = self.headers.values(named: "Connection")
        if connection.contains(where: { HTTPTokens.contains("close", in: $0) }) { return false }
        if self.version.major == 1 && self.version.minor >= 1 { return true }
        return connection.contains { HTTPTokens.contains("keep-alive", in: $0) }
    }
}
