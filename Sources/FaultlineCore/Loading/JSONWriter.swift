import Yams

/// Renders a YAML node as JSON text, keeping the order of mapping keys. Plain scalars are typed by YAML 1.2's core
/// schema (`true`, `null`, `12`, `1.5`); quoted scalars are always strings, so `"yes"` stays a string.
enum JSONWriter {
    /// Why a node has no JSON form.
    struct Failure: Error {
        let message: String
        let mark: Mark?
    }

    /// The most values a JSON body in a scenario may spell out: aliases inside aliases could otherwise ask for
    /// billions from a few lines. A body that large belongs in a `bodyFile`.
    static let maxValues = 100_000

    static func render(_ node: Node) throws(Failure) -> String {
        var output = ""
        var budget = self.maxValues
        try self.write(node, into: &output, budget: &budget)
        return output
    }

    private static func write(_ node: Node, into output: inout String, budget: inout Int) throws(Failure) {
        budget -= 1
        guard budget >= 0 else {
            throw Failure(
                message: "This json body has more than 100,000 values (YAML aliases repeat what they name); "
                    + "use bodyFile for a large body.",
                mark: node.mark
            )
        }
        switch node {
        case .scalar(let scalar):
            output += self.scalarJSON(scalar)
        case .sequence(let sequence):
            output += "["
            for (index, element) in sequence.enumerated() {
                if index > 0 { output += "," }
                try self.write(element, into: &output, budget: &budget)
            }
            output += "]"
        case .mapping(let mapping):
            output += "{"
            for (index, pair) in mapping.enumerated() {
                guard case .scalar(let key) = pair.key else {
                    throw Failure(
                        message: "JSON object keys must be strings, not a list or a mapping.",
                        mark: pair.key.mark
                    )
                }
                if index > 0 { output += "," }
                output += self.quoted(key.string)
                output += ":"
                try self.write(pair.value, into: &output, budget: &budget)
            }
            output += "}"
        case .alias:
            throw Failure(message: "A YAML alias cannot be rendered as JSON here.", mark: node.mark)
        }
    }

    private static func scalarJSON(_ scalar: Node.Scalar) -> String {
        let text = scalar.string
        guard scalar.style == .plain || scalar.style == .any else { return self.quoted(text) }
        switch text {
        case "true", "True", "TRUE": return "true"
        case "false", "False", "FALSE": return "false"
        case "null", "Null", "NULL", "~", "": return "null"
        default: break
        }
        if let integer = Int(text) { return String(integer) }
        if self.looksLikeNumber(text), let number = Double(text), number.isFinite {
            return text.hasPrefix("+") ? String(text.dropFirst()) : text
        }
        return self.quoted(text)
    }

    /// YAML 1.2 core schema floats, restricted to what JSON can spell: `-1.5`, `2e3`, `0.25`.
    private static func looksLikeNumber(_ text: String) -> Bool {
        var rest = Substring(text)
        if rest.first == "-" || rest.first == "+" { rest = rest.dropFirst() }
        guard let first = rest.first, first.isASCII, first.isNumber else { return false }
        guard !(rest.count > 1 && first == "0" && rest.dropFirst().first?.isNumber == true) else { return false }
        return rest.allSatisfy {
            $0.isASCII && ($0.isNumber || $0 == "." || $0 == "e" || $0 == "E" || $0 == "-" || $0 == "+")
        }
            && (rest.last?.isNumber ?? false)
    }

    /// A JSON string literal.
    static func quoted(_ text: String) -> String {
        JSONString.quoted(text)
    }
}

/// JSON string literals, for the control API and the reports.
public enum JSONString {
    /// `text` as a JSON string literal, quotes included.
    public static func quoted(_ text: String) -> String {
        var output = ""
        self.append(text, to: &output)
        return output
    }

    /// Appends `text` as a JSON string literal, quotes included, to `output`: the journal's escaper (`JSONBytes`),
    /// so every JSON Faultline writes escapes alike.
    public static func append(_ text: String, to output: inout String) {
        var bytes = JSONBytes(capacity: text.utf8.count + 2)
        bytes.string(text)
        output += String(decoding: bytes.bytes, as: UTF8.self)
    }
}
