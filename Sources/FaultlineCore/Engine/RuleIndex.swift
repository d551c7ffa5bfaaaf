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

    /// The rules that may match `path`, in rule order.
    func candidates(for path: String) -> [Int] {
        var lists: [[Int]] = []
        if !self.always.isEmpty { lists.append(self.always) }
        if let exact = self.exact[path] { lists.append(exact) }
        var node = 0
        for segment in path.split(separator: "/", omittingEmptySubsequences: false) {
            guard let child = self.nodes[node].children[segment] else { break }
            node = child
            if !self.nodes[node].rules.isEmpty { lists.append(self.nodes[node].rules) }
        }
        switch lists.count {
        case 0: return []
        case 1: return lists[0]
        default: return lists.flatMap { $0 }.sorted()
        }
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
