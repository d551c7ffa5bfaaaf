/// Finds the known key a misspelt key was probably meant to be, for "did you mean" hints.
enum KeySuggester {
    /// The closest of `candidates` to `key`, or `nil` when none is close enough to be a likely typo.
    static func suggestion(for key: String, among candidates: some Sequence<String>) -> String? {
        let lowered = key.lowercased()
        var best: (key: String, distance: Int)?
        for candidate in candidates {
            if candidate.lowercased() == lowered { return candidate }
            let distance = self.editDistance(lowered, candidate.lowercased())
            let allowed = max(1, min(3, candidate.count / 3))
            if distance <= allowed, distance < (best?.distance ?? Int.max) {
                best = (candidate, distance)
            }
        }
        return best?.key
    }

    /// The Levenshtein distance, counting a swap of two neighbours as one edit.
    static func editDistance(_ a: String, _ b: String) -> Int {
        self.editDistance(Array(a.unicodeScalars), Array(b.unicodeScalars))
    }

    /// The same, over Unicode scalars a caller has already taken apart (the 404's explanation compares one request
    /// path with many rules' paths).
    static func editDistance(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar]) -> Int {
        // A start and an end the two share cost nothing and change nothing (checked exhaustively for this distance
        // over short strings): only what lies between is compared, so near misses cost a few steps.
        var start = 0
        while start < a.count, start < b.count, a[start] == b[start] { start += 1 }
        var end = 0
        while end < a.count - start, end < b.count - start, a[a.count - 1 - end] == b[b.count - 1 - end] { end += 1 }
        return self.fullEditDistance(Array(a[start..<(a.count - end)]), Array(b[start..<(b.count - end)]))
    }

    private static func fullEditDistance(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previousPrevious = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    current[j] = min(current[j], previousPrevious[j - 2] + 1)
                }
            }
            (previousPrevious, previous, current) = (previous, current, previousPrevious)
        }
        return previous[b.count]
    }
}
