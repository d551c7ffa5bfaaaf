/// Checks a request against one rule's conditions: method, path, headers, query, `consumes` and `produces`.
enum RequestMatcher {
    /// One condition a request fails, with what a person needs to see why.
    enum Miss: Equatable {
        case method(sent: String, expected: [String])
        case path(sent: String, pattern: PathPattern)
        /// The rule's `pathRegex` ran out of its budget on this path.
        case regexGaveUp(sent: String, pattern: PathPattern)
        case header(name: String, expected: String, sent: [String])
        case query(name: String, expected: String, sent: [String])
        case contentType(sent: String?, expected: [String])
        case accept(sent: [String], offered: [String])
        case clientCertificate(sent: String?, expected: String)

        static func == (lhs: Miss, rhs: Miss) -> Bool { lhs.description == rhs.description }

        /// A phrase for the 404's explanation.
        var description: String {
            switch self {
            case .method(let sent, let expected):
                return "the method \(sent) is not \(expected.joined(separator: " or "))"
            case .path(let sent, let pattern):
                let kind = if case .regex = pattern { "the path regex" } else { "the path" }
                return "the path \(sent) does not match \(kind) \(pattern.source)"
            case .regexGaveUp(_, let pattern):
                return
                    "the path regex \(pattern.source) gave up on this path after \(PathRegex.progressBudget * 10_000) steps"
            case .header(let name, let expected, let sent):
                if sent.isEmpty { return "the header \(name) is missing (expected \"\(expected)\")" }
                return "the header \(name) is \(sent.map { "\"\($0)\"" }.joined(separator: ", ")), not \"\(expected)\""
            case .query(let name, let expected, let sent):
                if sent.isEmpty { return "the query parameter \(name) is missing (expected \"\(expected)\")" }
                return
                    "the query parameter \(name) is \(sent.map { "\"\($0)\"" }.joined(separator: ", ")), not \"\(expected)\""
            case .contentType(let sent, let expected):
                return "the Content-Type \(sent ?? "(none)") is not \(expected.joined(separator: " or "))"
            case .accept(let sent, let offered):
                return "the Accept \(sent.joined(separator: ", ")) takes none of \(offered.joined(separator: ", "))"
            case .clientCertificate(let sent, let expected):
                return sent.map { "the client certificate \($0) is not \(expected)" }
                    ?? "no client certificate was presented (expected \(expected))"
            }
        }

        var isMethod: Bool { if case .method = self { true } else { false } }
        var isPath: Bool {
            switch self {
            case .path, .regexGaveUp: true
            default: false
            }
        }
        var isContentType: Bool { if case .contentType = self { true } else { false } }
        var isAccept: Bool { if case .accept = self { true } else { false } }
    }

    /// Whether the rule takes `method`; a rule that takes GET takes HEAD too, as RFC 9110 asks of servers.
    static func takes(_ rule: Rule, method: String) -> Bool {
        guard let methods = rule.methods else { return true }
        return methods.contains(method) || (method == "HEAD" && methods.contains("GET"))
    }

    /// The rule's path captures when every condition holds, else `nil`.
    static func match(_ rule: Rule, _ request: IncomingRequest) -> [String: String]? {
        if case .matched(let captures) = self.evaluate(rule, request) { return captures }
        return nil
    }

    /// Checks every condition of `rule`, telling a miss from a `pathRegex` that gave up.
    static func evaluate(_ rule: Rule, _ request: IncomingRequest) -> PathMatch {
        guard self.takes(rule, method: request.method) else { return .missed }
        var captures: [String: String] = [:]
        if let path = rule.path {
            switch path.evaluate(request.path) {
            case .matched(let found): captures = found
            case .missed: return .missed
            case .gaveUp: return .gaveUp
            }
        }
        for condition in rule.headerConditions {
            guard request.headers.values(named: condition.name).contains(condition.value) else { return .missed }
        }
        for condition in rule.queryConditions {
            guard request.query.contains(condition) else { return .missed }
        }
        if let subject = rule.clientCertCondition,
            !SubjectMatch.matches(subject, subject: request.clientCertificateSubject)
        {
            return .missed
        }
        if let consumes = rule.consumes, !self.contentTypeFits(request, consumes) { return .missed }
        if let produces = rule.produces, !MediaRange.accepts(request.headers.values(named: "Accept"), anyOf: produces) {
            return .missed
        }
        return .matched(captures)
    }

    /// Every condition of `rule` that `request` fails. `regexGaveUp` says the rule's `pathRegex` already gave up on
    /// this path, so it is not run again.
    static func misses(_ rule: Rule, _ request: IncomingRequest, regexGaveUp: Bool = false) -> [Miss] {
        var misses: [Miss] = []
        if let methods = rule.methods, !self.takes(rule, method: request.method) {
            misses.append(.method(sent: request.method, expected: methods))
        }
        if let path = rule.path {
            switch regexGaveUp ? .gaveUp : path.evaluate(request.path) {
            case .matched: break
            case .missed: misses.append(.path(sent: request.path, pattern: path))
            case .gaveUp: misses.append(.regexGaveUp(sent: request.path, pattern: path))
            }
        }
        for condition in rule.headerConditions {
            let values = request.headers.values(named: condition.name)
            if !values.contains(condition.value) {
                misses.append(.header(name: condition.name, expected: condition.value, sent: values))
            }
        }
        for condition in rule.queryConditions where !request.query.contains(condition) {
            let values = request.query.filter { $0.name == condition.name }.map(\.value)
            misses.append(.query(name: condition.name, expected: condition.value, sent: values))
        }
        if let subject = rule.clientCertCondition,
            !SubjectMatch.matches(subject, subject: request.clientCertificateSubject)
        {
            misses.append(.clientCertificate(sent: request.clientCertificateSubject, expected: subject))
        }
        if let consumes = rule.consumes, !self.contentTypeFits(request, consumes) {
            misses.append(.contentType(sent: request.headers.first(named: "Content-Type"), expected: consumes))
        }
        if let produces = rule.produces {
            let accept = request.headers.values(named: "Accept")
            if !MediaRange.accepts(accept, anyOf: produces) {
                misses.append(.accept(sent: accept, offered: produces))
            }
        }
        return misses
    }

    /// Whether a request's body is of a type the rule consumes; a request without a body fits any rule.
    static func contentTypeFits(_ request: IncomingRequest, _ consumes: [String]) -> Bool {
        guard request.hasBody || request.headers.contains(named: "Content-Type") else { return true }
        guard let sent = request.headers.first(named: "Content-Type").flatMap(MediaRange.init) else { return false }
        return consumes.compactMap(MediaRange.init).contains { $0.covers(sent) }
    }
}
