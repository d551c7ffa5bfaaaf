import Foundation

/// Checks a request's credentials against a rule's `auth`, the way a real server would.
enum AuthCheck {
    /// Why the credentials were refused: the status and the challenge to send.
    struct Refusal {
        let status: Int
        let challenge: HeaderField
        let message: String
    }

    /// `nil` when the credentials are right.
    static func refusal(
        for request: IncomingRequest,
        auth: AuthSpec,
        context: TemplateContext
    ) throws(TemplateError) -> Refusal? {
        let headerName = auth.proxy ? "Proxy-Authorization" : "Authorization"
        let sent = request.headers.first(named: headerName)?.trimmingSpaces()
        let (scheme, credentials) = Self.split(sent)
        let challengeName = auth.proxy ? "Proxy-Authenticate" : "WWW-Authenticate"
        let status = auth.proxy ? 407 : 401
        switch auth.scheme {
        case .basic(let template):
            let expected = try template.render(in: context)
            if Self.basicCredentials(sent) == expected { return nil }
            let message = sent == nil ? "credentials are required" : "the credentials are wrong"
            return Refusal(
                status: status,
                challenge: HeaderField(challengeName, "Basic realm=\"\(auth.realm)\", charset=\"UTF-8\""),
                message: message
            )
        case .bearer(let template):
            let expected = try template.render(in: context)
            // The scheme is case-insensitive (RFC 9110 section 11.1): `bearer` and `BEARER` are `Bearer`.
            if scheme?.equalsIgnoringASCIICase("bearer") ?? false, credentials == expected { return nil }
            // RFC 6750 section 3: no error code when no token came, invalid_token for a wrong one.
            let challenge =
                sent == nil
                ? "Bearer realm=\"\(auth.realm)\"" : "Bearer realm=\"\(auth.realm)\", error=\"invalid_token\""
            return Refusal(
                status: status,
                challenge: HeaderField(challengeName, challenge),
                message: sent == nil ? "a bearer token is required" : "the bearer token is wrong"
            )
        }
    }

    /// The `user:password` of `Basic` credentials, decoded; `nil` for another scheme or bad base64.
    static func basicCredentials(_ authorization: String?) -> String? {
        let (scheme, credentials) = Self.split(authorization?.trimmingSpaces())
        guard scheme?.equalsIgnoringASCIICase("basic") ?? false, let credentials,
            let data = Data(base64Encoded: credentials)
        else { return nil }
        return String(data: data, encoding: .utf8)
    }

    private static func split(_ value: String?) -> (scheme: String?, credentials: String?) {
        guard let value, let space = value.firstIndex(of: " ") else { return (value, nil) }
        return (String(value[..<space]), value[space...].trimmingSpaces())
    }
}
