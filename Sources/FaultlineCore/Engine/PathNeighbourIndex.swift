/// Finds the rules whose paths lie nearest a request's path without looking at every rule, for the 404's
/// explanation: rules are filed in a tree of their literal leading segments (an exact path by all its segments, a glob
/// by those before its first wildcard); a lookup walks down the request's segments as far as the tree goes, then
/// gathers rules from there outwards: the deepest shared folder first, its sub-folders in the order of how much of the
/// request's next segment their names share, then the folder above, and so on, until it has enough.
///
/// Rules without a literal start (a `pathRegex`, no path, a glob that opens with a wildcard) are not filed here: they
/// may match any path, so the engine weighs them with the rules that may match (`RuleIndex.candidates`).
struct PathNeighbourIndex: Sendable {
    /// A folder of the tree.
    struct Node: Sendable {
        /// The children's segments, sorted, and the children in the same order.
        var keys: [Substring] = []
        var children: [Int] = []
        /// Rules whose literal segments end here.
        var rules: [Int] = []
    }

    private let nodes: [Node]

    init(rules: [Rule]) {
        var children: [[Substring: Int]] = [[:]]
        var ruleLists: [[Int]] = [[]]
        for rule in rules {
            let literals: [Substring]
            switch rule.path {
            case .exact(let path)?:
                literals = path.split(separator: "/", omittingEmptySubsequences: false)
            case .glob(let glob)?:
                literals = glob.leadingLiterals.map { Substring($0) }
            case .regex?, nil:
                continue
            }
            guard !literals.isEmpty else { continue }
            var node = 0
            for literal in literals {
                if let child = children[node][literal] {
                    node = child
                } else {
                    children.append([:])
                    ruleLists.append([])
                    children[node][literal] = children.count - 1
                    node = children.count - 1
                }
            }
            ruleLists[node].append(rule.index)
        }
        // Frozen as sorted arrays: smaller than a dictionary per folder, and ordered for the search outwards.
        self.nodes = children.indices.map { index in
            let sorted = children[index].sorted { $0.key < $1.key }
            return Node(keys: sorted.map(\.key), children: sorted.map(\.value), rules: ruleLists[index])
        }
    }

    /// At most `limit` rules nearest `path`, nearest first. Touches a number of folders bounded by `limit` times the
    /// path's depth, plus a binary search per folder, whatever the number of rules.
    func neighbours(of path: String, limit: Int) -> [Int] {
        guard limit > 0 else { return [] }
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        var trail = [0]
        for segment in segments {
            guard let child = self.child(of: trail[trail.count - 1], named: segment) else { break }
            trail.append(child)
        }
        var found: [Int] = []
        var visited: Int?
        for depth in stride(from: trail.count - 1, through: 0, by: -1) {
            let node = trail[depth]
            let next = depth < segments.count ? segments[depth] : nil
            self.gatherNear(node, preferring: next, skipping: visited, into: &found, limit: limit)
            if found.count >= limit { break }
            visited = node
        }
        return found
    }

    private func child(of node: Int, named segment: Substring) -> Int? {
        let keys = self.nodes[node].keys
        let position = Self.lowerBound(of: segment, in: keys)
        guard position < keys.count, keys[position] == segment else { return nil }
        return self.nodes[node].children[position]
    }

    /// Gathers the folder's own rules, then its sub-folders (all but `skipping`) nearest `preferring` first.
    private func gatherNear(_ node: Int, preferring: Substring?, skipping: Int?, into found: inout [Int], limit: Int) {
        for rule in self.nodes[node].rules {
            guard found.count < limit else { return }
            found.append(rule)
        }
        let keys = self.nodes[node].keys
        guard !keys.isEmpty else { return }
        // Outwards from where the request's next segment would sort: the neighbours in sorted order share the most of
        // its start; each step takes the side that shares more.
        var right = preferring.map { Self.lowerBound(of: $0, in: keys) } ?? 0
        var left = right - 1
        while found.count < limit, left >= 0 || right < keys.count {
            let takeRight: Bool
            if left < 0 {
                takeRight = true
            } else if right >= keys.count {
                takeRight = false
            } else if let preferring {
                takeRight = Self.sharedStart(keys[right], preferring) >= Self.sharedStart(keys[left], preferring)
            } else {
                takeRight = true
            }
            let position = takeRight ? right : left
            if takeRight { right += 1 } else { left -= 1 }
            let child = self.nodes[node].children[position]
            if child != skipping { self.gatherAll(child, into: &found, limit: limit) }
        }
    }

    /// Gathers every rule below a folder, in the tree's order, until `limit`. Each folder on the way down remembers
    /// which child is next, so a folder of thousands of children costs only the children visited.
    private func gatherAll(_ node: Int, into found: inout [Int], limit: Int) {
        var stack: [(node: Int, nextChild: Int)] = [(node, -1)]
        while found.count < limit, let top = stack.last {
            let current = self.nodes[top.node]
            if top.nextChild < 0 {
                for rule in current.rules {
                    guard found.count < limit else { break }
                    found.append(rule)
                }
                stack[stack.count - 1].nextChild = 0
            } else if top.nextChild < current.children.count {
                stack[stack.count - 1].nextChild += 1
                stack.append((current.children[top.nextChild], -1))
            } else {
                stack.removeLast()
            }
        }
    }

    private static func lowerBound(of key: Substring, in keys: [Substring]) -> Int {
        var low = 0
        var high = keys.count
        while low < high {
            let middle = (low + high) / 2
            if keys[middle] < key { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// How many leading bytes two segments share.
    private static func sharedStart(_ a: Substring, _ b: Substring) -> Int {
        var count = 0
        for (x, y) in zip(a.utf8, b.utf8) {
            guard x == y else { break }
            count += 1
        }
        return count
    }
}
