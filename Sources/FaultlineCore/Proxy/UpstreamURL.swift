import Foundation

/// Where a `proxy` rule forwards requests: `http://` or `https://`, a host, an optional port and an optional base path
/// (`https://api.example.com/v1`). The request's path and query are appended to the base path.
public struct UpstreamURL: Sendable, Hashable, CustomStringConvertible {
    /// `http` or `https`.
    public let scheme: String
    /// The host name or address as written (an IPv6 address without its brackets).
    public let host: String
    /// The port, the scheme's default when the URL names none.
    public let port: Int
    /// The base path without a trailing slash; empty for none.
    public let basePath: String

    /// Whether the upstream speaks TLS.
    public var isTLS: Bool { self.scheme == "https" }

    /// `host` or `host:port` (the port only when it is not the scheme's default), as the `Host` header says it.
    public var authority: String {
        let host = self.host.contains(":") ? "[\(self.host)]" : self.host
        let defaultPort = self.isTLS ? 443 : 80
        return self.port == defaultPort ? host : "\(host):\(self.port)"
    }

    /// The URL as written, normalised: `https://api.example.com/v1`.
    public var description: String {
        "\(self.scheme)://\(self.authority)\(self.basePath)"
    }

    /// Parses a URL, or returns why it is not one Faultline can forward to.
    public static func parse(_ text: String) -> Result<UpstreamURL, UpstreamURLError> {
        let trimmed = text.trimmingSpaces()
        let scheme: String
        let rest: Substring
        if trimmed.lowercased().hasPrefix("http://") {
            scheme = "http"
            rest = trimmed.dropFirst(7)
        } else if trimmed.lowercased().hasPrefix("https://") {
            scheme = "https"
            rest = trimmed.dropFirst(8)
        } else {
            return .failure(UpstreamURLError("'\(text)' is not an http:// or https:// URL"))
        }
        if rest.contains("?") || rest.contains("#") {
            return .failure(
                UpstreamURLError(
                    "'\(text)' has a query or a fragment; the request's own query is forwarded, so give only a base path"
                )
            )
        }
        let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        var path = String(rest[authorityEnd...])
        if authority.contains("@") {
            return .failure(
                UpstreamURLError("'\(text)' has user information; put credentials in the rule's headers instead")
            )
        }
        var host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else {
                return .failure(UpstreamURLError("'\(text)' has an IPv6 address without its closing ']'"))
            }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") {
                portText = after.dropFirst()
            } else if !after.isEmpty {
                return .failure(UpstreamURLError("'\(text)' has something after the IPv6 address that is not a port"))
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        } else {
            host = authority
        }
        guard !host.isEmpty, host.utf8.allSatisfy({ Self.isHostByte($0) }) else {
            return .failure(
                UpstreamURLError("'\(text)' names no host, or a host with characters a host name cannot have")
            )
        }
        var port = scheme == "https" ? 443 : 80
        if let portText {
            guard let number = Int(portText), (1...65535).contains(number) else {
                return .failure(UpstreamURLError("'\(text)' has a port that is not a number from 1 to 65535"))
            }
            port = number
        }
        while path.hasSuffix("/") { path.removeLast() }
        guard path.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            return .failure(
                UpstreamURLError("'\(text)' has spaces or control characters in its path; percent-encode them")
            )
        }
        return .success(UpstreamURL(scheme: scheme, host: String(host).lowercased(), port: port, basePath: path))
    }

    init(scheme: String, host: String, port: Int, basePath: String) {
        self.scheme = scheme
        self.host = host
        self.port = port
        self.basePath = basePath
    }

    /// The URL a request for `target` (as the client sent it: `/orders?page=2`) goes to: the base path, then the
    /// target's path and query. Characters a URL cannot carry as they are (spaces, quotes, braces, bytes beyond
    /// ASCII) are percent-encoded; what the client encoded stays encoded.
    public func url(for target: String) -> String {
        var pathAndQuery = Substring(target)
        if !pathAndQuery.hasPrefix("/"), let schemeEnd = pathAndQuery.range(of: "://") {
            // An absolute-form target (`http://host/path`, as sent to proxies) keeps only its path and query.
            let afterScheme = pathAndQuery[schemeEnd.upperBound...]
            pathAndQuery = afterScheme.firstIndex(where: { $0 == "/" || $0 == "?" }).map { afterScheme[$0...] } ?? "/"
        } else if pathAndQuery == "*" {
            pathAndQuery = ""
        }
        if let hash = pathAndQuery.firstIndex(of: "#") { pathAndQuery = pathAndQuery[..<hash] }
        var suffix = Self.encodingUnsafeBytes(pathAndQuery)
        if suffix.hasPrefix("?") || suffix.isEmpty { suffix = (self.basePath.isEmpty ? "/" : "") + suffix }
        return "\(self.scheme)://\(self.authority)\(self.basePath)\(suffix)"
    }

    private static func isHostByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: ":"), UInt8(ascii: "_"), UInt8(ascii: "%"):
            true
        default:
            false
        }
    }

    /// Percent-encodes the bytes a URL cannot carry literally (RFC 3986 allows unreserved, reserved and `%`).
    static func encodingUnsafeBytes(_ text: Substring) -> String {
        let allowed: (UInt8) -> Bool = { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"):
                return true
            default:
                return "-._~:/?#[]@!$&'()*+,;=%".utf8.contains(byte)
            }
        }
        guard !text.utf8.allSatisfy(allowed) else { return String(text) }
        var output = ""
        for byte in text.utf8 {
            if allowed(byte) {
                output.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                let hex = String(byte, radix: 16, uppercase: true)
                output += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return output
    }
}

/// Why a `proxy` URL cannot be used.
public struct UpstreamURLError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A sentence without its final full stop.
    public let description: String

    init(_ description: String) {
        self.description = description
    }
}
