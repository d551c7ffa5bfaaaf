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
        (self.base + self.count).update(from: source, count: bytes.count)
        self.count += bytes.count
    }

    /// Appends JSON syntax or text known not to need escaping.
    @inline(__always)
    mutating func raw(_ text: StaticString) {
        self.append(UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// Appends text known not to need escaping (a number's digits).
    mutating func raw(_ text: String) {
        var text = text
        text.withUTF8 { self.append($0) }
    }

    /// Appends `text` as a JSON string literal, quotes included: `"`, `\` and control characters escaped, everything
    /// else as it is (the same text as `JSONString.append`).
    mutating func string(_ text: String) {
        self.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { utf8 in
            var plain = true
            for byte in utf8 where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                plain = false
                break
            }
            if plain {
                self.append(utf8)
            } else {
                for byte in utf8 { self.append(escaping: byte) }
            }
        }
        self.append(UInt8(ascii: "\""))
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
