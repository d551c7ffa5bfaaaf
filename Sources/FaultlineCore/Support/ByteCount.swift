/// Parses the sizes scenario files use: a plain integer of bytes, or a number with a unit (`B`, `KiB`, `MiB`, `GiB`,
/// `KB`, `MB`, `GB`), such as `10MiB` or `1.5KB`.
public enum ByteCount {
    /// The units a size may carry, longest suffix first.
    static let units: [(suffix: String, bytes: Double)] = [
        ("KiB", 1024),
        ("MiB", 1024 * 1024),
        ("GiB", 1024 * 1024 * 1024),
        ("TiB", 1024 * 1024 * 1024 * 1024),
        ("KB", 1000),
        ("MB", 1_000_000),
        ("GB", 1_000_000_000),
        ("TB", 1_000_000_000_000),
        ("B", 1),
    ]

    /// Parses `text` as a size in bytes, or returns `nil` when it is not one.
    public static func parse(_ text: String) -> Int64? {
        let trimmed = text.trimmingSpaces()
        for unit in self.units where trimmed.hasSuffix(unit.suffix) {
            let number = trimmed.dropLast(unit.suffix.count).trimmingSpaces()
            guard let value = parseNonNegativeDecimal(number) else { return nil }
            return self.wholeBytes(value * unit.bytes)
        }
        guard let value = parseNonNegativeDecimal(trimmed), !trimmed.contains(".") else { return nil }
        return self.wholeBytes(value)
    }

    /// Parses `16KiB/s`, `1MB/s`, `500/s`: a size per second.
    public static func parseRate(_ text: String) -> Int64? {
        let trimmed = text.trimmingSpaces()
        guard trimmed.hasSuffix("/s") else { return nil }
        return self.parse(String(trimmed.dropLast(2)))
    }

    /// Prints a size with the largest binary unit that divides it (`16KiB`, `10MiB`, `1234B`).
    public static func format(_ bytes: Int64) -> String {
        for (suffix, size) in [("GiB", Int64(1) << 30), ("MiB", Int64(1) << 20), ("KiB", Int64(1) << 10)]
        where bytes >= size && bytes % size == 0 {
            return "\(bytes / size)\(suffix)"
        }
        return "\(bytes)B"
    }

    private static func wholeBytes(_ value: Double) -> Int64? {
        guard value.isFinite, value < Double(Int64.max) else { return nil }
        return Int64(value.rounded(.down))
    }
}
