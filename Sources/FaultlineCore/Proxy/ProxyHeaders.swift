/// Which header fields cross a proxy (RFC 9110 section 7.6.1): hop-by-hop fields, and every field the `Connection`
/// header names, describe one connection and are dropped in both directions; the rest are end-to-end and pass as
/// they came, in their order and with their names as written.
public enum ProxyHeaders {
    /// The fields that belong to one connection, whether or not `Connection` names them. `Proxy-Authorization` and
    /// `Proxy-Authenticate` are for the proxy, not the server behind it.
    public static let hopByHop: [String] = [
        "Connection", "Keep-Alive", "Proxy-Connection", "TE", "Trailer", "Transfer-Encoding", "Upgrade",
        "Proxy-Authorization", "Proxy-Authenticate",
    ]

    /// The request's fields as they go to the upstream: without hop-by-hop fields, without the framing the HTTP client
    /// sets itself (`Content-Length`) nor `Expect` (Faultline answers `100 Continue` itself), and with `Host` set to
    /// the upstream's authority.
    public static func forRequest(_ headers: [HeaderField], upstream: UpstreamURL) -> [HeaderField] {
        var forwarded = self.endToEnd(headers).filter { field in
            !field.name.equalsIgnoringASCIICase("Host") && !field.name.equalsIgnoringASCIICase("Content-Length")
                && !field.name.equalsIgnoringASCIICase("Expect")
        }
        forwarded.insert(HeaderField("Host", upstream.authority), at: 0)
        return forwarded
    }

    /// The upstream's response fields as they go to the client: without hop-by-hop fields. `Content-Length` stays (it
    /// says how long the body is, or for HEAD and 304 how long it would be); the framing is Faultline's.
    public static func forResponse(_ headers: [HeaderField]) -> [HeaderField] {
        self.endToEnd(headers)
    }

    /// `headers` without hop-by-hop fields and without the fields their `Connection` fields name.
    public static func endToEnd(_ headers: [HeaderField]) -> [HeaderField] {
        var named: [String] = []
        for value in headers.values(named: "Connection") {
            for token in value.split(separator: ",") {
                let name = token.trimmingSpaces()
                if !name.isEmpty { named.append(String(name)) }
            }
        }
        return headers.filter { field in
            !self.hopByHop.contains { field.name.equalsIgnoringASCIICase($0) }
                && !named.contains { field.name.equalsIgnoringASCIICase($0) }
        }
    }
}
