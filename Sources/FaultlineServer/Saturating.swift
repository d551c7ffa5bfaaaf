/// Conversions that clamp instead of trapping, for numbers that come from requests (rates, sizes, durations).
enum Saturating {
    /// `value` as an `Int64`, clamped to its range; 0 for NaN.
    static func int64(_ value: Double) -> Int64 {
        guard !value.isNaN else { return 0 }
        if value >= Double(Int64.max) { return Int64.max }
        if value <= Double(Int64.min) { return Int64.min }
        return Int64(value)
    }
}
