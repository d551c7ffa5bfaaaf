import Foundation
import Yams

extension ScenarioDecoder {
    mutating func decodeRules(_ node: Node, defaultHeaders: [HeaderField]) -> [Rule] {
        guard case .sequence(let sequence) = node else {
            self.error("Expected 'rules' as a list of rules, found \(self.describe(node)).", at: node)
            return []
        }
        var rules: [Rule] = []
        for (index, element) in sequence.enumerated() {
            if var rule = self.decodeRule(element, index: index) {
                rule.defaultHeaders = defaultHeaders
                rules.append(rule)
            }
        }
        return rules
    }

    /// Decodes one rule; `index` is its place in this file (renumbered when files are merged).
    mutating func decodeRule(_ node: Node, index: Int) -> Rule? {
        guard let entries = self.entries(of: node, ScenarioKeys.rule) else { return nil }
        var rule = Rule(index: index, sourceLocation: self.location(of: node))
        let byKey = Dictionary(entries.map { ($0.key, $0) }, uniquingKeysWith: { _, last in last })

        if byKey["path"] != nil, let regexEntry = byKey["pathRegex"] {
            self.error("A rule takes 'path' or 'pathRegex', not both.", at: regexEntry.keyNode)
        }
        for entry in entries {
            switch entry.key {
            case "name":
                rule.name = self.string(entry.value, expected: "the rule's name as a string")
            case "method":
                rule.methods = self.decodeMethods(entry.value)
            case "path":
                if let path = self.string(entry.value, expected: "a path starting with /") {
                    if path.hasPrefix("/") {
                        rule.path = PathPattern(path: path)
                    } else {
                        self.error("Expected a path starting with /, found '\(path)'.", at: entry.value)
                    }
                }
            case "pathRegex":
                if let source = self.string(entry.value, expected: "a regular expression") {
                    do {
                        rule.path = .regex(try PathRegex(source))
                    } catch {
                        self.error("'\(source)' is not a valid regular expression.", at: entry.value)
                    }
                }
            case "match":
                self.decodeMatch(entry.value, into: &rule)
            case "probability":
                rule.probability = self.number(entry.value, in: 0...1, expected: "a probability from 0 to 1")
            case "times":
                rule.times = self.integer(entry.value, in: 1...Int.max, expected: "a number of times of at least 1")
            default:
                break
            }
        }

        let captures = rule.path?.captureNames ?? []
        let responseEntries = entries.filter { ScenarioKeys.response.contains($0.key) }
        if let sequenceEntry = byKey["sequence"] {
            for entry in responseEntries {
                self.error(
                    "'\(entry.key)' cannot stand beside 'sequence'; put it in each step of the sequence.",
                    at: entry.keyNode
                )
            }
            let cycle = byKey["cycle"].flatMap { self.bool($0.value) } ?? false
            let steps = self.decodeSequence(sequenceEntry.value, captures: captures)
            rule.response = .sequence(steps, cycle: cycle)
        } else {
            if let cycleEntry = byKey["cycle"] {
                self.error("'cycle' applies to a 'sequence'; this rule has none.", at: cycleEntry.keyNode)
            }
            rule.response = .single(self.decodeResponse(responseEntries, at: node, captures: captures))
        }
        return rule
    }

    mutating func decodeMethods(_ node: Node) -> [String]? {
        guard let values = self.stringList(node, expected: "a method such as GET, or a list of methods") else {
            return nil
        }
        var methods: [String] = []
        for (value, element) in values {
            let method = value.uppercased()
            guard HTTPSyntax.isToken(method) else {
                self.error("'\(value)' is not a valid HTTP method.", at: element)
                continue
            }
            methods.append(method)
        }
        return methods
    }

    mutating func decodeMatch(_ node: Node, into rule: inout Rule) {
        guard let entries = self.entries(of: node, ScenarioKeys.match) else { return }
        for entry in entries {
            switch entry.key {
            case "headers":
                for field in self.headerFields(entry.value, place: "request headers to match") ?? [] {
                    rule.headerConditions.append(HeaderField(field.name, field.value))
                }
            case "query":
                guard case .mapping(let mapping) = entry.value else {
                    self.error(
                        "Expected 'query' as a mapping of parameter names to values, found "
                            + "\(self.describe(entry.value)).",
                        at: entry.value
                    )
                    continue
                }
                for (keyNode, value) in mapping {
                    guard let name = self.string(keyNode, expected: "a query parameter name"),
                        let text = self.scalar(value, expected: "a query parameter value")
                    else { continue }
                    rule.queryConditions.append(QueryItem(name, text))
                }
            default:
                break
            }
        }
    }

    mutating func decodeSequence(_ node: Node, captures: Set<String>) -> [ResponseSpec] {
        guard case .sequence(let sequence) = node, !sequence.isEmpty else {
            self.error("Expected 'sequence' as a non-empty list of responses, found \(self.describe(node)).", at: node)
            return []
        }
        var steps: [ResponseSpec] = []
        for element in sequence {
            guard let entries = self.entries(of: element, ScenarioKeys.step) else { continue }
            var step = self.decodeResponse(
                entries.filter { $0.key != "times" },
                at: element,
                captures: captures
            )
            for entry in entries where entry.key == "times" {
                step.times = self.integer(entry.value, in: 1...Int.max, expected: "a number of times of at least 1")
            }
            steps.append(step)
        }
        return steps
    }
}
