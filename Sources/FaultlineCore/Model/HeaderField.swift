/// One HTTP header field: a name, kept as written, and a value.
public struct HeaderField: Sendable, Hashable, CustomStringConvertible {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }

    public var description: String { "\(self.name): \(self.value)" }
}

/// One query parameter of a request target, percent-decoded.
public struct QueryItem: Sendable, Hashable {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

extension Array where Element == HeaderField {
    /// The value of the first field called `name`, compared case-insensitively.
    public func first(named name: String) -> String? {
        self.first { $0.name.equalsIgnoringASCIICase(name) }?.value
    }

    /// Every value of fields called `name`, compared case-insensitively, in order.
    public func values(named name: String) -> [String] {
        self.filter { $0.name.equalsIgnoringASCIICase(name) }.map(\.value)
    }

    /// Whether a field called `name` is present.
    public func contains(named name: String) -> Bool {
        self.contains { $0.name.equalsIgnoringASCIICase(name) }
    }
}

extension String {
    /// Compares two strings, ignoring the case of ASCII letters, as HTTP does for field names.
    public func equalsIgnoringASCIICase(_ other: String) -> Bool {
        let lhs = self.utf8
        let rhs = other.utf8
        guard lhs.count == rhs.count else { return false }
        for (a, b) in zip(lhs, rhs) where a != b {
            guard a | 0x20 == b | 0x20, (a | 0x20) >= UInt8(ascii: "a"), (a | 0x20) <= UInt8(ascii: "z") else {
                return false
            }
        }
        return true
    }
}
