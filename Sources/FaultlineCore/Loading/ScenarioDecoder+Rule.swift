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
        // The path comes first whatever its place in the mapping: templates in other keys name its captures.
        let isPath: (ScenarioDecoder.Entry) -> Bool = { $0.key == "path" || $0.key == "pathRegex" }
        for entry in entries.filter(isPath) + entries.filter({ !isPath($0) }) {
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
                rule.probability = self.decodeProbability(entry.value, captures: rule.path?.captureNames ?? [])
            case "seed":
                if let text = self.scalar(
                    entry.value,
                    expected: "a seed as a whole number, or a template such as {query.seed:}"
                ) {
                    let template = TemplateString(parsing: text, captures: rule.path?.captureNames ?? [])
                    if template.isTemplate || UInt64(text) != nil {
                        rule.requestSeed = template
                    } else {
                        self.error(
                            "Expected a seed as a whole number, or a template such as {query.seed:}, found \(self.describe(entry.value)).",
                            at: entry.value
                        )
                    }
                }
            case "after":
                if let entries = self.entries(of: entry.value, ScenarioKeys.after) {
                    if let requests = entries.first {
                        rule.skip = self.integer(
                            requests.value,
                            in: 0...Int.max,
                            expected: "a number of requests of at least 0"
                        )
                    } else {
                        self.error("'after' needs 'requests', such as {requests: 2}.", at: entry.value)
                    }
                }
            case "active":
                rule.active = self.decodeActive(entry.value)
            case "enabled":
                rule.enabled = self.bool(entry.value) ?? true
            case "times":
                rule.times = self.integer(entry.value, in: 1...Int.max, expected: "a number of times of at least 1")
            case "produces":
                rule.produces = self.decodeMediaTypes(entry.value)
            case "consumes":
                rule.consumes = self.decodeMediaTypes(entry.value)
            case "requireContentLength":
                rule.requireContentLength = self.bool(entry.value) ?? false
            case "auth":
                rule.auth = self.decodeAuth(entry.value, captures: rule.path?.captureNames ?? [])
            case "rateLimit":
                rule.rateLimit = self.decodeRateLimit(entry.value)
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

    mutating func decodeProbability(_ node: Node, captures: Set<String>) -> Templated<Double>? {
        let expected = "a probability from 0 to 1"
        guard let text = self.scalar(node, expected: expected) else { return nil }
        if let value = Double(text.trimmingSpaces()), value.isFinite {
            guard (0...1).contains(value) else {
                self.error("Expected \(expected), found \(self.describe(node)).", at: node)
                return nil
            }
            return .fixed(value)
        }
        let template = TemplateString(parsing: text, captures: captures)
        guard template.isTemplate else {
            self.error("Expected \(expected), found \(self.describe(node)).", at: node)
            return nil
        }
        return .template(template)
    }

    mutating func decodeActive(_ node: Node) -> ActiveWindow? {
        guard let entries = self.entries(of: node, ScenarioKeys.active) else { return nil }
        var window = ActiveWindow(after: .zero, length: nil)
        for entry in entries {
            if entry.key == "after" {
                window.after = self.duration(entry.value, what: "when the window opens") ?? .zero
            } else if let length = self.duration(entry.value, what: "how long the window stays open") {
                if length > .zero {
                    window.length = length
                } else {
                    self.error("An active window must last longer than zero.", at: entry.value)
                }
            }
        }
        if entries.isEmpty {
            self.error("'active' needs 'after', 'for' or both, such as {after: 10s, for: 30s}.", at: node)
        }
        return window
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
            guard HTTPSyntax.receivableMethods.contains(method) else {
                self.error(
                    "Faultline cannot receive the method \(method): its HTTP parser answers such requests with 501 "
                        + "before any rule sees them.",
                    at: element
                )
                continue
            }
            methods.append(method)
        }
        return methods
    }

    mutating func decodeMediaTypes(_ node: Node) -> [String]? {
        guard let values = self.stringList(node, expected: "a media type such as application/json, or a list of them")
        else { return nil }
        var types: [String] = []
        for (value, element) in values {
            guard let range = MediaRange(value), range.type != "*" || range.subtype == "*" else {
                self.error(
                    "'\(value)' is not a media type; expected TYPE/SUBTYPE such as application/json.",
                    at: element
                )
                continue
            }
            types.append(value)
        }
        return types
    }

    mutating func decodeAuth(_ node: Node, captures: Set<String>) -> AuthSpec? {
        guard let entries = self.entries(of: node, ScenarioKeys.auth) else { return nil }
        var scheme: AuthSpec.Scheme?
        var proxy = false
        var realm = "faultline"
        for entry in entries {
            switch entry.key {
            case "basic":
                guard let text = self.string(entry.value, expected: "credentials as user:password") else { continue }
                let template = TemplateString(parsing: text, captures: captures)
                if !template.isTemplate, !text.contains(":") {
                    self.error("Expected Basic credentials as user:password, found '\(text)'.", at: entry.value)
                    continue
                }
                if scheme != nil {
                    self.error("An auth takes 'basic' or 'bearer', not both.", at: entry.keyNode)
                }
                scheme = .basic(template)
            case "bearer":
                guard let text = self.string(entry.value, expected: "a bearer token") else { continue }
                if scheme != nil {
                    self.error("An auth takes 'basic' or 'bearer', not both.", at: entry.keyNode)
                }
                scheme = .bearer(TemplateString(parsing: text, captures: captures))
            case "proxy":
                proxy = self.bool(entry.value) ?? false
            case "realm":
                guard let text = self.string(entry.value, expected: "a realm name") else { continue }
                if text.contains("\"") || !HTTPSyntax.isFieldValue(text) {
                    self.error("A realm cannot contain quotes, line breaks or control characters.", at: entry.value)
                } else {
                    realm = text
                }
            default:
                break
            }
        }
        guard let scheme else {
            if !entries.contains(where: { $0.key == "basic" || $0.key == "bearer" }) {
                self.error("An auth needs 'basic: \"user:password\"' or 'bearer: TOKEN'.", at: node)
            }
            return nil
        }
        return AuthSpec(scheme: scheme, proxy: proxy, realm: realm)
    }

    mutating func decodeRateLimit(_ node: Node) -> RateLimit? {
        guard let entries = self.entries(of: node, ScenarioKeys.rateLimit) else { return nil }
        var requests: Int?
        var per: Duration?
        for entry in entries {
            if entry.key == "requests" {
                requests = self.integer(entry.value, in: 1...Int.max, expected: "a number of requests of at least 1")
            } else {
                per = self.duration(entry.value, what: "the rate limit's window")
                if let window = per, window <= .zero {
                    self.error("The rate limit's window must be longer than zero.", at: entry.value)
                    per = nil
                }
            }
        }
        let given = Set(entries.map(\.key))
        guard given.count == 2 else {
            self.error("A rate limit needs both 'requests' and 'per', such as {requests: 10, per: 1s}.", at: node)
            return nil
        }
        guard let requests, let per else { return nil }
        return RateLimit(requests: requests, per: per)
    }

    mutating func decodeMatch(_ node: Node, into rule: inout Rule) {
        guard let entries = self.entries(of: node, ScenarioKeys.match) else { return }
        for entry in entries {
            switch entry.key {
            case "headers":
                for field in self.headerFields(entry.value, place: "request headers to match") ?? [] {
                    rule.headerConditions.append(HeaderField(field.name, field.value))
                }
            case "clientCert":
                if let subject = self.string(entry.value, expected: "a certificate subject such as CN=client") {
                    if SubjectMatch.parse(subject) == nil {
                        self.error(
                            "Expected a certificate subject such as CN=client or CN=client,O=acme, found '\(subject)'.",
                            at: entry.value
                        )
                    } else {
                        rule.clientCertCondition = subject
                    }
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
