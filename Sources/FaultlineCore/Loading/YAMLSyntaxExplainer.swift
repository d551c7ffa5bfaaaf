import Foundation

/// Says what a YAML syntax error means in a scenario author's terms. libyaml reports a tab as "found character
/// that cannot start any token" and a key indented off its mapping as "mapping values are not allowed in this
/// context"; the person needs "a tab indents this line" and "this key is in column 6, the key above it in
/// column 5".
enum YAMLSyntaxExplainer {
    /// What went wrong and where: the place may move from libyaml's mark to the start of the offending key.
    struct Explanation: Equatable {
        var message: String
        var line: Int
        var column: Int
    }

    /// The problems libyaml reports for a line indented where its mapping or list does not expect it.
    static let indentationProblems = [
        "mapping values are not allowed in this context",
        "did not find expected key",
        "did not find expected '-' indicator",
        "could not find expected ':'",
    ]

    /// Explains libyaml's `problem` at `line` and `column` (1-based, counted in Unicode scalars) of `source`, or
    /// returns `nil` when there is nothing better to say than libyaml's own words.
    static func explain(problem: String, line: Int, column: Int, source: String) -> Explanation? {
        let lines = source.split(separator: "\n", omittingEmptySubsequences: false).map {
            Array($0.hasSuffix("\r") ? $0.dropLast().unicodeScalars : $0.unicodeScalars)
        }
        guard line >= 1, line <= lines.count else { return nil }
        let text = lines[line - 1]

        // A tab where YAML wants indentation, or in the middle of the structure.
        let tabOnLine = text.firstIndex(of: "\t")
        if problem.contains("tab character")
            || (problem.contains("cannot start any token") && text[safe: column - 1] == "\t")
        {
            let tabColumn = problem.contains("tab character") ? (tabOnLine.map { $0 + 1 } ?? column) : column
            return Explanation(
                message: "A tab character is here; YAML indents with spaces only. Replace the tab with spaces.",
                line: line,
                column: tabColumn
            )
        }
        if problem.contains("cannot start any token"), let character = text[safe: column - 1] {
            return Explanation(
                message: "A plain value cannot start with '\(character)' in YAML; put the value in quotes.",
                line: line,
                column: column
            )
        }

        guard self.indentationProblems.contains(where: problem.contains) else { return nil }
        guard let current = Self.keyStart(of: text) else { return nil }
        if let tab = tabOnLine, tab < current.column - 1 {
            return Explanation(
                message:
                    "A tab character indents this line; YAML indents with spaces only. Replace the tab with spaces.",
                line: line,
                column: tab + 1
            )
        }
        // The nearest line above that holds something (blank lines and comments do not count).
        var aboveIndex = line - 2
        while aboveIndex >= 0, Self.keyStart(of: lines[aboveIndex]) == nil { aboveIndex -= 1 }
        guard aboveIndex >= 0, let above = Self.keyStart(of: lines[aboveIndex]) else { return nil }
        let name = current.name.map { "The key '\($0)'" } ?? "This line"
        let aboveName = above.name.map { "the key '\($0)'" } ?? "the line"
        if let dash = current.dashColumn, let aboveDash = above.dashColumn, dash != aboveDash {
            return Explanation(
                message:
                    "This list item's '-' is in column \(dash), but the one above it (line \(aboveIndex + 1)) is in "
                    + "column \(aboveDash); the items of one list must start in the same column.",
                line: line,
                column: dash
            )
        }
        if current.column != above.column, !(above.opensBlock && current.column > above.column) {
            return Explanation(
                message:
                    "\(name) starts in column \(current.column), but \(aboveName) above it (line \(aboveIndex + 1)) "
                    + "starts in column \(above.column); the keys of one mapping must start in the same column.",
                line: line,
                column: current.column
            )
        }
        if problem.contains("mapping values are not allowed") {
            return Explanation(
                message: "This line has a ': ' where YAML does not allow a new mapping; if it is part of a value, "
                    + "put the value in quotes.",
                line: line,
                column: column
            )
        }
        return nil
    }

    /// Where a line's content starts, past any list dashes (`- key: value` starts at `key`), with its key name and
    /// whether it opens a nested block (`key:` with nothing after it), and the column of its first list dash.
    /// `nil` for a blank or comment-only line.
    static func keyStart(of line: [Unicode.Scalar]) -> (column: Int, name: String?, opensBlock: Bool, dashColumn: Int?)?
    {
        var index = 0
        while index < line.count, line[index] == " " || line[index] == "\t" { index += 1 }
        let dashColumn =
            index + 1 < line.count && line[index] == "-" && (line[index + 1] == " " || line[index + 1] == "\t")
            ? index + 1 : nil
        // List items: `- ` (possibly several, `- - a`) put the content further right.
        while index + 1 < line.count, line[index] == "-", line[index + 1] == " " || line[index + 1] == "\t" {
            index += 2
            while index < line.count, line[index] == " " { index += 1 }
        }
        guard index < line.count, line[index] != "#" else { return nil }
        let rest = String(String.UnicodeScalarView(line[index...]))
        var name: String?
        var opensBlock = false
        if let colon = rest.range(of: ": ") ?? (rest.hasSuffix(":") ? rest.range(of: ":", options: .backwards) : nil) {
            let key = rest[..<colon.lowerBound]
            if !key.isEmpty, !key.contains(where: { "{[\"'#".contains($0) }) {
                name = String(key)
                let value = rest[colon.upperBound...].drop(while: { $0 == " " })
                opensBlock = value.isEmpty || value.hasPrefix("#") || value.hasPrefix("|") || value.hasPrefix(">")
            }
        } else if rest == "-" {
            opensBlock = true
        }
        return (index + 1, name, opensBlock, dashColumn)
    }
}

extension Array {
    /// The element at `index`, or `nil` outside the array.
    fileprivate subscript(safe index: Int) -> Element? {
        self.indices.contains(index) ? self[index] : nil
    }
}
