import FaultlineCore

/// Who may use the control API: the rules that keep a web page from driving a developer's local Faultline, and the
/// admin token. Pure: the caller passes what it knows of the connection.
///
/// - The `Host` must be a loopback name or address, the listener's own address, or a name given with
///   `--admin-host`: a page that rebinds its own DNS name to 127.0.0.1 still sends its name, and is refused.
/// - A request that changes state (`POST`, `PUT`, `DELETE`, `PATCH`) from a browser must come from a page of the same
///   hosts: another site's `Origin` (or `Sec-Fetch-Site: cross-site`) is refused.
/// - With an admin token every request must carry it as a bearer credential (compared in constant time); without
///   one only loopback clients are answered.
struct ControlAccess: Sendable {
    /// Why a control request is refused.
    struct Refusal: Equatable, Sendable {
        var status: Int
        var message: String
        /// Whether the answer asks for the bearer token (`WWW-Authenticate`).
        var wantsToken = false
    }

    /// The token every control request must carry, when set.
    var adminToken: String?
    /// Names besides the loopback ones that the control API answers to (`--admin-host`), lower-cased.
    var adminHosts: [String]

    init(adminToken: String?, adminHosts: [String]) {
        self.adminToken = adminToken
        self.adminHosts = adminHosts.map { Self.hostName(fromAuthority: $0) ?? $0.lowercased() }
    }

    /// `nil` when the request may go on, else the refusal to answer with.
    ///
    /// - Parameters:
    ///   - clientIsLoopback: the client's address is on this machine.
    ///   - listenerAddress: the address the connection was accepted on (its IP, without port).
    func check(_ request: IncomingRequest, clientIsLoopback: Bool, listenerAddress: String?) -> Refusal? {
        let hosts = request.headers.values(named: "Host")
        if hosts.count > 1 {
            return Refusal(status: 400, message: "the request has more than one Host header")
        }
        if let host = hosts.first, !self.accepts(authority: host, listenerAddress: listenerAddress) {
            return Refusal(
                status: 403,
                message: "the control API answers requests for loopback names and addresses only, not for '\(host)' "
                    + "(start the server with --admin-host NAME to allow another name)"
            )
        }
        if Self.changesState(request.method) {
            if let origin = request.headers.first(named: "Origin") {
                let host = Self.hostName(fromOrigin: origin)
                if host.map({ !self.accepts(host: $0, listenerAddress: listenerAddress) }) ?? true {
                    return Refusal(
                        status: 403,
                        message: "the control API does not take changes from another site (Origin: \(origin))"
                    )
                }
            }
            if let site = request.headers.first(named: "Sec-Fetch-Site"), site.equalsIgnoringASCIICase("cross-site") {
                return Refusal(status: 403, message: "the control API does not take changes from another site")
            }
        }
        if let token = self.adminToken {
            guard let credentials = request.headers.first(named: "Authorization"),
                let presented = Self.bearerToken(credentials),
                ConstantTime.equals(Array(presented.utf8), Array(token.utf8))
            else {
                return Refusal(
                    status: 401,
                    message: "the control API needs the admin token as a bearer credential",
                    wantsToken: true
                )
            }
            return nil
        }
        guard clientIsLoopback else {
            return Refusal(status: 403, message: "the control API answers loopback clients only (or use --admin-token)")
        }
        return nil
    }

    /// Methods that change the server's state.
    static func changesState(_ method: String) -> Bool {
        method == "POST" || method == "PUT" || method == "DELETE" || method == "PATCH"
    }

    /// Whether a `Host` value (`name[:port]`, `[v6][:port]`) names this server.
    func accepts(authority: String, listenerAddress: String?) -> Bool {
        guard let host = Self.hostName(fromAuthority: authority) else { return false }
        return self.accepts(host: host, listenerAddress: listenerAddress)
    }

    /// Whether a host name (lower-case, no port, no brackets) names this server.
    func accepts(host: String, listenerAddress: String?) -> Bool {
        if Self.isLoopback(host) || self.adminHosts.contains(host) { return true }
        if let listenerAddress, let own = Self.hostName(fromAuthority: listenerAddress), own == host { return true }
        return false
    }

    /// `localhost`, an address in 127.0.0.0/8, `::1`, or an IPv4-mapped loopback address.
    static func isLoopback(_ host: String) -> Bool {
        if host == "localhost" || host.hasSuffix(".localhost") { return true }
        if host == "::1" || host == "0:0:0:0:0:0:0:1" { return true }
        let v4 = host.hasPrefix("::ffff:") ? String(host.dropFirst(7)) : host
        let octets = v4.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }

    /// The host of a `Host` value, lower-cased, without port, brackets or a final dot; `nil` when malformed.
    static func hostName(fromAuthority authority: String) -> String? {
        var text = Substring(authority.trimmingSpaces().lowercased())
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            let rest = text[text.index(after: close)...]
            guard rest.isEmpty || (rest.hasPrefix(":") && rest.dropFirst().allSatisfy(\.isNumber)) else { return nil }
            text = text[text.index(after: text.startIndex)..<close]
            return text.isEmpty ? nil : String(text)
        }
        if text.filter({ $0 == ":" }).count > 1 {
            // A bare IPv6 address, as a listener's own address is written.
            return String(text)
        }
        if let colon = text.firstIndex(of: ":") {
            guard text[text.index(after: colon)...].allSatisfy(\.isNumber) else { return nil }
            text = text[..<colon]
        }
        if text.hasSuffix(".") { text = text.dropLast() }
        guard !text.isEmpty, !text.contains(where: { $0 == "/" || $0 == "@" || $0 == " " }) else { return nil }
        return String(text)
    }

    /// The host of an `Origin` (`scheme://host[:port]`); `nil` for `null` or anything else.
    static func hostName(fromOrigin origin: String) -> String? {
        let text = origin.trimmingSpaces().lowercased()
        for scheme in ["http://", "https://"] where text.hasPrefix(scheme) {
            return self.hostName(fromAuthority: String(text.dropFirst(scheme.count)))
        }
        return nil
    }

    /// The token of `Bearer TOKEN` (the scheme compared case-insensitively, RFC 9110 section 11.1).
    static func bearerToken(_ credentials: String) -> Substring? {
        let text = credentials.trimmingSpaces()
        guard let space = text.firstIndex(of: " ") else { return nil }
        guard String(text[..<space]).equalsIgnoringASCIICase("bearer") else { return nil }
        return text[text.index(after: space)...].drop { $0 == " " }
    }
}

/// Comparisons whose time does not depend on where two secrets differ.
enum ConstantTime {
    /// Whether `a` and `b` hold the same bytes; the time depends on their lengths only.
    static func equals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(truncatingIfNeeded: a.count ^ b.count)
        if a.count != b.count { difference |= 1 }
        let length = max(a.count, b.count)
        for index in 0..<length {
            let x = index < a.count ? a[index] : 0
            let y = index < b.count ? b[index] : 0
            difference |= x ^ y
        }
        return difference == 0
    }
}
