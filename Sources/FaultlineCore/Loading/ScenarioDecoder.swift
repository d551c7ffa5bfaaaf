import Foundation
import Yams

/// Turns one scenario file's YAML tree into the model, collecting every problem rather than stopping at the first.
struct ScenarioDecoder {
    /// One key of a mapping with its value.
    struct Entry {
        let key: String
        let keyNode: Node
        let value: Node
    }

    /// The file name used in messages.
    let file: String
    /// Which files the scenario may name, and the folder its relative paths start from.
    let files: FileScope
    private(set) var diagnostics: [Diagnostic] = []
    /// Mappings merged in with `<<` so far: aliases can make a short file merge exponentially many.
    private var mergedMappings = 0
    /// The most merges a file may ask for.
    static let maxMergedMappings = 10_000

    init(file: String, files: FileScope) {
        self.file = file
        self.files = files
    }

    // MARK: - Reporting

    func location(of node: Node) -> SourceLocation {
        SourceLocation(file: self.file, line: node.mark?.line ?? 1, column: node.mark?.column ?? 1)
    }

    mutating func error(_ message: String, at node: Node) {
        self.diagnostics.append(Diagnostic(message, at: self.location(of: node)))
    }

    mutating func error(_ message: String, at location: SourceLocation) {
        self.diagnostics.append(Diagnostic(message, at: location))
    }

    // MARK: - Mappings

    /// The entries of a mapping, with YAML merge keys (`<<: *anchor`) applied; reports a node that is not a mapping
    /// and every key `keys` does not allow.
    mutating func entries(of node: Node, _ keys: KeySet) -> [Entry]? {
        guard case .mapping(let mapping) = node else {
            self.error("Expected \(keys.place) as a mapping of keys to values, found \(self.describe(node)).", at: node)
            return nil
        }
        var result: [Entry] = []
        var merged: [Entry] = []
        for (keyNode, value) in mapping {
            guard case .scalar(let keyScalar) = keyNode else {
                self.error("Keys in \(keys.place) must be plain names, found \(self.describe(keyNode)).", at: keyNode)
                continue
            }
            let key = keyScalar.string
            if key == "<<" {
                // With several sources, the first one that has a key wins (YAML's merge key type).
                let sources: [Node] = value.sequence.map(Array.init) ?? [value]
                for source in sources {
                    self.mergedMappings += 1
                    guard self.mergedMappings <= Self.maxMergedMappings else {
                        if self.mergedMappings == Self.maxMergedMappings + 1 {
                            self.error(
                                "This file merges more than \(Self.maxMergedMappings) mappings with '<<' (aliases that merge "
                                    + "aliases multiply); write the keys out instead.",
                                at: value
                            )
                        }
                        continue
                    }
                    for entry in self.entries(of: source, keys) ?? []
                    where !merged.contains(where: { $0.key == entry.key }) {
                        merged.append(entry)
                    }
                }
                continue
            }
            if keys.notYetSupported.contains(key) {
                self.error(
                    "'\(key)' in \(keys.place) is not supported yet in this version of Faultline "
                        + "(the README lists what is not implemented yet).",
                    at: keyNode
                )
                continue
            }
            guard keys.supported.contains(key) else {
                var message = "Unknown key '\(key)' in \(keys.place)"
                if let suggestion = KeySuggester.suggestion(for: key, among: keys.all) {
                    message += "; did you mean '\(suggestion)'?"
                } else {
                    message += "; expected one of: \(keys.supported.joined(separator: ", "))."
                }
                self.error(message, at: keyNode)
                continue
            }
            result.append(Entry(key: key, keyNode: keyNode, value: value))
        }
        // Keys written out beside a merge win over the merged ones, as YAML's merge key specifies.
        let explicit = Set(result.map(\.key))
        return merged.filter { !explicit.contains($0.key) } + result
    }

    // MARK: - Scalars

    /// A short description of what a node is, for "found ..." in messages.
    func describe(_ node: Node) -> String {
        switch node {
        case .scalar(let scalar):
            let text = scalar.string
            if text.isEmpty && (scalar.style == .plain || scalar.style == .any) { return "nothing" }
            return text.count > 40 ? "'\(text.prefix(40))...'" : "'\(text)'"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }

    mutating func scalar(_ node: Node, expected: String) -> String? {
        guard case .scalar(let scalar) = node else {
            self.error("Expected \(expected), found \(self.describe(node)).", at: node)
            return nil
        }
        return scalar.string
    }

    mutating func string(_ node: Node, expected: String = "a string") -> String? {
        guard let text = self.scalar(node, expected: expected) else { return nil }
        if text.isEmpty, case .scalar(let scalar) = node, scalar.style == .plain {
            self.error("Expected \(expected), found nothing.", at: node)
            return nil
        }
        return text
    }

    mutating func integer(_ node: Node, in range: ClosedRange<Int>, expected: String) -> Int? {
        guard let text = self.scalar(node, expected: expected) else { return nil }
        guard let value = Int(text.trimmingSpaces()), range.contains(value) else {
            self.error("Expected \(expected), found \(self.describe(node)).", at: node)
            return nil
        }
        return value
    }

    mutating func number(_ node: Node, in range: ClosedRange<Double>, expected: String) -> Double? {
        guard let text = self.scalar(node, expected: expected) else { return nil }
        guard let value = Double(text.trimmingSpaces()), value.isFinite, range.contains(value) else {
            self.error("Expected \(expected), found \(self.describe(node)).", at: node)
            return nil
        }
        return value
    }

    mutating func bool(_ node: Node, expected: String = "true or false") -> Bool? {
        guard let text = self.scalar(node, expected: expected) else { return nil }
        switch text {
        case "true", "True", "TRUE": return true
        case "false", "False", "FALSE": return false
        default:
            self.error("Expected \(expected), found \(self.describe(node)).", at: node)
            return nil
        }
    }

    mutating func duration(_ node: Node, what: String) -> Duration? {
        let expected = "\(what) as a duration with a unit, such as 500ms, 2s or 1m"
        guard let text = self.scalar(node, expected: expected) else { return nil }
        guard let duration = DurationSyntax.parse(text) else {
            self.error("Expected \(expected), found \(self.describe(node)).", at: node)
            return nil
        }
        return duration
    }

    mutating func size(_ node: Node, what: String) -> Int64? {
        let expected = "\(what) as a size, such as 512, 16KiB or 10MiB"
        guard let text = self.scalar(node, expected: expected) else { return nil }
        guard let size = ByteCount.parse(text) else {
            self.error("Expected \(expected), found \(self.describe(node)).", at: node)
            return nil
        }
        return size
    }

    /// A string or a list of strings.
    mutating func stringList(_ node: Node, expected: String) -> [(String, Node)]? {
        if case .sequence(let sequence) = node {
            if sequence.isEmpty {
                self.error("Expected \(expected), found an empty list.", at: node)
                return nil
            }
            var values: [(String, Node)] = []
            for element in sequence {
                if let value = self.string(element, expected: expected) { values.append((value, element)) }
            }
            return values
        }
        return self.string(node, expected: expected).map { [($0, node)] }
    }

    /// A mapping of header names to values; a list value sends the field once per element.
    mutating func headerFields(_ node: Node, place: String) -> [(name: String, value: String, node: Node)]? {
        guard case .mapping(let mapping) = node else {
            self.error(
                "Expected \(place) as a mapping of header names to values, found \(self.describe(node)).",
                at: node
            )
            return nil
        }
        var fields: [(name: String, value: String, node: Node)] = []
        var pairs: [(Node, Node)] = []
        for (keyNode, value) in mapping {
            if keyNode.string == "<<" {
                // A merge key: headers shared through an anchor, such as `headers: {<<: *common, X-Extra: 1}`.
                for source in value.sequence.map(Array.init) ?? [value] {
                    guard case .mapping(let shared) = source else {
                        self.error(
                            "A merge key in \(place) takes a mapping of headers, found \(self.describe(source)).",
                            at: source
                        )
                        continue
                    }
                    pairs += shared.map { ($0.key, $0.value) }
                }
            } else {
                pairs.append((keyNode, value))
            }
        }
        for (keyNode, value) in pairs {
            guard let name = self.string(keyNode, expected: "a header name") else { continue }
            guard HTTPSyntax.isToken(name) else {
                self.error("'\(name)' is not a valid header name; use letters, digits and - only.", at: keyNode)
                continue
            }
            let elements: [Node] = value.sequence.map(Array.init) ?? [value]
            for element in elements {
                guard let text = self.scalar(element, expected: "a header value") else { continue }
                guard HTTPSyntax.isFieldValue(text) else {
                    self.error(
                        "The value of header '\(name)' contains a line break or a control character.",
                        at: element
                    )
                    continue
                }
                fields.append((name, text, element))
            }
        }
        return fields
    }
}
