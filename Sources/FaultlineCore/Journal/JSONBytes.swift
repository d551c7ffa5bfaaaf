/// JSON text built as UTF-8 bytes: the journal's `--journal` line is made for every request, and appending bytes to a
/// buffer of its own (strings copied whole when they need no escape) costs a fraction of building a `String` piece by
/// piece, or of an array's checks on every append.
struct JSONBytes: ~Copyable {
    private var base: UnsafeMutablePointer<UInt8>
    private var count = 0
    private var capacity: Int

    init(capacity: Int) {
        self.capacity = Swift.max(16, capacity)
        self.base = UnsafeMutablePointer<UInt8>.allocate(capacity: self.capacity)
    }

    deinit {
        self.base.deallocate()
    }

    /// The bytes written.
    var bytes: [UInt8] {
        Array(UnsafeBufferPointer(start: self.base, count: self.count))
    }

    /// Makes room for `more` bytes.
    @inline(__always)
    private mutating func reserve(_ more: Int) {
        guard self.count + more > self.capacity else { return }
        let capacity = Swift.max(self.capacity * 2, self.count + more)
        let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        grown.update(from: self.base, count: self.count)
        self.base.deallocate()
        self.base = grown
        self.capacity = capacity
    }

    @inline(__always)
    private mutating func append(_ byte: UInt8) {
        self.reserve(1)
        self.base[self.count] = byte
        self.count += 1
    }

    @inline(__always)
    private mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
        self.reserve(bytes.count)
        let target = self.base + self.count
        if bytes.count <= 16 {
            // Most pieces are a key or a short value: copied in place, cheaper than a call to memmove.
            for index in 0..<bytes.count { target[index] = source[index] }
        } else {
            target.update(from: source, count: bytes.count)
        }
        self.count += bytes.count
    }

    /// Appends JSON syntax or text known not to need escaping.
    @inline(__always)
    mutating func raw(_ text: StaticString) {
        self.append(UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// Appends text known not to need escaping (a number's digits).
    mutating func raw(_ text: String) {
        if text.utf8.withContiguousStorageIfAvailable({ self.append($0) }) == nil {
            for byte in text.utf8 { self.append(byte) }
        }
    }

    /// Appends `text` as a JSON string literal, quotes included: `"`, `\` and control characters escaped, everything
    /// else as it is (the same text as `JSONString.append`).
    mutating func string(_ text: String) {
        self.append(UInt8(ascii: "\""))
        let copied: Void? = text.utf8.withContiguousStorageIfAvailable { utf8 in
            if Self.needsNoEscape(utf8) {
                self.append(utf8)
            } else {
                for byte in utf8 { self.append(escaping: byte) }
            }
        }
        if copied == nil {
            for byte in text.utf8 { self.append(escaping: byte) }
        }
        self.append(UInt8(ascii: "\""))
    }

    /// Whether no byte is a control character, `"` or `\`: eight bytes at a time (the high bit of each byte of
    /// `found` is set where one of them is), then the rest one by one.
    static func needsNoEscape(_ utf8: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let start = utf8.baseAddress else { return true }
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        var index = 0
        while index + 8 <= utf8.count {
            let word = UnsafeRawPointer(start + index).loadUnaligned(as: UInt64.self)
            // A byte below 0x20 (bytes of 0x80 and above, UTF-8's, are let through by `& ~word`).
            let control = (word &- ones &* 0x20) & ~word & highs
            // A byte equal to `"` or `\`: zero after the XOR.
            let quote = word ^ (ones &* 0x22)
            let backslash = word ^ (ones &* 0x5C)
            let equal = ((quote &- ones) & ~quote | (backslash &- ones) & ~backslash) & highs
            if control | equal != 0 { return false }
            index += 8
        }
        while index < utf8.count {
            let byte = start[index]
            if byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { return false }
            index += 1
        }
        return true
    }

    /// Appends `text` as a string literal, or `null`.
    mutating func optional(_ text: String?) {
        if let text { self.string(text) } else { self.raw("null") }
    }

    /// Appends an integer's decimal digits.
    mutating func int<Value: BinaryInteger>(_ value: Value) {
        if value < 0 { self.append(UInt8(ascii: "-")) }
        var magnitude = UInt64(value.magnitude)
        var digits = 0
        var rest = magnitude
        repeat {
            digits += 1
            rest /= 10
        } while rest > 0
        self.reserve(digits)
        // Written from the last digit back.
        var index = self.count + digits
        repeat {
            index -= 1
            self.base[index] = UInt8(ascii: "0") + UInt8(magnitude % 10)
            magnitude /= 10
        } while magnitude > 0
        self.count += digits
    }

    /// Appends an integer of at least `width` digits, zeros in front.
    mutating func int(_ value: Int64, width: Int) {
        var digits = 1
        var rest = value.magnitude
        while rest >= 10 {
            rest /= 10
            digits += 1
        }
        if value >= 0 {
            for _ in digits..<Swift.max(digits, width) { self.append(UInt8(ascii: "0")) }
        }
        self.int(value)
    }

    private mutating func append(escaping byte: UInt8) {
        switch byte {
        case UInt8(ascii: "\""): self.raw("\\\"")
        case UInt8(ascii: "\\"): self.raw("\\\\")
        case UInt8(ascii: "\n"): self.raw("\\n")
        case UInt8(ascii: "\r"): self.raw("\\r")
        case UInt8(ascii: "\t"): self.raw("\\t")
        case ..<0x20:
            let hex: StaticString = "0123456789abcdef"
            self.raw("\\u00")
            self.append(hex.utf8Start[Int(byte >> 4)])
            self.append(hex.utf8Start[Int(byte & 0xF)])
        default:
            self.append(byte)
        }
    }
}
