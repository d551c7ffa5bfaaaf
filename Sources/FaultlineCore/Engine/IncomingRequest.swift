import Foundation

/// What the rule engine needs to know of a request: no sockets, no NIO types.
public struct IncomingRequest: Sendable {
    /// The method as sent (methods are case-sensitive).
    public var method: String
    /// The request target as sent, such as `/api/orders?page=2`.
    public var target: String
    /// The target's path, percent-decoded; `*` for `OPTIONS *`.
    public var path: String
    /// The query parameters in order, percent-decoded, `+` read as a space.
    public var query: [QueryItem]
    /// The header fields in order, names as sent.
    public var headers: [HeaderField]
    /// The HTTP version's major and minor numbers.
    public var version: (major: Int, minor: Int)
    /// The TLS protocol version, such as `TLSv1.3`, when the request came over TLS.
    public var tlsVersion: String?
    /// The subject of the client's certificate (`CN=client,O=acme`), when it presented one.
    public var clientCertificateSubject: String?

    public init(method: String, target: String, headers: [HeaderField] = [], version: (major: Int, minor: Int) = (1, 1))
    {
        self.method = method
        self.target = target
        self.headers = headers
        self.version = version
        let (path, query) = Self.split(target: target)
        self.path = path
        self.query = query
    }

    /// Splits a request target into its decoded path and query parameters. An absolute-form target
    /// (`http://host/path`, as sent to proxies) is reduced to its path.
    static func split(target: String) -> (path: String, query: [QueryItem]) {
        // The common case, a plain path with nothing to decode, takes no work at all.
        if target.utf8.first == UInt8(ascii: "/"),
            !target.utf8.contains(where: {
                $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "#")
            })
        {
            return (target, [])
        }
        var rest = Substring(target)
        if !rest.hasPrefix("/"), let schemeEnd = rest.range(of: "://") {
            let afterScheme = rest[schemeEnd.upperBound...]
            rest = afterScheme.firstIndex(where: { $0 == "/" || $0 == "?" }).map { afterScheme[$0...] } ?? "/"
            if rest.hasPrefix("?") { rest = "/" + rest }
        }
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
        let rawPath: Substring
        var query: [QueryItem] = []
        if let mark = rest.firstIndex(of: "?") {
            rawPath = rest[..<mark]
            query = self.parseQuery(rest[rest.index(after: mark)...])
        } else {
            rawPath = rest
        }
        let path = rawPath.contains("%") ? String(rawPath).removingPercentEncoding ?? String(rawPath) : String(rawPath)
        return (path.isEmpty ? "/" : path, query)
    }

    static func parseQuery(_ text: Substring) -> [QueryItem] {
        text.split(separator: "&", omittingEmptySubsequences: true).map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let decode: (Substring) -> String = { part in
                let spaced = part.replacingOccurrences(of: "+", with: " ")
                return spaced.removingPercentEncoding ?? spaced
            }
            return QueryItem(decode(parts[0]), parts.count > 1 ? decode(parts[1]) : "")
        }
    }
}
