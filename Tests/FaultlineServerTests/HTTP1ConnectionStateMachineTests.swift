import FaultlineCore
import NIOCore
import NIOHTTP1
import Testing

@testable import FaultlineServer

/// The connection's decisions without a socket: events in, actions out, time from a clock of the test's own.
@Suite("HTTP/1.1 connection state machine")
struct HTTP1ConnectionStateMachineTests {
    typealias Machine = HTTP1ConnectionStateMachine

    /// A test clock: seconds since an arbitrary start.
    static func at(_ seconds: Double) -> NIODeadline {
        .uptimeNanoseconds(1_000_000_000_000 + UInt64(seconds * 1e9))
    }

    static func machine(_ configure: (inout Limits) -> Void = { _ in }) -> Machine {
        var limits = Limits()
        limits.requestTimeout = .seconds(30)
        configure(&limits)
        return Machine(configuration: .init(limits: limits))
    }

    static func request(
        _ target: String,
        method: String = "GET",
        headers: [(String, String)] = [("Host", "x")],
        version: (Int, Int) = (1, 1),
        keepsBody: Bool = false
    ) -> Machine.Request {
        Machine.Request(
            head: IncomingRequest(
                method: method,
                target: target,
                headers: headers.map { HeaderField($0.0, $0.1) },
                version: version
            ),
            keepsBody: keepsBody,
            facts: RequestFacts(journalID: 0, journalGeneration: 0, receivedAt: 0, arrivedAt: .now(), isJournaled: true)
        )
    }

    /// The target of the request a `respond` action answers.
    static func responds(_ action: Machine.Action) -> String? {
        if case .respond(let request, _) = action { return request.head.target }
        return nil
    }

    static func refuses(_ action: Machine.Action) -> Int? {
        if case .refuse(let refusal, _) = action { return refusal.status }
        return nil
    }

    static func closes(_ action: Machine.Action) -> Machine.CloseKind? {
        if case .close(let kind) = action { return kind }
        return nil
    }

    static func schedules(_ action: Machine.Action) -> NIODeadline? {
        if case .scheduleTimer(let deadline) = action { return deadline }
        return nil
    }

    // MARK: - Pipelining and keep-alive

    @Test func pipelinedRequestsAreAnsweredOneAtATimeInOrder() {
        var machine = Self.machine()
        #expect(Self.schedules(machine.connected(now: Self.at(0))) == Self.at(30))
        #expect(Self.responds(machine.receivedHead(Self.request("/a"), now: Self.at(1))) == nil)
        #expect(Self.responds(machine.receivedEnd()) == "/a")
        _ = machine.receivedHead(Self.request("/b"), now: Self.at(1))
        #expect(Self.responds(machine.receivedEnd()) == nil, "/b waits behind /a")
        _ = machine.receivedHead(Self.request("/c"), now: Self.at(1))
        #expect(Self.responds(machine.receivedEnd()) == nil)
        #expect(
            Self.responds(machine.responseFinished(close: nil, closeAfter: false, now: Self.at(2), bytesReceived: 90))
                == "/b"
        )
        #expect(
            Self.responds(machine.responseFinished(close: nil, closeAfter: false, now: Self.at(3), bytesReceived: 90))
                == "/c"
        )
        // Idle again: the next head is due; the timer armed at the start fires and is moved on, not replaced per request.
        if case .none = machine.responseFinished(close: nil, closeAfter: false, now: Self.at(4), bytesReceived: 90) {
        } else {
            Issue.record("a keep-alive answer moves the deadline without a new timer")
        }
        #expect(Self.schedules(machine.timerFired(now: Self.at(30), bytesReceived: 90)) == Self.at(34))
        #expect(machine.requestsAnswered == 3)
    }

    @Test func aFullQueueStopsReadingUntilItDrains() {
        var machine = Self.machine()
        _ = machine.connected(now: Self.at(0))
        for index in 0...16 {
            _ = machine.receivedHead(Self.request("/\(index)"), now: Self.at(0))
            _ = machine.receivedEnd()
        }
        if case .none = machine.readRequested() {} else { Issue.record("16 queued requests stop reading") }
        guard
            case .respond(let next, let read) = machine.responseFinished(
                close: nil,
                closeAfter: false,
                now: Self.at(1),
                bytesReceived: 0
            )
        else {
            Issue.record("the next request is answered")
            return
        }
        #expect(next.head.target == "/1")
        #expect(read, "the read held back goes on once there is room")
    }

    @Test func connectionCloseAndTheServerStoppingCloseAfterTheAnswer() {
        var machine = Self.machine()
        _ = machine.connected(now: Self.at(0))
        _ = machine.receivedHead(
            Self.request("/a", headers: [("Host", "x"), ("Connection", "close")]),
            now: Self.at(0)
        )
        _ = machine.receivedEnd()
        #expect(
            Self.closes(machine.responseFinished(close: nil, closeAfter: true, now: Self.at(1), bytesReceived: 10))
                == .fin
        )

        var stopping = Self.machine()
        _ = stopping.connected(now: Self.at(0))
        _ = stopping.receivedHead(Self.request("/a"), now: Self.at(0))
        _ = stopping.receivedEnd()
        _ = stopping.quiesce(responseIsHanging: false)
        #expect(stopping.closesAfterResponse, "the plan says Connection: close")
        #expect(
            Self.closes(stopping.responseFinished(close: nil, closeAfter: true, now: Self.at(1), bytesReceived: 10))
                == .fin
        )
    }

    @Test func aFaultThatEndsTheConnectionClosesItAsTheWriterSays() {
        var machine = Self.machine()
        _ = machine.connected(now: Self.at(0))
        _ = machine.receivedHead(Self.request("/reset"), now: Self.at(0))
        _ = machine.receivedEnd()
        _ = machine.receivedHead(Self.request("/next"), now: Self.at(0))
        _ = machine.receivedEnd()
        #expect(
            Self.closes(machine.responseFinished(close: .reset, closeAfter: true, now: Self.at(1), bytesReceived: 10))
                == .reset
        )
        let left = machine.connectionClosed()
        #expect(left.map(\.request.head.target) == ["/next"])
        #expect(left.map(\.outcome) == [.dropped], "the server cut the connection: the queued request was dropped")
    }

    // MARK: - Timeouts

    @Test func aSlowHeadGets408AndAnIdleKeepAliveConnectionClosesQuietly() {
        var slow = Self.machine()
        _ = slow.connected(now: Self.at(0))
        #expect(
            Self.refuses(slow.timerFired(now: Self.at(30), bytesReceived: 7)) == 408,
            "a new connection that sent half a head"
        )

        var silent = Self.machine()
        _ = silent.connected(now: Self.at(0))
        #expect(
            Self.refuses(silent.timerFired(now: Self.at(30), bytesReceived: 0)) == 408,
            "nothing at all on a new connection"
        )

        var idle = Self.machine()
        _ = idle.connected(now: Self.at(0))
        _ = idle.receivedHead(Self.request("/a"), now: Self.at(1))
        _ = idle.receivedEnd()
        _ = idle.responseFinished(close: nil, closeAfter: false, now: Self.at(2), bytesReceived: 40)
        #expect(Self.schedules(idle.timerFired(now: Self.at(30), bytesReceived: 40)) == Self.at(32))
        #expect(
            Self.closes(idle.timerFired(now: Self.at(32), bytesReceived: 40)) == .fin,
            "idle after an answer: no 408"
        )

        var partial = Self.machine()
        _ = partial.connected(now: Self.at(0))
        _ = partial.receivedHead(Self.request("/a"), now: Self.at(1))
        _ = partial.receivedEnd()
        _ = partial.responseFinished(close: nil, closeAfter: false, now: Self.at(2), bytesReceived: 40)
        _ = partial.timerFired(now: Self.at(30), bytesReceived: 40)
        #expect(
            Self.refuses(partial.timerFired(now: Self.at(32), bytesReceived: 45)) == 408,
            "part of a next head arrived"
        )
    }

    @Test func aBodyThatStallsAfterTheHeadGets408() {
        var machine = Self.machine()
        _ = machine.connected(now: Self.at(0))
        let upload = Self.request("/up", method: "POST", headers: [("Host", "x"), ("Content-Length", "100")])
        if case .none = machine.receivedHead(upload, now: Self.at(1)) {
        } else {
            Issue.record("the armed timer covers the body")
        }
        _ = machine.receivedBody(ByteBuffer(string: "0123456789"), now: Self.at(5))
        // The timer armed for the head fires early and moves to the body's deadline, which moved with each part.
        #expect(Self.schedules(machine.timerFired(now: Self.at(30), bytesReceived: 60)) == Self.at(35))
        guard case .refuse(let refusal, _) = machine.timerFired(now: Self.at(35), bytesReceived: 60) else {
            Issue.record("a stalled body is refused")
            return
        }
        #expect(refusal.status == 408)
        #expect(refusal.request?.head.target == "/up")
        #expect(refusal.request?.bodyBytes == 10)
        #expect(refusal.message == "the request body stalled: nothing arrived for 30s")

        var complete = Self.machine()
        _ = complete.connected(now: Self.at(0))
        _ = complete.receivedHead(upload, now: Self.at(1))
        _ = complete.receivedBody(ByteBuffer(string: String(repeating: "x", count: 100)), now: Self.at(2))
        #expect(Self.responds(complete.receivedEnd()) == "/up")
        if case .none = complete.timerFired(now: Self.at(30), bytesReceived: 200) {
        } else {
            Issue.record("a body that arrived whole leaves no deadline while the answer is written")
        }
    }

    // MARK: - Refusals and lingering

    @Test func refusalsCloseAfterALingeringDrain() {
        var machine = Self.machine { $0.maxBodySize = 10 }
        _ = machine.connected(now: Self.at(0))
        let big = Self.request("/a", method: "POST", headers: [("Host", "x"), ("Content-Length", "11")])
        #expect(Self.refuses(machine.receivedHead(big, now: Self.at(1))) == 413)
        #expect(machine.closesAfterResponse)
        if case .none = machine.readRequested() {} else { Issue.record("a refused connection reads no more requests") }
        guard
            case .closeOutputAndLinger(let until) = machine.responseFinished(
                close: nil,
                closeAfter: true,
                now: Self.at(2),
                bytesReceived: 50
            )
        else {
            Issue.record("the client may send what it still has before the close")
            return
        }
        #expect(until == Self.at(4))
        if case .read = machine.readRequested() {} else { Issue.record("lingering reads and discards") }
        #expect(Self.closes(machine.timerFired(now: Self.at(4), bytesReceived: 500)) == .fin)
    }

    @Test func headsAreCheckedBeforeAnyRuleSeesThem() {
        for (request, status) in [
            (Self.request("/a", headers: []), 400),
            (Self.request("/a", headers: [("Host", "x"), ("Host", "y")]), 400),
            (Self.request("/a", version: (2, 0)), 505),
            (Self.request("/a", headers: [("Host", "x"), ("Expect", "tea")]), 417),
        ] {
            var machine = Self.machine()
            _ = machine.connected(now: Self.at(0))
            #expect(Self.refuses(machine.receivedHead(request, now: Self.at(0))) == status, "\(request.head.headers)")
        }
        var old = Self.machine()
        _ = old.connected(now: Self.at(0))
        _ = old.receivedHead(Self.request("/a", headers: [], version: (1, 0)), now: Self.at(0))
        #expect(Self.responds(old.receivedEnd()) == "/a", "HTTP/1.0 needs no Host")
    }

    @Test func aRefusalWaitsForTheAnswersBeforeIt() {
        var machine = Self.machine()
        _ = machine.connected(now: Self.at(0))
        _ = machine.receivedHead(Self.request("/a"), now: Self.at(0))
        _ = machine.receivedEnd()
        if case .none = machine.parseFailed(ParseFailure(status: 400, message: "bad")) {
        } else {
            Issue.record("queued behind /a")
        }
        #expect(
            Self.refuses(machine.responseFinished(close: nil, closeAfter: false, now: Self.at(1), bytesReceived: 0))
                == 400
        )
    }

    @Test func parserErrorsGetTheRightStatus() {
        #expect(ParseFailure.classify(.invalidVersion, bytes: Array("GET / HTTP/1.1\nHost: x\n\n".utf8)).status == 400)
        #expect(
            ParseFailure.classify(.invalidVersion, bytes: Array("GET / HTTP/2.0\r\nHost: x\r\n\r\n".utf8)).status == 505
        )
        #expect(ParseFailure.classify(.headerOverflow, bytes: nil).status == 431)
        #expect(ParseFailure.classify(.invalidMethod, bytes: nil).status == 501)
        #expect(ParseFailure.classify(.invalidHeaderToken, bytes: nil).status == 400)
    }

    // MARK: - 100-continue

    @Test func expectContinueAsksTheRuleBeforeTheBody() {
        var machine = Self.machine()
        _ = machine.connected(now: Self.at(0))
        let upload = Self.request(
            "/up",
            method: "POST",
            headers: [("Host", "x"), ("Content-Length", "5"), ("Expect", "100-continue")]
        )
        guard case .decideEarly = machine.receivedHead(upload, now: Self.at(0)) else {
            Issue.record("the rule is asked before the body")
            return
        }
        let welcome = Reply(Decision(kind: .rule, ruleLabel: "up", response: ResolvedResponse(status: 201)))
        if case .sendContinue = machine.earlyReply(welcome) {} else { Issue.record("100 Continue goes out") }
        _ = machine.receivedBody(ByteBuffer(string: "hello"), now: Self.at(0))
        guard case .respond(let answered, _) = machine.receivedEnd() else {
            Issue.record("the request is answered with the reply decided early")
            return
        }
        #expect(answered.earlyReply?.decision?.ruleLabel == "up")
        #expect(answered.bodyBytes == 5)

        var refusing = Self.machine()
        _ = refusing.connected(now: Self.at(0))
        _ = refusing.receivedHead(upload, now: Self.at(0))
        let denied = Reply(Decision(kind: .unauthorized, ruleLabel: "up", response: ResolvedResponse(status: 401)))
        #expect(Self.responds(refusing.earlyReply(denied)) == "/up", "answered at once, without the body")
        #expect(refusing.closesAfterResponse, "the unread body means no other request can follow")
    }

    // MARK: - Half-close, stop, reset

    @Test func aClientThatLeavesWhileItsAnswerWaitsHasGivenUp() {
        var waiting = Self.machine()
        _ = waiting.connected(now: Self.at(0))
        _ = waiting.receivedHead(Self.request("/slow"), now: Self.at(0))
        _ = waiting.receivedEnd()
        guard case .abortResponse(let outcome, .fin) = waiting.inputClosed(responseIsWaiting: true) else {
            Issue.record("a client gone during a delay ends the exchange")
            return
        }
        #expect(outcome == .clientClosed)

        var sending = Self.machine()
        _ = sending.connected(now: Self.at(0))
        _ = sending.receivedHead(Self.request("/big"), now: Self.at(0))
        _ = sending.receivedEnd()
        if case .none = sending.inputClosed(responseIsWaiting: false) {
        } else {
            Issue.record("a half-closed client still gets its answer")
        }
        #expect(
            Self.closes(sending.responseFinished(close: nil, closeAfter: false, now: Self.at(1), bytesReceived: 0))
                == .fin
        )
    }

    @Test func stoppingEndsAHangAndAResetEndsWhatWaits() {
        var hanging = Self.machine()
        _ = hanging.connected(now: Self.at(0))
        _ = hanging.receivedHead(Self.request("/hang"), now: Self.at(0))
        _ = hanging.receivedEnd()
        guard case .abortResponse(.dropped, .fin) = hanging.quiesce(responseIsHanging: true) else {
            Issue.record("a hang ends when the server stops")
            return
        }

        var idle = Self.machine()
        _ = idle.connected(now: Self.at(0))
        #expect(Self.closes(idle.quiesce(responseIsHanging: false)) == .fin)

        var delayed = Self.machine()
        _ = delayed.connected(now: Self.at(0))
        _ = delayed.receivedHead(Self.request("/slow"), now: Self.at(0))
        _ = delayed.receivedEnd()
        guard case .abortResponse(.dropped, .fin) = delayed.reset(responseIsWaiting: true) else {
            Issue.record("the control API's reset closes what waits")
            return
        }
    }

    @Test func whatNeverGotAnAnswerIsHandedBackAtTheClose() {
        var machine = Self.machine()
        _ = machine.connected(now: Self.at(0))
        _ = machine.receivedHead(Self.request("/a"), now: Self.at(0))
        _ = machine.receivedEnd()
        _ = machine.receivedHead(Self.request("/b"), now: Self.at(0))
        _ = machine.receivedEnd()
        _ = machine.receivedHead(
            Self.request("/c", method: "POST", headers: [("Host", "x"), ("Content-Length", "9")]),
            now: Self.at(0)
        )
        let left = machine.connectionClosed()
        #expect(left.map(\.request.head.target) == ["/b", "/c"])
        #expect(left.map(\.outcome) == [.clientClosed, .clientClosed])
    }
}
