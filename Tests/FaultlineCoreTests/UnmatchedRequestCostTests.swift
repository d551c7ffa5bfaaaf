import Foundation
import Testing

@testable import FaultlineCore

/// A 404 costs little: the explanation of an unmatched request weighs a bounded number of rules, found through the
/// rule indexes, however many rules the scenario has (docs/security.md, "Rules that cannot stall the server").
@Suite("The cost of an unmatched request")
struct UnmatchedRequestCostTests {
    /// A scenario of `count` rules, as a large generated scenario looks: exact paths under one prefix, a glob per ten.
    static func largeScenario(_ count: Int) throws -> RuleEngine {
        var yaml = "version: 1\nrules:\n"
        for index in 0..<count {
            if index % 10 == 9 {
                yaml += "  - {name: r\(index), method: GET, path: /api/v1/group\(index)/*/details, status: 200}\n"
            } else {
                yaml += "  - {name: r\(index), method: GET, path: /api/v1/items\(index)/details, status: 200}\n"
            }
        }
        return try engine(yaml)
    }

    /// Decisions per second for `request`, measured over about `seconds`.
    static func rate(_ engine: RuleEngine, _ request: IncomingRequest, seconds: Double = 1) -> Double {
        let clock = ContinuousClock()
        let start = clock.now
        var count = 0
        while true {
            for _ in 0..<10 { _ = engine.decide(request) }
            count += 10
            let elapsed = clock.now - start
            if elapsed >= .seconds(seconds) {
                return Double(count)
                    / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
            }
        }
    }

    @Test func a404AtAThousandRulesWeighsAFewRulesNotAll() throws {
        let engine = try Self.largeScenario(1000)
        for path in ["/api/v1/itemz500/details", "/nothing", "/api/v1/items500/detail", "/api/v2/x", "/"] {
            let request = request(path)
            let weighed = engine.explanationRules(for: request, candidates: [])
            #expect(weighed.count <= RuleEngine.explanationLimit, "\(path)")
            #expect(weighed.count == RuleEngine.neighbourLimit, "\(path): only the rules nearest the path")
            #expect(engine.decide(request).response.status == 404)
        }
        // The nearest rule is among them, and named first.
        let text = engine.decide(request("/api/v1/items500/detail")).bodyText
        #expect(
            text.components(separatedBy: "\n- ").dropFirst().first?.hasPrefix("r500 (s.yaml:503:5): the path") ?? false,
            "\(text)"
        )
    }

    @Test func aScenarioOfTenThousandRulesWithoutLiteralPathsWeighsAtMostTheLimit() throws {
        var yaml = "version: 1\nrules:\n"
        for index in 0..<10_000 { yaml += "  - {match: {headers: {X-Id: '\(index)'}}, status: 200}\n" }
        let engine = try engine(yaml)
        let unmatched = request("/x", headers: [HeaderField("X-Id", "none")])
        let weighed = engine.explanationRules(for: unmatched, candidates: Array(0..<10_000))
        #expect(weighed.count == RuleEngine.explanationLimit - RuleEngine.neighbourLimit)
        #expect(engine.decide(unmatched).response.status == 404)
    }

    @Test func aSmallScenarioHasEveryRuleWeighed() throws {
        let engine = try Self.largeScenario(RuleEngine.weighEveryRuleUpTo)
        #expect(
            engine.explanationRules(for: request("/nothing"), candidates: [])
                == Array(0..<RuleEngine.weighEveryRuleUpTo)
        )
    }

    @Test func methodMediaTypeAndAcceptDecisionsHoldInALargeScenario() throws {
        var yaml = "version: 1\nrules:\n"
        for index in 0..<2000 { yaml += "  - {method: GET, path: /filler/\(index)}\n" }
        yaml += "  - {method: PUT, path: /api/orders/*}\n"
        yaml += "  - {method: DELETE, pathRegex: '^/api/orders/[0-9]+$'}\n"
        yaml += "  - {method: POST, path: /api/upload, consumes: application/json}\n"
        yaml += "  - {method: GET, path: /api/report, produces: text/csv}\n"
        let engine = try engine(yaml)
        let notAllowed = engine.decide(request("/api/orders/7", method: "GET"))
        #expect(notAllowed.response.status == 405)
        #expect(notAllowed.response.allow == ["PUT", "DELETE"])
        let unsupported = engine.decide(
            IncomingRequest(
                method: "POST",
                target: "/api/upload",
                headers: [HeaderField("Content-Type", "text/plain"), HeaderField("Content-Length", "1")]
            )
        )
        #expect(unsupported.response.status == 415)
        #expect(
            engine.decide(request("/api/report", headers: [HeaderField("Accept", "application/json")])).response.status
                == 406
        )
        #expect(engine.decide(request("/api/orders/7", method: "BREW")).response.status == 501)
    }

    /// Not a timing assertion: prints the rates for the record and checks a generous floor.
    @Test func aThousandRulesMatchedAndUnmatchedRates() throws {
        let engine = try Self.largeScenario(1000)
        let matched = Self.rate(engine, request("/api/v1/items500/details"))
        let nearMiss = Self.rate(engine, request("/api/v1/itemz500/details"))
        let farMiss = Self.rate(engine, request("/nothing/like/it"))
        print(
            "1,000 rules, decisions per second: matched \(Int(matched)), 404 near a rule \(Int(nearMiss)), "
                + "404 far from all \(Int(farMiss))"
        )
        #expect(nearMiss * 100 > matched, "a 404 costs less than 100 matched requests")
    }
}
