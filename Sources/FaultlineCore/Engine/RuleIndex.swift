/// Finds the rules whose path could match a request without trying every rule: exact paths are hashed, globs are
/// filed in a tree of their leading literal segments, and only rules without a literal start (a regex, no path,
/// a glob that opens with a wildcard) are tried for every request. Thousands of rules cost a lookup, not a scan.
struct RuleIndex: Sendable {
    /// A node of the tree of literal leading segments.
    struct Node: Sendable {
        var children: [Substring: Int] = [:]
        /// Rules whose literal start ends here (their next segment is a wildcard).
        var rules: [Int] = []
    }

    private var exact: [String: [Int]] = [:]
    private var nodes: [Node] = [Node()]
    private var always: [Int] = []

    init(rules: [Rule]) {
        for rule in rules {
            switch rule.path {
            case .none, .regex:
                self.always.append(rule.index)
            case .exact(let path):
                self.exact[path, default: []].append(rule.index)
            case .glob(let glob):
                let literals = glob.leadingLiterals
                if literals.isEmpty {
                    self.always.append(rule.index)
                    continue
                }
                var node = 0
                for literal in literals {
                    if let child = self.nodes[node].children[Substring(literal)] {
                        node = child
                    } else {
                        self.nodes.append(Node())
                        self.nodes[node].children[Substring(literal)] = self.nodes.count - 1
                        node = self.nodes.count - 1
                    }
                }
                self.nodes[node].rules.append(rule.index)
            }
        }
    }

    /// The rules that may match `path`, in rule order. The common case (one list) allocates nothing.
    func candidates(for path: String) -> [Int] {
        var first: [Int]?
        var more: [[Int]] = []
        func add(_ list: [Int]) {
            if first == nil { first = list } else { more.append(list) }
        }
        if !self.always.isEmpty { add(self.always) }
        if let exact = self.exact[path] { add(exact) }
        if self.nodes.count > 1 {
            // Walk the path's segments (the first is empty for a path starting with `/`) without splitting it.
            var node = 0
            var start = path.startIndex
            while true {
                let end = path[start...].firstIndex(of: "/") ?? path.endIndex
                guard let child = self.nodes[node].children[path[start..<end]] else { break }
                node = child
                if !self.nodes[node].rules.isEmpty { add(self.nodes[node].rules) }
                guard end < path.endIndex else { break }
                start = path.index(after: end)
            }
        }
        guard let first else { return [] }
        if more.isEmpty { return first }
        return (first + more.flatMap { $0 }).sorted()
    }
}

extension GlobPattern {
    /// The literal segments the pattern starts with (the first is empty for a path starting with `/`).
    var leadingLiterals: [String] {
        var literals: [String] = []
        for segment in self.segments {
            guard case .literal(let text) = segment else { break }
            literals.append(text)
        }
        return literals
    }
}
