import Foundation

/// How a rule matches the request path: exactly, by a glob (`*` one segment or part of one, `**` any depth,
/// `{name}` one segment captured for templates), or by a regular expression with optional named groups.
public enum PathPattern: Sendable {
    case exact(String)
    case glob(GlobPattern)
    case regex(PathRegex)

    /// Parses the value of a rule's `path` key.
    public init(path: String) {
        let glob = GlobPattern(path)
        self = glob.isLiteral ? .exact(path) : .glob(glob)
    }

    /// The names this pattern captures, usable as `{name}` in the rule's response.
    public var captureNames: Set<String> {
        switch self {
        case .exact: []
        case .glob(let glob): glob.captureNames
        case .regex(let regex): regex.captureNames
        }
    }

    /// Matches `path` (percent-decoded, without the query), returning the captures, or `nil` when it does not match
    /// (a regex that ran out of its budget does not match).
    public func match(_ path: String) -> [String: String]? {
        switch self.evaluate(path) {
        case .matched(let captures): captures
        case .missed, .gaveUp: nil
        }
    }

    /// Matches `path`, telling a miss from a regex that gave up.
    public func evaluate(_ path: String) -> PathMatch {
        switch self {
        case .exact(let expected): expected == path ? .matched([:]) : .missed
        case .glob(let glob): glob.match(path).map { .matched($0) } ?? .missed
        case .regex(let regex): regex.evaluate(path)
        }
    }

    /// The pattern as the scenario wrote it.
    public var source: String {
        switch self {
        case .exact(let path): path
        case .glob(let glob): glob.source
        case .regex(let regex): regex.source
        }
    }

}

/// A path glob: segments separated by `/`; `**` matches any number of segments, `*` inside a segment any run of
/// characters other than `/`, `{name}` a whole segment that is captured.
public struct GlobPattern: Sendable {
    enum Segment: Sendable {
        case literal(String)
        case wildcard([Substring])  // the literal pieces between `*`s
        case capture(String)
        case anyDepth
    }

    let segments: [Segment]
    public let source: String

    init(_ source: String) {
        self.source = source
        let parsed: [Segment] = source.split(separator: "/", omittingEmptySubsequences: false).map { piece in
            if piece == "**" { return .anyDepth }
            if piece.hasPrefix("{"), piece.hasSuffix("}"), piece.count > 2 {
                return .capture(String(piece.dropFirst().dropLast()))
            }
            if piece.contains("*") {
                return .wildcard(piece.split(separator: "*", omittingEmptySubsequences: false))
            }
            return .literal(String(piece))
        }
        // `**/**` means no more than `**`.
        var segments: [Segment] = []
        for segment in parsed {
            if case .anyDepth = segment, case .anyDepth? = segments.last { continue }
            segments.append(segment)
        }
        self.segments = segments
    }

    var isLiteral: Bool {
        self.segments.allSatisfy { if case .literal = $0 { true } else { false } }
    }

    var captureNames: Set<String> {
        Set(self.segments.compactMap { if case .capture(let name) = $0 { name } else { nil } })
    }

    func match(_ path: String) -> [String: String]? {
        let pieces = path.split(separator: "/", omittingEmptySubsequences: false)
        var captures: [String: String] = [:]
        var failed: Set<Int> = []
        return self.match(0, pieces[...], &captures, &failed) ? captures : nil
    }

    /// Matches segments from `segmentIndex` against `pieces`. `failed` remembers (segment, piece) pairs already
    /// known not to match, so patterns with several `**` stay linear in the path's length instead of exponential.
    private func match(
        _ segmentIndex: Int,
        _ pieces: ArraySlice<Substring>,
        _ captures: inout [String: String],
        _ failed: inout Set<Int>
    ) -> Bool {
        let key = segmentIndex &* 1_000_003 &+ pieces.startIndex
        if failed.contains(key) { return false }
        let result = self.matchUncached(segmentIndex, pieces, &captures, &failed)
        if !result { failed.insert(key) }
        return result
    }

    private func matchUncached(
        _ segmentIndex: Int,
        _ pieces: ArraySlice<Substring>,
        _ captures: inout [String: String],
        _ failed: inout Set<Int>
    ) -> Bool {
        guard segmentIndex < self.segments.count else { return pieces.isEmpty }
        let segment = self.segments[segmentIndex]
        if case .anyDepth = segment {
            // `**` takes zero or more segments; try the shortest first.
            var rest = pieces
            while true {
                if self.match(segmentIndex + 1, rest, &captures, &failed) { return true }
                guard !rest.isEmpty else { return false }
                rest = rest.dropFirst()
            }
        }
        guard let piece = pieces.first else { return false }
        switch segment {
        case .literal(let text):
            guard piece == text else { return false }
        case .wildcard(let literals):
            guard Self.wildcardMatch(literals, piece) else { return false }
        case .capture(let name):
            guard !piece.isEmpty else { return false }
            captures[name] = String(piece)
        case .anyDepth:
            return false
        }
        return self.match(segmentIndex + 1, pieces.dropFirst(), &captures, &failed)
    }

    /// Matches one segment against `a*b*c`, given as the literals `[a, b, c]`.
    private static func wildcardMatch(_ literals: [Substring], _ piece: Substring) -> Bool {
        guard let first = literals.first, let last = literals.last, literals.count >= 2 else { return false }
        guard piece.hasPrefix(first), piece.dropFirst(first.count).hasSuffix(last) else { return false }
        var rest = piece.dropFirst(first.count).dropLast(last.count)
        for literal in literals.dropFirst().dropLast() where !literal.isEmpty {
            guard let range = rest.range(of: literal) else { return false }
            rest = rest[range.upperBound...]
        }
        return true
    }
}

/// What matching a path against a rule's pattern found.
public enum PathMatch: Sendable, Equatable {
    /// The path matches, with these captures.
    case matched([String: String])
    /// The path does not match.
    case missed
    /// A `pathRegex` ran out of its budget before it could tell: the rule is taken as not matching.
    case gaveUp
}

/// A rule's `pathRegex`: a regular expression matched against the whole path, with named groups as captures.
///
/// Matching is budgeted: a pattern that backtracks catastrophically on a crafted path (`^(a+)+$` against
/// `aaaa…ab`) would otherwise hold an event loop, and every connection on it, for seconds or forever. ICU's matcher
/// reports its progress every 10,000 steps; after `progressBudget` reports (500,000 steps, about 6 ms on a
/// 2026 laptop core) the match is abandoned and the rule does not match this request.
public struct PathRegex: @unchecked Sendable {
    /// ICU progress reports (each about 10,000 matcher steps) one match may take before it is abandoned.
    public static let progressBudget = 50

    // NSRegularExpression is immutable and documented as safe to share between threads.
    let expression: NSRegularExpression
    public let source: String
    public let captureNames: Set<String>

    /// Compiles `source`, throwing Foundation's error when it is not a valid regular expression.
    public init(_ source: String) throws {
        self.source = source
        self.expression = try NSRegularExpression(pattern: source)
        self.captureNames = Self.groupNames(in: source)
    }

    func match(_ path: String) -> [String: String]? {
        if case .matched(let captures) = self.evaluate(path) { return captures }
        return nil
    }

    /// Matches `path` within the budget.
    func evaluate(_ path: String) -> PathMatch {
        let range = NSRange(path.startIndex..., in: path)
        var found: NSTextCheckingResult?
        var reports = 0
        var gaveUp = false
        self.expression.enumerateMatches(in: path, options: [.reportProgress], range: range) { result, flags, stop in
            if let result {
                found = result
                stop.pointee = true
            } else if flags.contains(.progress) {
                reports += 1
                if reports >= Self.progressBudget {
                    gaveUp = true
                    stop.pointee = true
                }
            }
        }
        if gaveUp { return .gaveUp }
        guard let result = found else { return .missed }
        var captures: [String: String] = [:]
        for name in self.captureNames {
            let groupRange = result.range(withName: name)
            if groupRange.location != NSNotFound, let swiftRange = Range(groupRange, in: path) {
                captures[name] = String(path[swiftRange])
            }
        }
        return .matched(captures)
    }

    /// The names of `(?<name>...)` groups in a pattern.
    static func groupNames(in pattern: String) -> Set<String> {
        var names: Set<String> = []
        var rest = pattern[...]
        while let start = rest.range(of: "(?<") {
            let after = rest[start.upperBound...]
            // `(?<=` and `(?<!` are lookbehinds, not groups.
            if let first = after.first, first != "=", first != "!", let close = after.firstIndex(of: ">") {
                names.insert(String(after[..<close]))
            }
            rest = after
        }
        return names
    }
}
