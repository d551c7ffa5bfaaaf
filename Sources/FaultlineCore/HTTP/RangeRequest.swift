/// A `Range: bytes=...` request (RFC 9110 section 14) resolved against a representation's length.
public enum RangeRequest {
    /// The most ranges Faultline serves in one answer; a request for more is answered in full, as the RFC allows
    /// for a "set of many small ranges".
    public static let maxRanges = 100

    /// What to send for a Range header.
    public enum Outcome: Equatable, Sendable {
        /// Ignore the header: it is malformed, uses another unit, or asks for too much. Send the whole body.
        case ignore
        /// Send these byte ranges (inclusive bounds), in this order.
        case ranges([ClosedRange<Int64>])
        /// No range overlaps the representation: 416.
        case unsatisfiable
    }

    /// Resolves the `Range` value `header` against a body of `length` bytes.
    public static func resolve(_ header: String, length: Int64) -> Outcome {
        let trimmed = header.trimmingSpaces()
        guard let equals = trimmed.firstIndex(of: "="),
            trimmed[..<equals].trimmingSpaces().lowercased() == "bytes"
        else { return .ignore }
        let specs = trimmed[trimmed.index(after: equals)...].split(separator: ",", omittingEmptySubsequences: false)
        var ranges: [ClosedRange<Int64>] = []
        var parsedAny = false
        for spec in specs {
            let text = spec.trimmingSpaces()
            // An empty element between commas is allowed by the list syntax.
            if text.isEmpty { continue }
            guard let dash = text.firstIndex(of: "-") else { return .ignore }
            let first = text[..<dash]
            let last = text[text.index(after: dash)...]
            parsedAny = true
            if first.isEmpty {
                // Suffix: the last n bytes.
                guard let count = self.digits(last) else { return .ignore }
                if count > 0, length > 0 {
                    ranges.append(max(0, length - count)...(length - 1))
                }
            } else {
                guard let start = self.digits(first) else { return .ignore }
                let end: Int64
                if last.isEmpty {
                    end = length - 1
                } else {
                    guard let value = self.digits(last), value >= start else { return .ignore }
                    end = min(value, length - 1)
                }
                if start < length {
                    ranges.append(start...end)
                }
            }
        }
        guard parsedAny else { return .ignore }
        guard specs.count <= self.maxRanges else { return .ignore }
        guard !ranges.isEmpty else { return .unsatisfiable }
        return .ranges(self.coalesced(ranges))
    }

    /// The ranges as requested, or sorted and merged when any of them overlap (the RFC lets a server coalesce them,
    /// and overlapping ranges are a known way to make a server send a body many times over).
    static func coalesced(_ ranges: [ClosedRange<Int64>]) -> [ClosedRange<Int64>] {
        let sorted = ranges.sorted { $0.lowerBound < $1.lowerBound }
        let overlaps = zip(sorted, sorted.dropFirst()).contains { $0.upperBound >= $1.lowerBound }
        guard overlaps else { return ranges }
        var merged: [ClosedRange<Int64>] = []
        for range in sorted {
            if let last = merged.last, range.lowerBound <= last.upperBound + 1 {
                merged[merged.count - 1] = last.lowerBound...max(last.upperBound, range.upperBound)
            } else {
                merged.append(range)
            }
        }
        return merged
    }

    private static func digits(_ text: Substring) -> Int64? {
        let trimmed = text.trimmingSpaces()
        guard !trimmed.isEmpty, trimmed.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
            return nil
        }
        // A number too large for 64 bits is still a valid (if unsatisfiable) position.
        return Int64(trimmed) ?? Int64.max
    }
}
