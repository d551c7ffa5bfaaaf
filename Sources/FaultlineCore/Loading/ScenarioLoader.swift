import Foundation
import Yams

/// Reads scenario files (format version 1) into a validated `Scenario`.
///
/// Every problem in every file is reported, each with its file, line and column; a scenario with any problem is
/// refused as a whole.
public enum ScenarioLoader {
    /// The most rules a scenario may have, all files together: matching, the 404's explanation and the control API
    /// stay fast, and a scenario sent to the control API cannot take the server's memory.
    public static let maxRules = 10_000

    /// The error for a scenario with `count` rules, more than `maxRules`.
    static func tooManyRules(_ count: Int, atLeast: Bool = false) -> String {
        "The scenario has \(atLeast ? "at least " : "")\(count) rules; a scenario may have at most \(self.maxRules) "
            + "(write rules that differ only in their path as one rule with a glob or a pathRegex and templates)."
    }

    /// Loads and merges scenario files: their rules are tried in the order the files are given; listeners are
    /// concatenated; the first file that sets `name`, `seed` or `limits` sets it; each file's `defaults` apply to its own rules.
    public static func load(files: [String]) throws(ScenarioError) -> Scenario {
        var parts: [(file: String, contents: ScenarioDecoder.FileContents)] = []
        var diagnostics: [Diagnostic] = []
        for file in files {
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: file, isDirectory: &isFolder), isFolder.boolValue {
                let message =
                    "This is a folder, not a scenario file; give the scenario files in it, such as "
                    + "\(file.hasSuffix("/") ? file : file + "/")*.yaml."
                diagnostics.append(Diagnostic(message, at: SourceLocation(file: file, line: 1, column: 1)))
                continue
            }
            let yaml: String
            do {
                yaml = try String(contentsOfFile: file, encoding: .utf8)
            } catch {
                let reason =
                    FileManager.default.fileExists(atPath: file) ? "cannot be read as UTF-8 text" : "does not exist"
                diagnostics.append(
                    Diagnostic("The scenario file \(reason).", at: SourceLocation(file: file, line: 1, column: 1))
                )
                continue
            }
            let directory = URL(fileURLWithPath: file).deletingLastPathComponent().path
            switch self.decode(yaml: yaml, name: file, files: .folder(directory)) {
            case .success(let contents): parts.append((file, contents))
            case .failure(let error): diagnostics += error.diagnostics
            }
        }
        // The bound holds for the scenario served, all files together.
        var total = 0
        for part in parts {
            total += part.contents.rules.count
            if total > self.maxRules, let location = part.contents.rulesKeyLocation {
                diagnostics.append(
                    Diagnostic(self.tooManyRules(parts.reduce(0) { $0 + $1.contents.rules.count }), at: location)
                )
                break
            }
        }
        guard diagnostics.isEmpty else { throw ScenarioError(diagnostics: diagnostics) }
        return self.merge(parts)
    }

    /// Loads a scenario from YAML text.
    ///
    /// - Parameters:
    ///   - name: what messages call the text: a file name, or `<control-api>` for a scenario sent to the server.
    ///   - baseDirectory: the folder `bodyFile` paths are relative to.
    public static func load(yaml: String, name: String, baseDirectory: String) throws(ScenarioError) -> Scenario {
        try self.load(yaml: yaml, name: name, files: .folder(baseDirectory))
    }

    /// Loads a scenario from YAML text whose files must keep to `files`.
    ///
    /// - Parameters:
    ///   - name: what messages call the text: a file name, or `<control-api>` for a scenario sent to the server.
    ///   - files: which files the scenario may name, and what its relative paths are relative to.
    public static func load(yaml: String, name: String, files: FileScope) throws(ScenarioError) -> Scenario {
        switch self.decode(yaml: yaml, name: name, files: files) {
        case .success(let contents): return self.merge([(name, contents)])
        case .failure(let error): throw error
        }
    }

    static func decode(
        yaml: String,
        name: String,
        files: FileScope
    ) -> Result<ScenarioDecoder.FileContents, ScenarioError> {
        let start = SourceLocation(file: name, line: 1, column: 1)
        // Far too many rules are refused from the text alone, before a node is built for each.
        if let scanned = RuleCountScan.count(yaml), scanned.count > self.maxRules {
            return .failure(
                ScenarioError(diagnostics: [
                    Diagnostic(
                        self.tooManyRules(scanned.count, atLeast: !scanned.isExact),
                        at: SourceLocation(file: name, line: scanned.line, column: 1)
                    )
                ])
            )
        }
        let root: Node
        // The basic resolver: the decoder reads every scalar as text and handles `<<` itself, so the default
        // resolver's tag regexes (compiled on first use, a good part of start-up) would buy nothing.
        do {
            guard let node = try Yams.compose(yaml: yaml, .basic) else {
                return .failure(
                    ScenarioError(diagnostics: [
                        Diagnostic("The scenario is empty; it needs at least 'version: 1' and some 'rules'.", at: start)
                    ])
                )
            }
            root = node
        } catch let error as YamlError {
            return .failure(ScenarioError(diagnostics: [self.diagnostic(for: error, file: name, source: yaml)]))
        } catch {
            return .failure(ScenarioError(diagnostics: [Diagnostic("The YAML cannot be read: \(error).", at: start)]))
        }
        var decoder = ScenarioDecoder(file: name, files: files)
        let contents = decoder.decodeScenario(root)
        guard decoder.diagnostics.isEmpty else { return .failure(ScenarioError(diagnostics: decoder.diagnostics)) }
        return .success(contents)
    }

    static func merge(_ parts: [(file: String, contents: ScenarioDecoder.FileContents)]) -> Scenario {
        var scenario = Scenario()
        scenario.sources = parts.map(\.file)
        var limitsSet = false
        for (_, contents) in parts {
            scenario.name = scenario.name ?? contents.name
            scenario.seed = scenario.seed ?? contents.seed
            if let limits = contents.limits, !limitsSet {
                scenario.limits = limits
                limitsSet = true
            }
            scenario.listeners += contents.listeners
            for header in contents.defaultHeaders where !scenario.defaultHeaders.contains(named: header.name) {
                scenario.defaultHeaders.append(header)
            }
            let offset = scenario.rules.count
            for var rule in contents.rules {
                rule.index = scenario.rules.count
                scenario.rules.append(rule)
            }
            // `rules[N]` in a later file's expectations counts from that file's first rule.
            for var expectation in contents.expectations {
                if expectation.rule.hasPrefix("rules["), let number = Int(expectation.rule.dropFirst(6).dropLast()) {
                    expectation.rule = "rules[\(number + offset)]"
                }
                scenario.expectations.append(expectation)
            }
        }
        return scenario
    }

    /// Turns a Yams parse error into a diagnostic at the place libyaml reported, in the author's terms where
    /// `YAMLSyntaxExplainer` knows them (a tab, a key that does not line up).
    static func diagnostic(for error: YamlError, file: String, source: String) -> Diagnostic {
        func at(_ mark: Mark) -> SourceLocation { SourceLocation(file: file, line: mark.line, column: mark.column) }
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            if let explanation = YAMLSyntaxExplainer.explain(
                problem: problem,
                line: mark.line,
                column: mark.column,
                source: source
            ) {
                return Diagnostic(
                    explanation.message,
                    at: SourceLocation(file: file, line: explanation.line, column: explanation.column)
                )
            }
            var message = "The YAML is malformed: \(problem)"
            if let context {
                message += " (\(context.text) at line \(context.mark.line), column \(context.mark.column))"
            }
            return Diagnostic(message + ".", at: at(mark))
        case .duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.map { "'\($0)'" }.joined(separator: ", ")
            return Diagnostic("The key \(keys) appears more than once in one mapping.", at: at(context.mark))
        case .reader(let problem, _, _, _):
            return Diagnostic(
                "The file cannot be read as YAML: \(problem).",
                at: SourceLocation(file: file, line: 1, column: 1)
            )
        default:
            return Diagnostic("The YAML cannot be read: \(error).", at: SourceLocation(file: file, line: 1, column: 1))
        }
    }
}
