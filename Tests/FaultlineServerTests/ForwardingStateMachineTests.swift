import FaultlineCore
import NIOCore
import NIOHTTP1
import Testing

@testable import FaultlineServer

/// The connection's decisions for request bodies that may go on to an upstream (a scenario with `proxy` rules):
/// the reply is asked for when the request's turn comes, before its body ends; a proxied one gets the body as it
/// arrives, the client read only as fast as the upstream takes it; what Faultline answers itself reads the body as
/// before. No socket: events in, actions out, a clock of the test's own.
@Suite("HTTP/1.1 connection state machine: bodies forwarded upstream")
struct ForwardingStateMachineTests {
    typealias Machine = HTTP1ConnectionStateMachine
    typealias Tests = HTTP1ConnectionStateMachineTests

    static func upload(_ target: String = "/up", length: Int? = 10, headers: [(String, String)] = []) -> Machine.Request
    {
        var fields = [("Host", "x")] + headers
        if let length {
            fields.append(("Content-Length", String(length)))
        } else {
            fields.append(("Transfer-Encoding", "chunked"))
        }
        let request = Tests.request(target, method: "POST", headers: fields)
        request.mayForwardBody = true
        return request
    }

    static func proxied() throws -> Reply {
        var response = ResolvedResponse(status: 200)
        response.proxy = ProxySpec(upstream: try UpstreamURL.parse("http://127.0.0.1:9").get())
        return Reply(Decision(kind: .rule, ruleIndex: 0, ruleLabel: "proxy", response: response))
    }

    static func answered(status: Int = 200) -> Reply {
        Reply(Decision(kind: .rule, ruleIndex: 1, ruleLabel: "local", response: ResolvedResponse(status: status)))
    }

    /// The actions of `.all`, or the action alone.
    static func flattened(_ action: Machine.Action) -> [Machine.Action] {
        if case .all(let actions) = action { return actions.flatMap(Self.flattened) }
        return [action]
    }

    static func decidesEarly(_ action: Machine.Action) -> String? {
        for action in Self.flattened(action) {
            if case .decideEarly(let request) = action { return request.head.target }
        }
        return nil
    }

    static func forwards(_ action: Machine.Action) -> Int? {
        if case .forward(.part(let part)) = action { return part.readableBytes }
        return nil
    }

    static func reads(_ action: Machine.Action) -> Bool {
        Self.flattened(action).contains { if case .read = $0 { true } else { false } }
    }

    @Test func aProxiedBodyIsForwardedAsItArrives() throws {
        var machine = Tests.machine()
        _ = machine.connected(now: Tests.at(0))
        let head = machine.receivedHead(Self.upload(), now: Tests.at(0))
        #expect(Self.decidesEarly(head) == "/up", "the reply is asked for before the body")
        guard case .respondForwarding(let request, let sendContinue, _) = machine.earlyReply(try Self.proxied()) else {
            Issue.record("a proxied reply starts answering at once")
            return
        }
        #expect(request.head.target == "/up")
        #expect(!sendContinue)
        #expect(machine.isForwardingBody)
        #expect(machine.closesAfterResponse, "an answer planned while the body still goes up ends the connection")
        #expect(Self.forwards(machine.receivedBody(ByteBuffer(string: "hello"), now: Tests.at(1))) == 5)
        #expect(Self.forwards(machine.receivedBody(ByteBuffer(string: "world"), now: Tests.at(2))) == 5)
        guard case .forward(.end) = machine.receivedEnd() else {
            Issue.record("the end goes upstream too")
            return
        }
        #expect(!machine.isForwardingBody)
        #expect(!machine.closesAfterResponse)
        // The answer ends like any other: the connection stays open for the next request.
        #expect(
            Tests.schedules(
                machine.responseFinished(close: nil, closeAfter: false, now: Tests.at(3), bytesReceived: 100)
            ) == nil
        )
        #expect(Tests.responds(machine.receivedHead(Tests.request("/next"), now: Tests.at(4))) == nil)
        #expect(Tests.responds(machine.receivedEnd()) == "/next")
    }

    @Test func theClientIsReadOnlyAsFastAsTheUpstreamTakesTheBody() throws {
        var machine = Tests.machine()
        _ = machine.connected(now: Tests.at(0))
        _ = machine.receivedHead(Self.upload(length: nil), now: Tests.at(0))
        _ = machine.earlyReply(try Self.proxied())
        #expect(Self.reads(machine.readRequested()))
        _ = machine.forwardingHeld(true)
        #expect(!Self.reads(machine.readRequested()), "held: the read waits")
        // Not read meanwhile is no stall of the client's: the body timer is moved on, not a 408.
        #expect(Tests.schedules(machine.timerFired(now: Tests.at(30), bytesReceived: 0)) == Tests.at(60))
        #expect(Self.reads(machine.forwardingHeld(false)), "the read that waited goes on")
        // A client that really stops sending while its body goes up ends the exchange with its connection.
        guard case .abortResponse(.timeout, .fin) = machine.timerFired(now: Tests.at(61), bytesReceived: 0) else {
            Issue.record("a stalled forwarded body ends the exchange")
            return
        }
    }

    @Test func expectContinueIsAnsweredByFaultlineForAProxiedBody() throws {
        var machine = Tests.machine()
        _ = machine.connected(now: Tests.at(0))
        _ = machine.receivedHead(Self.upload(headers: [("Expect", "100-continue")]), now: Tests.at(0))
        guard case .respondForwarding(_, let sendContinue, _) = machine.earlyReply(try Self.proxied()) else {
            Issue.record("a proxied reply starts answering at once")
            return
        }
        #expect(sendContinue)
    }

    @Test func anAnswerOfFaultlinesOwnReadsTheBodyAsBefore() throws {
        var machine = Tests.machine()
        _ = machine.connected(now: Tests.at(0))
        _ = machine.receivedHead(Self.upload(), now: Tests.at(0))
        if case .none = machine.earlyReply(Self.answered()) {} else { Issue.record("the body is read on") }
        #expect(Self.forwards(machine.receivedBody(ByteBuffer(string: "0123456789"), now: Tests.at(1))) == nil)
        guard case .respond(let request, _) = machine.receivedEnd() else {
            Issue.record("answered once the body is in")
            return
        }
        #expect(request.earlyReply?.decision?.ruleLabel == "local")
        #expect(request.body.isEmpty, "nothing is kept for a rule that does not read bodies")
        #expect(request.bodyBytes == 10)
        // With Expect: 100-continue, the rule's early answer works as without proxy rules.
        var expecting = Tests.machine()
        _ = expecting.connected(now: Tests.at(0))
        _ = expecting.receivedHead(Self.upload(headers: [("Expect", "100-continue")]), now: Tests.at(0))
        if case .sendContinue = expecting.earlyReply(Self.answered()) {} else { Issue.record("100 Continue for a 200") }
        var refusing = Tests.machine()
        _ = refusing.connected(now: Tests.at(0))
        _ = refusing.receivedHead(Self.upload(headers: [("Expect", "100-continue")]), now: Tests.at(0))
        #expect(
            Tests.responds(refusing.earlyReply(Self.answered(status: 401))) == "/up",
            "a 401 answers without the body"
        )
    }

    @Test func maxBodySizeHoldsForBodiesFaultlineKeepsNotForThoseItForwards() throws {
        var machine = Tests.machine { $0.maxBodySize = 5 }
        _ = machine.connected(now: Tests.at(0))
        let head = machine.receivedHead(Self.upload(length: 1000), now: Tests.at(0))
        #expect(Self.decidesEarly(head) == "/up", "a large body that may go upstream is not refused at its head")
        _ = machine.earlyReply(try Self.proxied())
        #expect(Self.forwards(machine.receivedBody(ByteBuffer(repeating: 1, count: 1000), now: Tests.at(1))) == 1000)
        var local = Tests.machine { $0.maxBodySize = 5 }
        _ = local.connected(now: Tests.at(0))
        _ = local.receivedHead(Self.upload(length: 1000), now: Tests.at(0))
        #expect(
            Tests.refuses(local.earlyReply(Self.answered())) == 413,
            "a body Faultline answers itself is held to the limit"
        )
    }

    @Test func aBodyThatMayGoUpstreamWaitsForItsTurnWithoutBeingRead() throws {
        var machine = Tests.machine()
        _ = machine.connected(now: Tests.at(0))
        _ = machine.receivedHead(Tests.request("/first"), now: Tests.at(0))
        #expect(Tests.responds(machine.receivedEnd()) == "/first")
        let head = machine.receivedHead(Self.upload("/second"), now: Tests.at(0))
        #expect(Self.decidesEarly(head) == nil, "its turn has not come")
        #expect(!Self.reads(machine.readRequested()), "the client is not read while it waits")
        _ = machine.receivedBody(ByteBuffer(string: "abc"), now: Tests.at(1))
        // Waiting for its turn is no stall: the body's deadline (moved on by the part at 1 s) is moved on again.
        #expect(Tests.schedules(machine.timerFired(now: Tests.at(30), bytesReceived: 0)) == Tests.at(31))
        #expect(Tests.schedules(machine.timerFired(now: Tests.at(31), bytesReceived: 0)) == Tests.at(61))
        let turn = machine.responseFinished(close: nil, closeAfter: false, now: Tests.at(31), bytesReceived: 0)
        #expect(Self.decidesEarly(turn) == "/second")
        guard case .respondForwarding(let request, _, let read) = machine.earlyReply(try Self.proxied()) else {
            Issue.record("a proxied reply starts answering")
            return
        }
        #expect(request.body == Array("abc".utf8), "what arrived while it waited goes first")
        #expect(read, "the read that waited goes on")
        #expect(Self.forwards(machine.receivedBody(ByteBuffer(string: "defghij"), now: Tests.at(32))) == 7)
    }

    @Test func anUpstreamThatAnswersBeforeTheBodyEndsClosesTheConnectionAfterALinger() throws {
        var machine = Tests.machine()
        _ = machine.connected(now: Tests.at(0))
        _ = machine.receivedHead(Self.upload(length: 1 << 20), now: Tests.at(0))
        _ = machine.earlyReply(try Self.proxied())
        _ = machine.receivedBody(ByteBuffer(string: "part"), now: Tests.at(1))
        guard
            case .closeOutputAndLinger = machine.responseFinished(
                close: nil,
                closeAfter: false,
                now: Tests.at(2),
                bytesReceived: 0
            )
        else {
            Issue.record("the rest of the body is not read; the connection lingers, then closes")
            return
        }
        #expect(Self.forwards(machine.receivedBody(ByteBuffer(string: "more"), now: Tests.at(3))) == nil)
    }

    @Test func whatIsForwardedIsNotHandedBackAtTheClose() throws {
        var machine = Tests.machine()
        _ = machine.connected(now: Tests.at(0))
        _ = machine.receivedHead(Self.upload(), now: Tests.at(0))
        _ = machine.earlyReply(try Self.proxied())
        #expect(machine.connectionClosed().isEmpty, "the forwarding exchange is journaled as the one being answered")
    }
}
