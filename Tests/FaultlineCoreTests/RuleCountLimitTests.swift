import Foundation
import Testing

@testable import FaultlineCore

/// A scenario has at most `ScenarioLoader.maxRules` rules; far more are refused from the text alone, fast, before any
/// rule is built (docs/security.md, "Limits and timeouts").
@Suite("The number of rules in a scenario")
struct RuleCountLimitTests {
    static func rules(_ count: Int, indent: String = "  ") -> String {
        var yaml = "version: 1\nrules:\n"
        yaml.reserveCapacity(count * 32)
        for index in 0..<count { yaml += "\(indent)- {path: /r\(index), status: 200}\n" }
        return yaml
    }

    @Test func aScenarioAtTheLimitLoads() throws {
        #expect(ScenarioLoader.maxRules == 10_000)
        let scenario = try load(Self.rules(10_000))
        #expect(scenario.rules.count == 10_000)
    }

    @Test func oneRuleOverTheLimitIsRefusedAtTheRulesKey() {
        #expect(
            problems(Self.rules(10_001))
                == [
                    "2:1: The scenario has 10001 rules; a scenario may have at most 10000 (write rules that differ only in their "
                        + "path as one rule with a glob or a pathRegex and templates)."
                ]
        )
    }

    @Test func aTenMebibyteScenarioOf350000RulesIsRefusedFastWithoutBuildingThem() throws {
        var yaml = "version: 1\nrules:\n"
        for index in 0..<350_000 { yaml += "- {path: /r\(index), body: x}\n" }
        #expect(yaml.utf8.count <= 10 << 20)
        let clock = ContinuousClock()
        let start = clock.now
        let found = problems(yaml)
        let elapsed = clock.now - start
        #expect(found.count == 1)
        #expect(
            found.first?.hasPrefix("2:1: The scenario has 350000 rules; a scenario may have at most 10000") ?? false
        )
        print("350,000 rules (\(yaml.utf8.count) bytes) refused in \(elapsed)")
        // Parsing the YAML alone took 6 s here before; the scan reads each line's first bytes.
        #expect(elapsed < .seconds(3))
    }

    @Test func aFlowListOverTheLimitIsRefusedToo() {
        let yaml = "version: 1\nrules: [" + (0...10_001).map { "{path: '/a,\($0)'}" }.joined(separator: ", ") + "]\n"
        #expect(problems(yaml).first?.hasPrefix("2:1: The scenario has at least 10001 rules;") ?? false)
    }

    @Test func rulesAcrossSeveralFilesCountTogether() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "faultline-rules-\(UInt64.random(in: 0...UInt64.max))"
        )
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let first = folder.appendingPathComponent("a.yaml").path
        let second = folder.appendingPathComponent("b.yaml").path
        try Self.rules(6000).write(toFile: first, atomically: true, encoding: .utf8)
        try ("# the second half\n" + Self.rules(6000)).write(toFile: second, atomically: true, encoding: .utf8)
        do {
            _ = try ScenarioLoader.load(files: [first, second])
            Issue.record("12,000 rules in two files were accepted")
        } catch {
            #expect(
                error.diagnostics.map(\.description) == ["\(second):3:1: error: \(ScenarioLoader.tooManyRules(12_000))"]
            )
        }
    }

    // MARK: - The scan

    @Test func theScanCountsBlockEntriesAtTheirOwnIndentationOnly() {
        let yaml = """
            version: 1
            # rules: in a comment is not the key
            rules:   # the rules

              - path: /a
                match:
                  headers: {X: y}
                sequence:
                  - {status: 503}
                  - {status: 200}
              # - a comment, not a rule
              - path: /b
                body: |
                  - not a rule
              -
                path: /c
            expect:
              - {rule: a, count: 1}
            """
        #expect(RuleCountScan.count(yaml) == RuleCountScan.Count(line: 3, count: 3))
        #expect(
            RuleCountScan.count("version: 1\nrules:\n- a\n- b\nexpect: []\n") == RuleCountScan.Count(line: 2, count: 2)
        )
    }

    @Test func theScanGivesNoCountForWhatItDoesNotRecognise() {
        #expect(RuleCountScan.count("version: 1\n") == nil)
        #expect(RuleCountScan.count("version: 1\nrules: {path: /x}\n") == nil)
        #expect(RuleCountScan.count("version: 1\nrules:\n  path: /x\n") == nil)
        #expect(RuleCountScan.count("{version: 1, rules: [{path: /x}]}\n") == nil)
        #expect(RuleCountScan.count("version: 1\nrules: [{path: /x}\n") == nil, "an unfinished list")
    }

    @Test func theScanCountsAFlowListsCommasOutsideQuotesAndBrackets() {
        let yaml =
            #"rules: [{path: /a, match: {query: {x: "1,2"}}}, {path: '/b,c', body: it's, x: [1, 2]}, {body: "\",", y: 'it''s, ok'} # a, b"#
            + "\n , {path: /d}]\n"
        #expect(RuleCountScan.count(yaml) == RuleCountScan.Count(line: 1, count: 3, isExact: false))
        #expect(RuleCountScan.count("rules: []\n") == RuleCountScan.Count(line: 1, count: 0, isExact: false))
    }
}
