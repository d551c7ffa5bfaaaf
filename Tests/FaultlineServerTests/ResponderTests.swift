import FaultlineCore
import Testing

@testable import FaultlineServer

/// The responders without a socket: a request in, what to send out.
@Suite("Responders")
struct ResponderTests {
    static let yaml = "version: 1\nrules:\n  - {name: ok, path: /ok, body: fine}\n"

    func control() throws -> ServerControl {
        let scenario = try ScenarioLoader.load(yaml: Self.yaml, name: "s.yaml", baseDirectory: "/tmp")
        return ServerControl(
            live: LiveScenario(RuleEngine(scenario: scenario)),
            source: .init(yaml: Self.yaml, baseDirectory: nil)
        )
    }

    @Test func theRulesAnswerWithTheirDecision() throws {
        let responders = ServerResponders(control: try self.control(), statistics: ServerStatistics())
        let head = IncomingRequest(method: "GET", target: "/ok", headers: [HeaderField("Host", "x")])
        let responder = responders.responder(for: head)
        #expect(!responder.mayBlock && !responder.readsBody && responder.isJournaled)
        let reply = responder.respond(to: ResponderRequest(head: head))
        #expect(reply.decision?.ruleLabel == "ok")
        #expect(reply.planning == .full)
        guard case .bytes(let body, _) = reply.response.body else {
            Issue.record("the rule's body")
            return
        }
        #expect(body == Array("fine".utf8))
    }

    @Test func theControlAPIAnswersPlainlyAndOnlyWhomItShould() throws {
        let responders = ServerResponders(control: try self.control(), statistics: ServerStatistics())
        let head = IncomingRequest(
            method: "GET",
            target: "/__faultline/health",
            headers: [HeaderField("Host", "localhost")]
        )
        let responder = responders.responder(for: head)
        #expect(responder.mayBlock && responder.readsBody && !responder.isJournaled)
        let reply = responder.respond(to: ResponderRequest(head: head, clientIsLoopback: true))
        #expect(reply.response.status == 200)
        #expect(reply.decision == nil)
        #expect(reply.planning == .plain)
        #expect(responder.respond(to: ResponderRequest(head: head, clientIsLoopback: false)).response.status == 403)

        // A control answer is not a representation: no validators, and Range and conditionals are ignored.
        let ranged = IncomingRequest(
            method: "GET",
            target: "/__faultline/health",
            headers: [
                HeaderField("Host", "localhost"), HeaderField("Range", "bytes=0-3"), HeaderField("If-None-Match", "*"),
            ]
        )
        let answer = responder.respond(to: ResponderRequest(head: ranged, clientIsLoopback: true))
        let plan = ResponsePlanner.plan(
            answer.response,
            for: ranged,
            date: "Fri, 04 Dec 2026 10:00:00 GMT",
            mode: answer.planning
        )
        #expect(plan.status == 200)
        #expect(!plan.headers.contains(named: "ETag"))
        #expect(!plan.headers.contains(named: "Last-Modified"))
        #expect(!plan.headers.contains(named: "Accept-Ranges"))
        #expect(!plan.headers.contains(named: "Content-Range"))
    }
}
