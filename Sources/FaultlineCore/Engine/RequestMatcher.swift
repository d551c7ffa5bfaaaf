/// Checks a request against one rule's conditions: method, path, headers and query.
enum RequestMatcher {
    /// The rule's path captures when every condition holds, else `nil`.
    static func match(_ rule: Rule, _ request: IncomingRequest) -> [String: String]? {
        if let methods = rule.methods, !methods.contains(request.method) { return nil }
        var captures: [String: String] = [:]
        if let path = rule.path {
            guard let found = path.match(request.path) else { return nil }
            captures = found
        }
        for condition in rule.headerConditions {
            guard request.headers.values(named: condition.name).contains(condition.value) else { return nil }
        }
        for condition in rule.queryConditions {
            guard request.query.contains(condition) else { return nil }
        }
        return captures
    }

    /// Every condition of `rule` that `request` fails, as phrases for the 404's explanation.
    static func misses(_ rule: Rule, _ request: IncomingRequest) -> [String] {
        var misses: [String] = []
        if let methods = rule.methods, !methods.contains(request.method) {
            misses.append("the method \(request.method) is not \(methods.joined(separator: " or "))")
        }
        if let path = rule.path, path.match(request.path) == nil {
            let kind = if case .regex = path { "the path regex" } else { "the path" }
            misses.append("the path \(request.path) does not match \(kind) \(path.source)")
        }
        for condition in rule.headerConditions {
            let values = request.headers.values(named: condition.name)
            if values.isEmpty {
                misses.append("the header \(condition.name) is missing (expected \"\(condition.value)\")")
            } else if !values.contains(condition.value) {
                let sent = values.map { "\"\($0)\"" }.joined(separator: ", ")
                misses.append("the header \(condition.name) is \(sent), not \"\(condition.value)\"")
            }
        }
        for condition in rule.queryConditions where !request.query.contains(condition) {
            let values = request.query.filter { $0.name == condition.name }.map(\.value)
            if values.isEmpty {
                misses.append("the query parameter \(condition.name) is missing (expected \"\(condition.value)\")")
            } else {
                let sent = values.map { "\"\($0)\"" }.joined(separator: ", ")
                misses.append("the query parameter \(condition.name) is \(sent), not \"\(condition.value)\"")
            }
        }
        return misses
    }
}
