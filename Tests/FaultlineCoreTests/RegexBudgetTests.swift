import FaultlineCore
import Foundation
import Testing

/// A `pathRegex` that backtracks catastrophically gives up after a bounded amount of work.
@Suite("Regex budget")
struct RegexBudgetTests {
    static let crafted = "/slow/" + String(repeating: "a", count: 40) + "b"

    @Test func aRunawayRegexGivesUpAndTheRuleDoesNotMatch() throws {
        let regex = try PathRegex("^/slow/(a+)+$")
        let started = ContinuousClock.now
        #expect(PathPattern.regex(regex).evaluate(Self.crafted) == .gaveUp)
        // Without the budget this match would take longer than the age of the universe.
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(PathPattern.regex(regex).evaluate("/slow/aaaa") == .matched([:]))
        #expect(PathPattern.regex(regex).evaluate("/slow/aab") == .missed)
    }

    @Test func theEngineTakesTheRuleAsNotMatchingAndSaysSo() throws {
        let scenario = try ScenarioLoader.load(
            yaml:
                "version: 1\nrules:\n  - {name: slow, pathRegex: '^/slow/(a+)+$', body: slow}\n  - {name: any, path: '/slow/**', body: any}\n",
            name: "s.yaml",
            baseDirectory: "/tmp"
        )
        let engine = RuleEngine(scenario: scenario)
        let decision = engine.decide(IncomingRequest(method: "GET", target: Self.crafted))
        #expect(decision.ruleLabel == "any")
        #expect(decision.regexGaveUp == ["slow"])

        let alone = RuleEngine(
            scenario: try ScenarioLoader.load(
                yaml: "version: 1\nrules:\n  - {name: slow, pathRegex: '^/slow/(a+)+$', body: slow}\n",
                name: "s.yaml",
                baseDirectory: "/tmp"
            )
        )
        let missed = alone.decide(IncomingRequest(method: "GET", target: Self.crafted))
        #expect(missed.response.status == 404)
        #expect(missed.regexGaveUp == ["slow"])
        guard case .bytes(let body, _) = missed.response.body else {
            Issue.record("a 404 explains itself")
            return
        }
        #expect(
            String(decoding: body, as: UTF8.self).contains(
                "the path regex ^/slow/(a+)+$ gave up on this path after 500000 steps"
            )
        )
    }
}
