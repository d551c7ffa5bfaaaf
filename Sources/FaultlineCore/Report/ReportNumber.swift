/// Numbers written for people and for SVG coordinates, without Foundation's formatters (a report of 10,000 requests
/// writes hundreds of thousands of them).
enum ReportNumber {
    private static let powers: [Double] = [1, 10, 100, 1000, 10_000]

    /// `value` with exactly `decimals` digits after the point (0 to 4): `fixed(1.5, 3)` is `1.500`.
    static func fixed(_ value: Double, _ decimals: Int) -> String {
        var output = ""
        self.append(value, decimals, to: &output)
        return output
    }

    /// Appends `value` with exactly `decimals` digits after the point to `output`.
    static func append(_ value: Double, _ decimals: Int, to output: inout String) {
        let decimals = min(max(decimals, 0), 4)
        let scale = self.powers[decimals]
        // Far beyond anything a timeline holds (a Retry-After of 2^63 seconds): written as Swift writes a Double,
        // rather than overflowing an Int.
        guard value.isFinite, abs(value * scale) < 9e15 else {
            output += value.isFinite ? String(value) : "0"
            return
        }
        let scaled = Int64((value * scale).rounded())
        if scaled < 0 { output += "-" }
        let magnitude = scaled.magnitude
        let unit = UInt64(scale)
        output += String(magnitude / unit)
        guard decimals > 0 else { return }
        output += "."
        let fraction = String(magnitude % unit)
        for _ in fraction.count..<decimals { output += "0" }
        output += fraction
    }

    /// An SVG coordinate: one decimal, no trailing `.0`.
    static func appendCoordinate(_ value: Double, to output: inout String) {
        // Pixels never leave the plot by much; a coordinate beyond a billion is clamped rather than trapping.
        let tenths = value.isFinite ? Int64((min(max(value, -1e9), 1e9) * 10).rounded()) : 0
        if tenths < 0 { output += "-" }
        let magnitude = tenths.magnitude
        output += String(magnitude / 10)
        if magnitude % 10 != 0 {
            output += "."
            output += String(magnitude % 10)
        }
    }

    /// A duration for a label: `12 ms`, `2 s`, `1.25 s`, `12.3 s`, `125 s`.
    static func duration(_ seconds: Double) -> String {
        let magnitude = abs(seconds)
        if magnitude < 1 { return self.fixed(seconds * 1000, magnitude < 0.01 ? 1 : 0) + " ms" }
        if seconds == seconds.rounded(), magnitude < 1e9 { return self.fixed(seconds, 0) + " s" }
        if magnitude < 10 { return self.fixed(seconds, 2) + " s" }
        if magnitude < 100 { return self.fixed(seconds, 1) + " s" }
        return self.fixed(seconds, 0) + " s"
    }
}
