/// JSON text built as UTF-8 bytes: the journal's `--journal` line is made for every request, and appending bytes
/// (strings copied whole when they need no escape) costs a fraction of building a `String` piece by piece.
struct JSONBytes {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int) {
        self.bytes.reserveCapacity(capacity)
    }

    /// Appends JSON syntax or text known not to need escaping.
    mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { self.bytes.append(contentsOf: $0) }
    }

    /// Appends text known not to need escaping (a number's digits).
    mutating func raw(_ text: String) {
        self.bytes.append(contentsOf: text.utf8)
    }

    /// Appends `text` as a JSON string literal, quotes included: `"`, `\` and control characters escaped, everything
    /// else as it is (the same text as `JSONString.append`).
    mutating func string(_ text: String) {
        self.bytes.append(UInt8(ascii: "\""))
        let copied: Void? = text.utf8.withContiguousStorageIfAvailable { utf8 in
            if !utf8.contains(where: Self.needsEscape) {
                self.bytes.append(contentsOf: utf8)
            } else {
                for byte in utf8 { self.append(escaping: byte) }
            }
        }
        if copied == nil {
            for byte in text.utf8 { self.append(escaping: byte) }
        }
        self.bytes.append(UInt8(ascii: "\""))
    }

    /// Appends `text` as a string literal, or `null`.
    mutating func optional(_ text: String?) {
        if let text { self.string(text) } else { self.raw("null") }
    }

    /// Appends an integer's decimal digits.
    mutating func int<Value: BinaryInteger>(_ value: Value) {
        guard value != 0 else {
            self.bytes.append(UInt8(ascii: "0"))
            return
        }
        if value < 0 { self.bytes.append(UInt8(ascii: "-")) }
        let start = self.bytes.count
        var rest = value.magnitude
        while rest > 0 {
            self.bytes.append(UInt8(ascii: "0") + UInt8(rest % 10))
            rest /= 10
        }
        self.bytes[start...].reverse()
    }

    /// Appends an integer of at least `width` digits, zeros in front.
    mutating func int(_ value: Int64, width: Int) {
        var digits = 1
        var rest = value.magnitude
        while rest >= 10 {
            rest /= 10
            digits += 1
        }
        if value >= 0, digits < width {
            self.bytes.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: width - digits))
        }
        self.int(value)
    }

    private static func needsEscape(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\")
    }

    private mutating func append(escaping byte: UInt8) {
        switch byte {
        case UInt8(ascii: "\""): self.raw("\\\"")
        case UInt8(ascii: "\\"): self.raw("\\\\")
        case UInt8(ascii: "\n"): self.raw("\\n")
        case UInt8(ascii: "\r"): self.raw("\\r")
        case UInt8(ascii: "\t"): self.raw("\\t")
        case ..<0x20:
            let hex: [UInt8] = Array("0123456789abcdef".utf8)
            self.raw("\\u00")
            self.bytes.append(hex[Int(byte >> 4)])
            self.bytes.append(hex[Int(byte & 0xF)])
        default:
            self.bytes.append(byte)
        }
    }
}
