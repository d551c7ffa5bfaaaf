/// A media type or media range as `Accept` and `Content-Type` carry them (RFC 9110 section 12.5.1): `type/subtype`,
/// with `*` wildcards and parameters, `q` included.
public struct MediaRange: Sendable, Equatable {
    /// Lower-cased type, or `*`.
    public var type: String
    /// Lower-cased subtype, or `*`.
    public var subtype: String
    /// Parameters other than `q`, names lower-cased.
    public var parameters: [String: String]
    /// The weight from `q` (1 when absent).
    public var quality: Double

    /// Parses one media range, or returns `nil` when it is not `TYPE/SUBTYPE`.
    public init?(_ text: String) {
        let pieces = text.split(separator: ";", omittingEmptySubsequences: false)
        let essence = pieces[0].trimmingSpaces().lowercased()
        let parts = essence.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, HTTPSyntax.isToken(String(parts[0])), HTTPSyntax.isToken(String(parts[1])) else {
            return nil
        }
        self.type = String(parts[0])
        self.subtype = String(parts[1])
        self.parameters = [:]
        self.quality = 1
        for piece in pieces.dropFirst() {
            let pair = piece.split(separator: "=", maxSplits: 1)
            guard pair.count == 2 else { continue }
            let name = pair[0].trimmingSpaces().lowercased()
            var value = pair[1].trimmingSpaces()
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 {
                value = String(value.dropFirst().dropLast())
            }
            if name == "q" {
                self.quality = Double(value).map { min(max($0, 0), 1) } ?? 1
            } else {
                self.parameters[name] = value.lowercased()
            }
        }
    }

    /// Whether this range (from `Accept`) covers `mediaType`; the type's own parameters must all be present.
    public func covers(_ mediaType: MediaRange) -> Bool {
        if self.type != "*" && self.type != mediaType.type { return false }
        if self.subtype != "*" && self.subtype != mediaType.subtype { return false }
        return self.parameters.allSatisfy { mediaType.parameters[$0.key] == $0.value }
    }

    /// Parses a comma-separated list such as an `Accept` value; unreadable elements are skipped.
    public static func list(_ text: String) -> [MediaRange] {
        text.split(separator: ",").compactMap { MediaRange(String($0)) }
    }

    /// Whether a request with these `Accept` values takes one of `offered` (RFC 9110 section 12.5.1): no `Accept` takes
    /// anything; otherwise the most specific matching range must not have `q=0`.
    public static func accepts(_ acceptValues: [String], anyOf offered: [String]) -> Bool {
        let ranges = acceptValues.flatMap { self.list($0) }
        if acceptValues.isEmpty || ranges.isEmpty { return true }
        for offer in offered.compactMap({ MediaRange($0) }) {
            let matching = ranges.filter { $0.covers(offer) }
            // The most specific range decides: exact type over type/*, over */*, more parameters first.
            let best = matching.max { lhs, rhs in lhs.specificity < rhs.specificity }
            if let best, best.quality > 0 { return true }
        }
        return false
    }

    var specificity: Int {
        (self.type == "*" ? 0 : 100) + (self.subtype == "*" ? 0 : 10) + self.parameters.count
    }
}
