/// A string from a scenario that may insert values from the request: `{name}` is a capture of the rule's `path`
/// (a `{name}` segment) or `pathRegex` (a named group), `{query.NAME}` a query parameter. `{name-1}` and `{name+1}`
/// do integer arithmetic; `{query.NAME:DEFAULT}` gives a value for a missing parameter.
///
/// Braces that do not form a placeholder naming a known variable are literal text, so a JSON `body` such as
/// `{"ok": true}` needs no escaping.
public struct TemplateString: Sendable, Hashable {
    /// One piece of a template.
    public enum Part: Sendable, Hashable {
        case literal(String)
        case variable(TemplateVariable)
    }

    /// The pieces in order.
    public let parts: [Part]

    /// Whether the string inserts anything from the request.
    public var isTemplate: Bool {
        self.parts.contains { if case .variable = $0 { true } else { false } }
    }

    /// The text when the string is not a template.
    public var literalText: String? {
        guard !self.isTemplate else { return nil }
        return self.parts.map { if case .literal(let text) = $0 { text } else { "" } }.joined()
    }

    /// A string with no placeholders.
    public init(literal: String) {
        self.parts = literal.isEmpty ? [] : [.literal(literal)]
    }

    /// Parses `text`, treating `{...}` as a placeholder only when it names one of `captures` or `query.NAME`.
    public init(parsing text: String, captures: Set<String>) {
        var parts: [Part] = []
        var literal = ""
        var index = text.startIndex
        while index < text.endIndex {
            if text[index] == "{",
                let close = text[index...].firstIndex(of: "}"),
                let variable = TemplateVariable(text[text.index(after: index)..<close], captures: captures)
            {
                if !literal.isEmpty {
                    parts.append(.literal(literal))
                    literal = ""
                }
                parts.append(.variable(variable))
                index = text.index(after: close)
            } else {
                literal.append(text[index])
                index = text.index(after: index)
            }
        }
        if !literal.isEmpty { parts.append(.literal(literal)) }
        self.parts = parts
    }

    /// Fills in the placeholders from `context`.
    ///
    /// - Throws: `TemplateError` when a variable is missing or its arithmetic does not apply.
    public func render(in context: TemplateContext) throws(TemplateError) -> String {
        var result = ""
        for part in self.parts {
            switch part {
            case .literal(let text): result += text
            case .variable(let variable): result += try variable.value(in: context)
            }
        }
        return result
    }
}

/// A placeholder in a `TemplateString`.
public struct TemplateVariable: Sendable, Hashable {
    /// Where the value comes from.
    public enum Source: Sendable, Hashable {
        case capture(String)
        case query(String)
    }

    public let source: Source
    /// An integer added to the value (`{n-1}` is -1).
    public let offset: Int?
    /// The value used when a query parameter is missing.
    public let defaultValue: String?

    init?(_ text: Substring, captures: Set<String>) {
        var body = text
        var defaultValue: String?
        if let colon = body.firstIndex(of: ":") {
            defaultValue = String(body[body.index(after: colon)...])
            body = body[..<colon]
        }
        var offset: Int?
        if let sign = body.lastIndex(where: { $0 == "+" || $0 == "-" }),
            let amount = Int(body[body.index(after: sign)...]), amount >= 0
        {
            offset = body[sign] == "-" ? -amount : amount
            body = body[..<sign]
        }
        let name = String(body)
        if name.hasPrefix("query."), name.count > 6 {
            self.source = .query(String(name.dropFirst(6)))
        } else if captures.contains(name), defaultValue == nil {
            self.source = .capture(name)
        } else {
            return nil
        }
        self.offset = offset
        self.defaultValue = defaultValue
    }

    func value(in context: TemplateContext) throws(TemplateError) -> String {
        let raw: String
        switch self.source {
        case .capture(let name):
            guard let value = context.captures[name] else { throw TemplateError(message: "The path has no '\(name)'.") }
            raw = value
        case .query(let name):
            if let value = context.query.first(where: { $0.name == name })?.value {
                raw = value
            } else if let defaultValue = self.defaultValue {
                raw = defaultValue
            } else {
                throw TemplateError(message: "The query parameter '\(name)' is missing.")
            }
        }
        guard let offset = self.offset else { return raw }
        guard let number = Int(raw) else {
            throw TemplateError(message: "'\(raw)' is not a whole number.")
        }
        let (result, overflow) = number.addingReportingOverflow(offset)
        guard !overflow else { throw TemplateError(message: "'\(raw)' is too large a number.") }
        return String(result)
    }
}

/// The values a template can insert: the rule's path captures and the request's query parameters.
public struct TemplateContext: Sendable {
    public var captures: [String: String]
    public var query: [QueryItem]

    public init(captures: [String: String] = [:], query: [QueryItem] = []) {
        self.captures = captures
        self.query = query
    }
}

/// Why a template could not be filled in for a request; the server answers such a request with 400.
public struct TemplateError: Error, Sendable, Equatable {
    /// A sentence for the person who sent the request.
    public let message: String
}

/// A scenario value that is either fixed when the scenario loads or a template filled in per request.
public enum Templated<Value: Sendable>: Sendable {
    case fixed(Value)
    case template(TemplateString)

    /// The fixed value, or `nil` for a template.
    public var fixedValue: Value? {
        if case .fixed(let value) = self { value } else { nil }
    }
}

extension Templated: Equatable where Value: Equatable {}
