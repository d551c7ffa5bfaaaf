/// Evaluates conditional request headers (RFC 9110 section 13) in the order section 13.2.2 gives.
public enum Preconditions {
    /// What the preconditions say.
    public enum Outcome: Equatable, Sendable {
        /// Carry on with the request (and, for a Range request, with its If-Range).
        case proceed
        /// 304 Not Modified (GET and HEAD only).
        case notModified
        /// 412 Precondition Failed.
        case failed
    }

    /// - Parameters:
    ///   - etag: the representation's current entity tag, if it has one.
    ///   - lastModified: its modification time in seconds since 1970, if known.
    public static func evaluate(_ request: IncomingRequest, etag: String?, lastModified: Int64?) -> Outcome {
        let headers = request.headers
        let isGetOrHead = request.method == "GET" || request.method == "HEAD"
        // 1. If-Match, else 2. If-Unmodified-Since.
        let ifMatch = headers.values(named: "If-Match")
        if !ifMatch.isEmpty {
            if let tags = EntityTag.list(ifMatch) {
                guard let etag, tags.contains(where: { EntityTag.stronglyEqual($0, etag) }) else { return .failed }
            }
        } else if let value = headers.first(named: "If-Unmodified-Since"), let date = HTTPDate.parse(value),
            let lastModified, lastModified > date
        {
            return .failed
        }
        // 3. If-None-Match, else 4. If-Modified-Since (GET and HEAD only).
        let ifNoneMatch = headers.values(named: "If-None-Match")
        if !ifNoneMatch.isEmpty {
            let matches: Bool
            if let tags = EntityTag.list(ifNoneMatch) {
                matches = etag.map { etag in tags.contains { EntityTag.weaklyEqual($0, etag) } } ?? false
            } else {
                matches = true  // `*`: a current representation exists.
            }
            if matches { return isGetOrHead ? .notModified : .failed }
        } else if isGetOrHead, let value = headers.first(named: "If-Modified-Since"), let date = HTTPDate.parse(value),
            let lastModified, lastModified <= date
        {
            return .notModified
        }
        return .proceed
    }

    /// Whether an `If-Range` value lets the Range header apply (RFC 9110 section 13.1.5): an entity tag must match
    /// strongly, a date must equal Last-Modified exactly.
    public static func ifRangeHolds(_ value: String, etag: String?, lastModified: Int64?) -> Bool {
        let trimmed = value.trimmingSpaces()
        if trimmed.hasPrefix("\"") || trimmed.hasPrefix("W/") {
            guard let etag else { return false }
            return EntityTag.stronglyEqual(trimmed, etag)
        }
        guard let date = HTTPDate.parse(trimmed), let lastModified else { return false }
        return date == lastModified
    }
}
