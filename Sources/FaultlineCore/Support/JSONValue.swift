/// A JSON value, written out by one writer: every JSON text Faultline sends (the control API's answers, the
/// expectations' verdict) is built from these, never by interpolating strings, so no name, path or message can
/// break the text.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case uint(UInt64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    /// An object whose keys keep the order given.
    case object([(String, JSONValue)])

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        lhs.text == rhs.text
    }

    /// The value as compact JSON text.
    public var text: String {
        var output = ""
        self.write(into: &output)
        return output
    }

    /// Appends the value as compact JSON text to `output`.
    public func write(into output: inout String) {
        switch self {
        case .null:
            output += "null"
        case .bool(let value):
            output += value ? "true" : "false"
        case .int(let value):
            output += String(value)
        case .uint(let value):
            output += String(value)
        case .double(let value):
            // JSON has no NaN or infinity.
            output += value.isFinite ? String(value) : "null"
        case .string(let value):
            JSONString.append(value, to: &output)
        case .array(let values):
            output += "["
            for (index, value) in values.enumerated() {
                if index > 0 { output += "," }
                value.write(into: &output)
            }
            output += "]"
        case .object(let members):
            output += "{"
            for (index, (key, value)) in members.enumerated() {
                if index > 0 { output += "," }
                JSONString.append(key, to: &output)
                output += ":"
                value.write(into: &output)
            }
            output += "}"
        }
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}
