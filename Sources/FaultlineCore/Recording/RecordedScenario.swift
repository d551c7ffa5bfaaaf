import Foundation
import Yams

/// The scenario `faultline record` writes from what it passed through: one rule per distinct method, path and query
/// (`match.query`), answering with the upstream's status, headers and body; requests that were repeated and got
/// different answers become a `sequence`. Headers go without `Date`, hop-by-hop and framing fields; `Authorization`,
/// `Cookie`, `Set-Cookie` and `Proxy-Authorization` values are `REDACTED` unless secrets are kept. A body is written
/// inline when it is UTF-8 text of at most 64 KiB, else as a `bodyFile` in a folder beside the scenario.
public struct RecordedScenario: Sendable {
    /// The largest body written inline.
    public static let inlineLimit = 64 * 1024
    /// Header fields whose values are secrets.
    public static let secretHeaders = ["Authorization", "Cookie", "Set-Cookie", "Proxy-Authorization"]
    /// The value secrets are replaced with.
    public static let redacted = "REDACTED"

    /// A body file to write beside the scenario.
    public struct Attachment: Sendable {
        /// Its path relative to the scenario's folder (`orders-bodies/1-get-download.bin`).
        public var relativePath: String
        /// Where its bytes are.
        public var body: RecordedBody
    }

    /// The scenario's text.
    public var yaml: String
    /// The body files it names.
    public var attachments: [Attachment]
    /// How many rules it has.
    public var ruleCount: Int

    /// The answer a rule gives: what makes two answers the same.
    struct Answer: Equatable {
        var status: Int
        var headers: [HeaderField]
        var body: RecordedBody
    }

    /// Builds the scenario.
    ///
    /// - Parameters:
    ///   - exchanges: what passed through, in the order the upstream answered.
    ///   - upstream: the upstream's URL, for the scenario's comment.
    ///   - bodiesFolder: the name of the folder beside the scenario that holds body files.
    ///   - keepSecrets: write secret header values as they were.
    public static func make(
        from exchanges: [RecordedExchange],
        upstream: String,
        bodiesFolder: String,
        keepSecrets: Bool
    ) -> RecordedScenario {
        // Requests grouped by method, path and query, in the order each was first seen.
        var order: [String] = []
        var groups: [String: (exchange: RecordedExchange, query: [QueryItem], answers: [Answer])] = [:]
        for exchange in exchanges where exchange.path.hasPrefix("/") {
            let query = self.distinctQuery(exchange.query)
            let key = ([exchange.method, exchange.path] + query.map { "\($0.name)=\($0.value)" }.sorted()).joined(
                separator: "\u{0}"
            )
            let answer = Answer(
                status: exchange.status,
                headers: self.headers(exchange.headers, method: exchange.method, keepSecrets: keepSecrets),
                body: exchange.method == "HEAD" ? .bytes([]) : exchange.body
            )
            if groups[key] == nil {
                order.append(key)
                groups[key] = (exchange, query, [])
            }
            groups[key]?.answers.append(answer)
        }
        // A rule takes every request whose query holds its own, so rules with more query parameters go first, and a
        // HEAD rule before the GET rule that would answer HEAD too: each recorded request then meets its own rule.
        let ranked = order.enumerated().compactMap { offset, key in groups[key].map { (offset, $0) } }.sorted {
            lhs,
            rhs in
            let (left, right) = (lhs.1, rhs.1)
            if left.query.count != right.query.count { return left.query.count > right.query.count }
            let leftHead = left.exchange.method == "HEAD"
            let rightHead = right.exchange.method == "HEAD"
            if leftHead != rightHead { return leftHead }
            return lhs.0 < rhs.0
        }
        var attachments: [Attachment] = []
        var rules: [Node] = []
        for (_, group) in ranked {
            rules.append(
                self.rule(
                    for: group.exchange,
                    query: group.query,
                    answers: group.answers,
                    bodiesFolder: bodiesFolder,
                    attachments: &attachments
                )
            )
        }
        let root = Node.mapping(
            Node.Mapping([
                (Self.plain("version"), Node.scalar(Node.Scalar("1"))),
                (Self.plain("name"), Self.string("recorded")),
                (Self.plain("rules"), Node.sequence(Node.Sequence(rules))),
            ])
        )
        let body =
            (try? Yams.serialize(node: root, indent: 2, width: -1, allowUnicode: true)) ?? "version: 1\nrules: []\n"
        let header =
            "# Recorded by `faultline record` from \(upstream): \(rules.count) \(rules.count == 1 ? "rule" : "rules").\n"
            + "# Edit it as any scenario (add faults, delays, sequences), then serve it: faultline serve THIS-FILE\n"
        return RecordedScenario(yaml: header + body, attachments: attachments, ruleCount: rules.count)
    }

    // MARK: - One rule

    static func rule(
        for exchange: RecordedExchange,
        query: [QueryItem],
        answers: [Answer],
        bodiesFolder: String,
        attachments: inout [Attachment]
    ) -> Node {
        var target = exchange.path
        if !query.isEmpty { target += "?" + query.map { "\($0.name)=\($0.value)" }.joined(separator: "&") }
        var pairs: [(Node, Node)] = [
            (Self.plain("name"), Self.string("\(exchange.method) \(target)")),
            (Self.plain("method"), Self.string(exchange.method)),
        ]
        if case .exact = PathPattern(path: exchange.path) {
            pairs.append((Self.plain("path"), Self.string(exchange.path)))
        } else {
            // A path with glob or capture characters is matched literally by a regular expression.
            pairs.append((Self.plain("pathRegex"), Self.string("^" + Self.escapedForRegex(exchange.path) + "$")))
        }
        if !query.isEmpty {
            let values = query.map { (Self.string($0.name), Self.string($0.value)) }
            pairs.append(
                (
                    Self.plain("match"),
                    Node.mapping(Node.Mapping([(Self.plain("query"), Node.mapping(Node.Mapping(values)))]))
                )
            )
        }
        // Consecutive equal answers make one step that answers as many times.
        var steps: [(answer: Answer, times: Int)] = []
        for answer in answers {
            if let last = steps.last, last.answer == answer {
                steps[steps.count - 1].times += 1
            } else {
                steps.append((answer, 1))
            }
        }
        let distinct = steps.count == 1
        func responsePairs(_ answer: Answer, step: Int?) -> [(Node, Node)] {
            var response: [(Node, Node)] = [(Self.plain("status"), Node.scalar(Node.Scalar(String(answer.status))))]
            var headers = answer.headers
            if ScenarioDecoder.statusesNeedingLocation.contains(answer.status) {
                let location = headers.first(named: "Location") ?? "/"
                headers.removeAll { $0.name.equalsIgnoringASCIICase("Location") }
                response.append((Self.plain("location"), Self.string(location)))
            }
            if !headers.isEmpty { response.append((Self.plain("headers"), self.headerMapping(headers))) }
            if let body = self.body(
                answer.body,
                for: exchange,
                step: step,
                bodiesFolder: bodiesFolder,
                attachments: &attachments
            ) {
                response.append(body)
            }
            return response
        }
        if distinct {
            pairs += responsePairs(steps[0].answer, step: nil)
        } else {
            let sequence = steps.enumerated().map { index, step -> Node in
                var stepPairs = responsePairs(step.answer, step: index)
                if step.times > 1, index < steps.count - 1 {
                    stepPairs.append((Self.plain("times"), Node.scalar(Node.Scalar(String(step.times)))))
                }
                return Node.mapping(Node.Mapping(stepPairs))
            }
            pairs.append((Self.plain("sequence"), Node.sequence(Node.Sequence(sequence))))
        }
        return Node.mapping(Node.Mapping(pairs))
    }

    /// `body:` for UTF-8 text of at most 64 KiB that no template could read into, `bodyFile:` otherwise; nothing for
    /// an empty body.
    static func body(
        _ body: RecordedBody,
        for exchange: RecordedExchange,
        step: Int?,
        bodiesFolder: String,
        attachments: inout [Attachment]
    ) -> (Node, Node)? {
        guard body.size > 0 else { return nil }
        if case .bytes(let bytes) = body, let text = Self.inlineText(bytes) {
            return (Self.plain("body"), Self.text(text))
        }
        var name = "\(attachments.count + 1)-\(exchange.method.lowercased())"
        let slug = exchange.path.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "-" }
        let trimmed = String(slug).split(separator: "-").joined(separator: "-")
        if !trimmed.isEmpty { name += "-" + String(trimmed.prefix(60)) }
        if let step { name += "-\(step + 1)" }
        let path = "\(bodiesFolder)/\(name).\(Self.fileExtension(for: exchange.headers.first(named: "Content-Type")))"
        attachments.append(Attachment(relativePath: path, body: body))
        return (Self.plain("bodyFile"), Self.string(path))
    }

    /// The text of a body that can be written inline: UTF-8, at most 64 KiB, no control characters but tabs and line
    /// breaks, and no `{query.` (which the scenario would read as a template).
    static func inlineText(_ bytes: [UInt8]) -> String? {
        guard bytes.count <= Self.inlineLimit else { return nil }
        guard bytes.allSatisfy({ $0 >= 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }), !bytes.contains(0x7F) else {
            return nil
        }
        guard let text = String(validating: bytes, as: UTF8.self), !text.contains("{query.") else { return nil }
        // Carriage returns would not survive YAML's line break normalisation.
        guard !text.contains("\r") else { return nil }
        return text
    }

    /// The headers a rule sends: without `Date`, hop-by-hop and framing fields (Faultline frames the body itself;
    /// a HEAD answer keeps its `Content-Length`, the length of the body it stands for), secrets redacted.
    static func headers(_ headers: [HeaderField], method: String, keepSecrets: Bool) -> [HeaderField] {
        ProxyHeaders.endToEnd(headers).compactMap { field in
            if field.name.equalsIgnoringASCIICase("Date") || field.name.equalsIgnoringASCIICase("Transfer-Encoding") {
                return nil
            }
            if field.name.equalsIgnoringASCIICase("Content-Length"), method != "HEAD" { return nil }
            if !keepSecrets, Self.secretHeaders.contains(where: { field.name.equalsIgnoringASCIICase($0) }) {
                return HeaderField(field.name, Self.redacted)
            }
            return field
        }
    }

    /// `text` with every character a regular expression gives a meaning to escaped.
    static func escapedForRegex(_ text: String) -> String {
        var escaped = ""
        for character in text {
            if "\\^$.|?*+()[]{}".contains(character) { escaped.append("\\") }
            escaped.append(character)
        }
        return escaped
    }

    /// Writes the scenario to the file at `path` and its body files beside it (the bodies folder is replaced).
    public func write(toFile path: String) throws {
        let file = URL(fileURLWithPath: path)
        let folder = file.deletingLastPathComponent()
        var bodyFolders: Set<String> = []
        for attachment in self.attachments {
            let destination = folder.appendingPathComponent(attachment.relativePath)
            let bodies = destination.deletingLastPathComponent()
            if bodyFolders.insert(bodies.path).inserted {
                try? FileManager.default.removeItem(at: bodies)
                try FileManager.default.createDirectory(at: bodies, withIntermediateDirectories: true)
            }
            switch attachment.body {
            case .bytes(let bytes):
                try Data(bytes).write(to: destination)
            case .file(let path, _, _):
                try FileManager.default.copyItem(atPath: path, toPath: destination.path)
            }
        }
        try Data(self.yaml.utf8).write(to: file)
    }

    /// The query with each name once (a scenario's `match.query` is a mapping).
    static func distinctQuery(_ query: [QueryItem]) -> [QueryItem] {
        var seen: Set<String> = []
        return query.filter { seen.insert($0.name).inserted }
    }

    /// Header fields as a mapping; a name sent several times gets a list.
    static func headerMapping(_ headers: [HeaderField]) -> Node {
        var names: [String] = []
        var values: [String: [String]] = [:]
        for field in headers {
            let key = names.first { $0.equalsIgnoringASCIICase(field.name) } ?? field.name
            if values[key] == nil { names.append(key) }
            values[key, default: []].append(field.value)
        }
        return Node.mapping(
            Node.Mapping(
                names.map { name in
                    let list = values[name] ?? []
                    let value =
                        list.count == 1
                        ? Self.string(list[0]) : Node.sequence(Node.Sequence(list.map { Self.string($0) }))
                    return (Self.string(name), value)
                }
            )
        )
    }

    static func fileExtension(for contentType: String?) -> String {
        let type = contentType?.split(separator: ";").first.map { $0.trimmingSpaces().lowercased() } ?? ""
        let known: [String: String] = [
            "application/json": "json", "text/plain": "txt", "text/html": "html", "text/css": "css",
            "text/javascript": "js", "application/javascript": "js", "application/xml": "xml", "text/xml": "xml",
            "text/csv": "csv", "image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/svg+xml": "svg",
            "image/webp": "webp", "application/pdf": "pdf", "application/zip": "zip", "application/gzip": "gz",
        ]
        return known[type] ?? "bin"
    }

    // MARK: - YAML scalars

    /// A key or word that YAML reads as the same string when written plainly.
    static func plain(_ text: String) -> Node {
        Node.scalar(Node.Scalar(text, .implicit, .plain))
    }

    /// A string value: plain when YAML reads it back as the same string, double-quoted otherwise.
    static func string(_ text: String) -> Node {
        Node.scalar(Node.Scalar(text, .implicit, Self.isSafePlain(text) ? .plain : .doubleQuoted))
    }

    /// A body's text: a literal block when it has several lines (the emitter quotes it instead when a block cannot
    /// hold it exactly), else as `string`.
    static func text(_ text: String) -> Node {
        guard text.contains("\n") else { return Self.string(text) }
        return Node.scalar(Node.Scalar(text, .implicit, .literal))
    }

    /// Whether YAML reads `text`, written plainly, as this very string (not a number, a boolean, null, or syntax).
    static func isSafePlain(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, let last = text.unicodeScalars.last else { return false }
        guard first.properties.isAlphabetic || first == "/" else { return false }
        guard last != " ", !text.contains(": "), !text.contains(" #"), !text.hasSuffix(":") else { return false }
        let allowed = text.unicodeScalars.allSatisfy { scalar in
            scalar.properties.isAlphabetic || ("0"..."9").contains(scalar)
                || " _./;=+()-*".unicodeScalars.contains(scalar)
        }
        guard allowed else { return false }
        let words = ["true", "false", "yes", "no", "on", "off", "null", "y", "n", ".inf", ".nan"]
        return !words.contains(text.lowercased())
    }
}
