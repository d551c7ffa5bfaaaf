/// Parses and prints the durations scenario files use: a number with a unit (`ms`, `s`, `m`), such as `1500ms`,
/// `2s`, `1.5s` or `1m`.
public enum DurationSyntax {
    /// The units a duration may carry, longest suffix first so that `ms` is not read as `m`.
    static let units: [(suffix: String, nanoseconds: Double)] = [
        ("ms", 1e6),
        ("us", 1e3),
        ("s", 1e9),
        ("m", 60e9),
        ("h", 3600e9),
    ]

    /// Parses `text` as a duration with a unit.
    ///
    /// - Parameter allowBareSeconds: accept a plain number as seconds, as httpbin's endpoints do (`/delay/2`).
    /// - Returns: the duration, or `nil` when `text` is not one.
    public static func parse(_ text: String, allowBareSeconds: Bool = false) -> Duration? {
        let trimmed = text.trimmingSpaces()
        guard !trimmed.isEmpty else { return nil }
        for unit in self.units where trimmed.hasSuffix(unit.suffix) {
            let number = trimmed.dropLast(unit.suffix.count).trimmingSpaces()
            guard let value = parseNonNegativeDecimal(number) else { return nil }
            return nanosecondsDuration(value * unit.nanoseconds)
        }
        if let value = parseNonNegativeDecimal(trimmed), allowBareSeconds || value == 0 {
            return nanosecondsDuration(value * 1e9)
        }
        return nil
    }

    /// Prints a duration the way a person would write it in a scenario (`250ms`, `2s`, `1.5s`).
    public static func format(_ duration: Duration) -> String {
        let nanoseconds = duration.nanoseconds
        if nanoseconds % 1_000_000_000 == 0 {
            return "\(nanoseconds / 1_000_000_000)s"
        }
        if nanoseconds % 1_000_000 == 0 {
            return "\(nanoseconds / 1_000_000)ms"
        }
        let milliseconds = Double(nanoseconds) / 1e6
        return "\(milliseconds)ms"
    }

    private static func nanosecondsDuration(_ nanoseconds: Double) -> Duration? {
        guard nanoseconds.isFinite, nanoseconds < Double(Int64.max) else { return nil }
        return .nanoseconds(Int64(nanoseconds.rounded()))
    }
}

extension Duration {
    /// The whole duration in nanoseconds, saturating at `Int64.max`.
    public var nanoseconds: Int64 {
        let (seconds, attoseconds) = self.components
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? Int64.min : Int64.max }
        return product + attoseconds / 1_000_000_000
    }

    /// The duration in seconds as a floating-point number.
    public var seconds: Double {
        Double(self.nanoseconds) / 1e9
    }
}

/// Parses a plain non-negative decimal number (`12`, `1.5`, `.5`), refusing signs, exponents and letters so that a
/// typo is never read as a number.
func parseNonNegativeDecimal<S: StringProtocol>(_ text: S) -> Double? {
    guard !text.isEmpty else { return nil }
    var sawDigit = false
    var sawDot = false
    for character in text {
        if character.isASCII, character.isNumber {
            sawDigit = true
        } else if character == ".", !sawDot {
            sawDot = true
        } else {
            return nil
        }
    }
    guard sawDigit else { return nil }
    return Double(String(text))
}

extension StringProtocol {
    /// The string without leading and trailing spaces and tabs.
    package func trimmingSpaces() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first == " " || first == "\t" { scalars.removeFirst() }
        while let last = scalars.last, last == " " || last == "\t" { scalars.removeLast() }
        return String(scalars)
    }
}
