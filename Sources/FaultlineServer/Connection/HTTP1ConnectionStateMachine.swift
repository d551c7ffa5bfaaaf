import FaultlineCore
import Foundation
import NIOCore
import NIOHTTP1

/// The life of one HTTP/1.1 connection, decided without a socket: which request is answered next (pipelined ones wait
/// their turn, in order), what is refused before any rule sees it (limits, versions, `Expect`, a missing `Host`),
/// when `100 Continue` goes out, how long a request head or body may take (408), whether the connection stays open
/// after an answer (keep-alive, `Connection: close`, HTTP/1.0), and how it closes (at once, after a lingering
/// drain, or when the client half-closes).
///
/// The channel handler feeds it events and carries out the action each returns; time comes in with the events, so
/// tests drive it with a clock of their own.
struct HTTP1ConnectionStateMachine {
    /// What the connection is held to.
    struct Configuration {
        var limits: Limits
        /// How many complete requests may wait behind the one being answered before reading stops.
        var maxQueuedRequests = 16
        /// How long a refused client may keep sending before the connection is closed for good.
        var lingerTime: TimeAmount = .seconds(2)
        /// The listener's TLS fault is `close-without-notify`: every close goes below TLS.
        var closesWithoutNotify = false
        /// The listener speaks HTTP/2 in plaintext: a request with `Upgrade: h2c` switches the connection to it.
        var acceptsH2CUpgrade = false
    }

    /// A request as the connection knows it; `facts` is the handler's own bookkeeping, carried along untouched. A
    /// reference: it travels through the actions, the queue and the exchange record without being copied.
    final class Request {
        let head: IncomingRequest
        /// Request body bytes received.
        var bodyBytes: Int64 = 0
        /// The body, kept only for responders that read bodies.
        var body: [UInt8] = []
        /// Whether `body` is kept.
        let keepsBody: Bool
        /// The reply decided before the body (`Expect: 100-continue`, or a body that may go to an upstream).
        var earlyReply: Reply?
        var facts: RequestFacts
        /// The body may have to go on to an upstream as it arrives (the scenario has `proxy` rules): the reply is
        /// asked for when the request's turn comes, before its body ends, and what arrives of the body before that
        /// is kept (reading stops while it waits its turn, so that is at most one read).
        var mayForwardBody = false
        /// The body goes on to the upstream as it arrives: parts are forwarded, not kept (`body` holds what came
        /// before, until the upstream request takes it).
        var isForwarding = false

        init(head: IncomingRequest, keepsBody: Bool, facts: RequestFacts) {
            self.head = head
            self.keepsBody = keepsBody
            self.facts = facts
        }
    }

    /// A refusal decided before any responder saw the request.
    struct Refusal {
        var status: Int
        var message: String
        /// The request refused, when there is one (a timeout before any head has none).
        var request: Request?
    }

    /// How the connection closes.
    enum CloseKind: Equatable {
        /// A normal close (FIN), or with `close-without-notify` one below TLS.
        case fin
        /// An abortive close (TCP RST).
        case reset
    }

    /// What the handler does next.
    enum Action {
        case none
        /// Pass a read on to the channel.
        case read
        /// Ask the request's responder and write its reply; then pass a read on when `read`.
        case respond(Request, read: Bool)
        /// Ask the responder now, before the body (the client waits for `100 Continue`), then feed `earlyReply` in.
        case decideEarly(Request)
        /// Write `HTTP/1.1 100 Continue`.
        case sendContinue
        /// Write this refusal (the connection closes after it); then pass a read on when `read`.
        case refuse(Refusal, read: Bool)
        /// Arm the connection's one timer for this deadline, replacing any earlier one.
        case scheduleTimer(NIODeadline)
        /// Close the connection.
        case close(CloseKind)
        /// Close the output, then read and throw away what the client still sends until it closes or the timer
        /// (armed for the deadline) fires, as nginx's lingering close does.
        case closeOutputAndLinger(until: NIODeadline)
        /// End the response in flight now, journaled with `outcome`, and close.
        case abortResponse(JournalEntry.Outcome, CloseKind)
        /// Answer `101 Switching Protocols` and carry on in HTTP/2, where this request is stream 1.
        case upgradeToHTTP2(Request)

        // MARK: Bodies forwarded to an upstream

        /// Several actions, in order.
        case all([Action])
        /// Answer `request`, whose body goes on to the upstream as it arrives (`request.body` is what came so far):
        /// first write `100 Continue` when `sendContinue`; then pass a read on when `read`.
        case respondForwarding(Request, sendContinue: Bool, read: Bool)
        /// Forward this part of the body to the upstream, or its end.
        case forward(Forwarded)
    }

    /// What goes on to the upstream of a forwarded body.
    enum Forwarded {
        /// A part of the body.
        case part(ByteBuffer)
        /// The body is complete.
        case end
    }

    /// What the timer is waiting for.
    private enum Wait {
        /// The next request head, since this moment's byte count (an idle keep-alive connection is closed quietly).
        case head(NIODeadline, bytesAtStart: Int64, afterAnswer: Bool)
        /// More of the current request's body.
        case body(NIODeadline)
        /// The end of a lingering close.
        case linger(NIODeadline)

        var deadline: NIODeadline {
            switch self {
            case .head(let deadline, _, _), .body(let deadline), .linger(let deadline): deadline
            }
        }
    }

    /// What waits for its turn.
    private enum Queued {
        case request(Request)
        case refusal(Refusal)
    }

    let configuration: Configuration
    /// The request whose head has arrived but not its end.
    private var receiving: Request?
    /// Complete requests (or a refusal) waiting behind the one in flight.
    private var queue = CircularBuffer<Queued>(initialCapacity: 2)
    /// A response is being written.
    private var responding = false
    /// A read the channel asked for while the queue was full.
    private var readPending = false
    /// Nothing more is read: a request was refused or malformed, or it switched protocols.
    private var stoppedReading = false
    /// The client shut down its sending side.
    private var inputClosed = false
    /// The server is shutting down.
    private var quiescing = false
    private var lingering = false
    private var closed = false
    /// The server, not the client, ended the connection.
    private(set) var closedByServer = false
    /// The server's grace period ran out while the connection was open.
    private var graceEnded = false
    /// Requests answered so far.
    private(set) var requestsAnswered = 0
    private var wait: Wait?
    /// The deadline the handler's timer is armed for, if armed.
    private var armed: NIODeadline?
    /// The upstream has not taken the forwarded body so far: the client is not read meanwhile.
    private var forwardingHeld = false
    /// A request whose body may go upstream has arrived on this connection: only then are the forwarding checks
    /// made (they look into the request being received, which a connection of a scenario without proxies need not).
    private var mayForwardBodies = false

    init(configuration: Configuration) {
        self.configuration = configuration
    }

    /// Whether the current request's body is on its way to an upstream, not yet complete.
    var isForwardingBody: Bool {
        self.mayForwardBodies && self.receiving?.isForwarding == true
    }

    /// Whether the connection will close after the response being planned: the planner says `Connection: close`.
    var closesAfterResponse: Bool {
        // An answer planned while the body still goes upstream (the upstream answered first) ends the connection:
        // the rest of the body is not read.
        self.quiescing || self.stoppedReading || self.configuration.closesWithoutNotify || self.isForwardingBody
    }

    // MARK: - Events

    /// The connection is open: a head is due within `requestTimeout`.
    mutating func connected(now: NIODeadline) -> Action {
        self.waitForHead(now: now, bytes: 0, afterAnswer: false)
    }

    /// A request head arrived.
    mutating func receivedHead(_ request: Request, now: NIODeadline) -> Action {
        guard !self.stoppedReading, !self.lingering, !self.closed else { return .none }
        if case .head = self.wait { self.wait = nil }
        let head = request.head
        var limits = self.configuration.limits
        // A body that may go upstream is not kept, so `maxBodySize` waits until the reply says it stays here.
        if request.mayForwardBody {
            limits.maxBodySize = .max
            self.mayForwardBodies = true
        }
        switch RequestAdmission.verdict(head, headerBytes: RequestAdmission.headerBytes(head.headers), limits: limits) {
        case .refuse(let status, let message):
            return self.refuse(status, message, request)
        case .admit where request.mayForwardBody && head.hasBody,
            .decideBeforeBody where request.mayForwardBody && head.hasBody:
            // Its body may go upstream: the reply is asked for at its turn, before the body ends.
            self.receiving = request
            let timer = self.waitForBody(now: now)
            guard !self.responding, self.queue.isEmpty else { return timer }
            return .all([timer, .decideEarly(request)])
        case .decideBeforeBody where !self.responding && self.queue.isEmpty && !request.keepsBody:
            // The rule is chosen now, before the body, when nothing is answered ahead of this request.
            self.receiving = request
            return .decideEarly(request)
        case .admit, .decideBeforeBody:
            self.receiving = request
            if head.hasBody { return self.waitForBody(now: now) }
            return .none
        }
    }

    /// The reply decided before the body for the request being received (`Expect: 100-continue`).
    mutating func earlyReply(_ reply: Reply) -> Action {
        guard let request = self.receiving else { return .none }
        request.earlyReply = reply
        var read = false
        if request.mayForwardBody {
            if reply.response.proxy != nil { return self.startForwarding(request) }
            // Answered by Faultline itself: the body is read to its end and not kept, as for any rule.
            request.mayForwardBody = false
            request.body = []
            read = self.readPending
            self.readPending = false
            if let length = request.head.headers.first(named: "Content-Length").flatMap({ Int64($0) }),
                length > self.configuration.limits.maxBodySize
            {
                let message =
                    "the request body is larger than \(ByteCount.format(self.configuration.limits.maxBodySize))"
                self.receiving = request
                return self.refuse(413, message, request)
            }
            guard request.head.expectsContinue, request.bodyBytes == 0 else {
                self.receiving = request
                return read ? .read : .none
            }
        }
        switch reply.response.earlyAnswer {
        case .askForBody:
            self.receiving = request
            return read ? .all([.sendContinue, .read]) : .sendContinue
        case .hangWithoutBody:
            // Reading goes on, to see the client leave.
            self.receiving = nil
            self.responding = true
            return .respond(request, read: read)
        case .answerWithoutBody:
            // The body is never read, so the connection cannot carry another request.
            self.receiving = nil
            self.stoppedReading = true
            self.clearBodyWait()
            return self.startResponding(request)
        }
    }

    /// Part of the current request's body arrived.
    mutating func receivedBody(_ bytes: ByteBuffer, now: NIODeadline) -> Action {
        guard !self.stoppedReading, !self.lingering, let request = self.receiving else { return .none }
        request.bodyBytes += Int64(bytes.readableBytes)
        if request.isForwarding, self.mayForwardBodies {
            // On its way upstream: counted, not kept; `maxBodySize` bounds what Faultline keeps, and this is not kept.
            if case .body = self.wait { self.wait = .body(now + self.timeout) }
            return .forward(.part(bytes))
        }
        guard request.bodyBytes <= self.configuration.limits.maxBodySize else {
            let message = "the request body is larger than \(ByteCount.format(self.configuration.limits.maxBodySize))"
            return self.refuse(413, message, request)
        }
        if request.keepsBody || self.keepsUndecidedBody {
            request.body.append(contentsOf: bytes.readableBytesView)
        }
        if case .body = self.wait {
            // The deadline moves with every part; the armed timer catches up when it fires.
            self.wait = .body(now + self.timeout)
        }
        return .none
    }

    /// The current request is complete.
    mutating func receivedEnd() -> Action {
        guard !self.stoppedReading, !self.lingering, !self.closed, let request = self.receiving else { return .none }
        self.receiving = nil
        self.clearBodyWait()
        if request.isForwarding { return .forward(.end) }
        if self.configuration.acceptsH2CUpgrade, !self.responding, self.queue.isEmpty, request.bodyBytes == 0,
            request.head.asksForH2C
        {
            self.closed = true
            self.wait = nil
            return .upgradeToHTTP2(request)
        }
        // After CONNECT or an Upgrade request NIO's parser reads nothing more; the answer closes the connection.
        if request.head.asksToSwitchProtocols { self.stoppedReading = true }
        if !self.responding, self.queue.isEmpty {
            return self.startResponding(request)
        }
        self.queue.append(.request(request))
        return .none
    }

    /// The request could not be parsed.
    mutating func parseFailed(_ failure: ParseFailure) -> Action {
        guard !self.lingering, !self.stoppedReading, !self.closed else { return .none }
        if self.isForwardingBody {
            // A body that breaks on its way upstream ends the exchange and the connection.
            self.receiving = nil
            self.closed = true
            self.closedByServer = true
            return .abortResponse(.dropped, .fin)
        }
        return self.refuse(failure.status, failure.message, self.receiving)
    }

    /// The channel asks for more input.
    mutating func readRequested() -> Action {
        if self.lingering { return .read }
        if self.stoppedReading || self.closed { return .none }
        if self.forwardingHeld || self.waitsForItsTurn {
            self.readPending = true
            return .none
        }
        if self.queue.count >= self.configuration.maxQueuedRequests {
            self.readPending = true
            return .none
        }
        return .read
    }

    /// The response in flight is over. `close` is how the writer ended it when it ended the connection too (a fault);
    /// `closeAfter` is the plan's `Connection: close`.
    mutating func responseFinished(
        close: CloseKind?,
        closeAfter: Bool,
        now: NIODeadline,
        bytesReceived: Int64
    ) -> Action {
        guard self.responding else { return .none }
        self.responding = false
        self.requestsAnswered += 1
        if self.closed { return .none }
        if let close {
            return self.closeNow(close)
        }
        if self.isForwardingBody {
            // The upstream answered before the client finished its body: the rest is not read, and the connection
            // ends after a lingering close (a plain close could reset the answer the client is reading).
            self.receiving = nil
            self.stoppedReading = true
            self.forwardingHeld = false
            return self.lingerAfterUnreadBody(now: now)
        }
        if closeAfter {
            if self.stoppedReading && !self.inputClosed && !self.configuration.closesWithoutNotify {
                self.lingering = true
                self.receiving = nil
                let until = now + self.configuration.lingerTime
                self.wait = .linger(until)
                self.armed = until
                return .closeOutputAndLinger(until: until)
            }
            return self.closeNow(.fin)
        }
        if let next = self.queue.popFirst() {
            let read = self.readPending && self.queue.count < self.configuration.maxQueuedRequests
            if read { self.readPending = false }
            switch next {
            case .request(let request):
                self.responding = true
                return .respond(request, read: read)
            case .refusal(let refusal):
                self.responding = true
                return .refuse(refusal, read: read)
            }
        }
        if self.shouldCloseWhenIdle { return self.closeNow(.fin) }
        if self.receiving == nil {
            return self.waitForHead(now: now, bytes: bytesReceived, afterAnswer: true)
        }
        if self.keepsUndecidedBody, let request = self.receiving {
            // A request whose body may go upstream waited for its turn: ask for its reply now.
            return .decideEarly(request)
        }
        return .none
    }

    /// The lingering close after an answer that came before the forwarded body ended.
    private mutating func lingerAfterUnreadBody(now: NIODeadline) -> Action {
        if self.inputClosed || self.configuration.closesWithoutNotify { return self.closeNow(.fin) }
        self.lingering = true
        let until = now + self.configuration.lingerTime
        self.wait = .linger(until)
        self.armed = until
        return .closeOutputAndLinger(until: until)
    }

    /// The timer fired.
    mutating func timerFired(now: NIODeadline, bytesReceived: Int64) -> Action {
        self.armed = nil
        guard let wait = self.wait, !self.closed else { return .none }
        if wait.deadline > now {
            // The deadline moved on since the timer was armed.
            self.armed = wait.deadline
            return .scheduleTimer(wait.deadline)
        }
        self.wait = nil
        switch wait {
        case .linger:
            return self.closeNow(.fin)
        case .head(_, let bytesAtStart, let afterAnswer):
            guard !self.responding, self.queue.isEmpty, !self.stoppedReading else { return .none }
            // An idle keep-alive connection is closed quietly, as nginx's keepalive_timeout does: a 408 there could
            // be read as the answer to a request the client sends at that moment.
            if afterAnswer, bytesReceived == bytesAtStart, self.receiving == nil {
                return self.closeNow(.fin)
            }
            let message =
                "no complete request head arrived within \(DurationSyntax.format(self.configuration.limits.requestTimeout))"
            return self.refuse(408, message, nil)
        case .body where self.forwardingHeld || self.waitsForItsTurn:
            // The client is not read while the upstream catches up, or while the request waits for its turn: that
            // is no stall of the client's.
            let deadline = now + self.timeout
            self.wait = .body(deadline)
            self.armed = deadline
            return .scheduleTimer(deadline)
        case .body where self.isForwardingBody:
            // The client stopped sending a body that was on its way upstream: the exchange ends with the connection.
            self.receiving = nil
            self.closed = true
            self.closedByServer = true
            return .abortResponse(.timeout, .fin)
        case .body:
            guard let request = self.receiving else { return .none }
            let message =
                "the request body stalled: nothing arrived for \(DurationSyntax.format(self.configuration.limits.requestTimeout))"
            return self.refuse(408, message, request)
        }
    }

    /// The upstream has not yet taken the body forwarded so far (`true`), or has taken it all (`false`): the client
    /// is read only while it keeps up.
    mutating func forwardingHeld(_ held: Bool) -> Action {
        self.forwardingHeld = held
        guard !held, self.readPending, !self.waitsForItsTurn, !self.stoppedReading, !self.closed else { return .none }
        self.readPending = false
        return .read
    }

    /// The client shut down its sending side. `responseIsWaiting`: the response in flight has not started, or is
    /// held by a delay, a pause or a hang.
    mutating func inputClosed(responseIsWaiting: Bool) -> Action {
        self.inputClosed = true
        if self.lingering { return self.closeNow(.fin) }
        // A client that closes while its response waits out a delay or a hang has given up, as nginx judges it
        // (499): drop the pending work now rather than answer nobody later. Otherwise answer what it asked for.
        if self.responding, responseIsWaiting {
            self.closed = true
            return .abortResponse(.clientClosed, .fin)
        }
        return self.closeIfIdle()
    }

    /// The server is stopping. `responseIsHanging`: the response in flight is a hang, which never ends by itself.
    mutating func quiesce(responseIsHanging: Bool) -> Action {
        self.quiescing = true
        if self.responding, responseIsHanging {
            self.closed = true
            self.closedByServer = true
            return .abortResponse(.dropped, .fin)
        }
        return self.closeIfIdle()
    }

    /// The server's grace period ran out: whatever is left is the server's own cut, journaled `dropped`.
    mutating func gracePeriodEnded() -> Action {
        self.quiescing = true
        self.closedByServer = true
        self.graceEnded = true
        guard !self.closed else { return .none }
        if self.responding {
            self.closed = true
            return .abortResponse(.dropped, .fin)
        }
        return self.closeNow(.fin)
    }

    /// The control API's reset: a response held back by a delay, a pause or a hang is closed.
    mutating func reset(responseIsWaiting: Bool) -> Action {
        guard self.responding, responseIsWaiting, !self.closed else { return .none }
        self.closed = true
        self.closedByServer = true
        return .abortResponse(.dropped, .fin)
    }

    /// The connection closed. Returns what never got an answer, with how each ended, for the journal.
    mutating func connectionClosed() -> [(request: Request, outcome: JournalEntry.Outcome)] {
        self.closed = true
        self.wait = nil
        let unanswered: JournalEntry.Outcome = self.closedByServer ? .dropped : .clientClosed
        var left: [(request: Request, outcome: JournalEntry.Outcome)] = []
        while let item = self.queue.popFirst() {
            switch item {
            case .request(let request): left.append((request, unanswered))
            case .refusal(let refusal): if let request = refusal.request { left.append((request, unanswered)) }
            }
        }
        // A body on its way upstream belongs to the exchange being answered, which is journaled as such.
        if let request = self.receiving, !request.isForwarding {
            // Half received: the client's, unless the server cut it at the end of its grace period.
            left.append((request, self.graceEnded ? .dropped : .clientClosed))
        }
        self.receiving = nil
        return left
    }

    // MARK: - Helpers

    /// A request whose body may go upstream arrived while another is answered: the client is not read until its
    /// turn, so what arrives of its body meanwhile stays small.
    private var waitsForItsTurn: Bool {
        self.keepsUndecidedBody && (self.responding || !self.queue.isEmpty)
    }

    /// The request being received may send its body upstream and has no reply yet: what arrives of the body is kept.
    private var keepsUndecidedBody: Bool {
        guard self.mayForwardBodies, self.receiving?.mayForwardBody == true else { return false }
        return self.receiving?.earlyReply == nil
    }

    /// Starts answering a request whose body goes on to the upstream as it arrives.
    private mutating func startForwarding(_ request: Request) -> Action {
        let read = self.readPending
        self.readPending = false
        let sendContinue = request.bodyBytes == 0 && request.head.expectsContinue
        // `body` keeps what came so far until the upstream request takes it; what follows is forwarded.
        request.isForwarding = true
        self.receiving = request
        self.responding = true
        return .respondForwarding(request, sendContinue: sendContinue, read: read)
    }

    private var timeout: TimeAmount {
        .nanoseconds(self.configuration.limits.requestTimeout.nanoseconds)
    }

    private var shouldCloseWhenIdle: Bool {
        (self.inputClosed || self.quiescing || self.stoppedReading) && (self.receiving == nil || self.inputClosed)
    }

    /// Closes when the client or the server wants it closed and nothing is left to answer.
    private mutating func closeIfIdle() -> Action {
        guard !self.responding, self.queue.isEmpty, self.shouldCloseWhenIdle, !self.closed else { return .none }
        return self.closeNow(.fin)
    }

    private mutating func closeNow(_ kind: CloseKind) -> Action {
        self.closed = true
        self.closedByServer = true
        self.wait = nil
        return .close(kind)
    }

    private mutating func startResponding(_ request: Request) -> Action {
        self.responding = true
        return .respond(request, read: false)
    }

    /// Stops reading and answers the refusal after what is ahead of it; the connection closes after it.
    private mutating func refuse(_ status: Int, _ message: String, _ request: Request?) -> Action {
        self.stoppedReading = true
        self.receiving = nil
        self.wait = nil
        let refusal = Refusal(status: status, message: message, request: request)
        if !self.responding, self.queue.isEmpty {
            self.responding = true
            return .refuse(refusal, read: false)
        }
        self.queue.append(.refusal(refusal))
        return .none
    }

    private mutating func waitForHead(now: NIODeadline, bytes: Int64, afterAnswer: Bool) -> Action {
        let deadline = now + self.timeout
        self.wait = .head(deadline, bytesAtStart: bytes, afterAnswer: afterAnswer)
        return self.arm(deadline)
    }

    private mutating func waitForBody(now: NIODeadline) -> Action {
        let deadline = now + self.timeout
        self.wait = .body(deadline)
        return self.arm(deadline)
    }

    private mutating func clearBodyWait() {
        if case .body = self.wait { self.wait = nil }
    }

    /// Arms the timer only when none is armed, or one is armed for later: a request on a busy keep-alive connection
    /// moves a deadline, not a timer.
    private mutating func arm(_ deadline: NIODeadline) -> Action {
        if let armed = self.armed, armed <= deadline { return .none }
        self.armed = deadline
        return .scheduleTimer(deadline)
    }
}

extension IncomingRequest {
    /// Whether the request asks to upgrade to HTTP/2 in plaintext (RFC 7540 section 3.2): `Upgrade: h2c`, with
    /// `Connection: Upgrade, HTTP2-Settings` and one `HTTP2-Settings`, on HTTP/1.1, without a body.
    var asksForH2C: Bool {
        guard self.version == (1, 1), !self.hasBody else { return false }
        let connection = self.headers.values(named: "Connection")
        return self.headers.values(named: "Upgrade").contains { HTTPTokens.contains("h2c", in: $0) }
            && connection.contains { HTTPTokens.contains("upgrade", in: $0) }
            && connection.contains { HTTPTokens.contains("http2-settings", in: $0) }
            && self.headers.values(named: "HTTP2-Settings").count == 1
    }
}

/// Why a request could not be parsed, and the answer it gets.
struct ParseFailure: Equatable {
    var status: Int
    var message: String

    /// Classifies the parser's error; `bytes` are the bytes being decoded when it failed, when known, to tell a
    /// version Faultline does not speak (505) from lines ended by a bare LF (400), which llhttp reports alike.
    static func classify(_ error: HTTPParserError, bytes: [UInt8]?) -> ParseFailure {
        switch error {
        case .headerOverflow:
            return ParseFailure(status: 431, message: "the request head is too large")
        case .invalidMethod:
            return ParseFailure(status: 501, message: "the request's method is not implemented")
        case .invalidVersion where bytes.map(Self.hasBareLineFeed) ?? false:
            return ParseFailure(status: 400, message: "the request's lines must end with CRLF, not a bare LF")
        case .invalidVersion:
            return ParseFailure(status: 505, message: "only HTTP/1.1 and HTTP/1.0 are supported")
        default:
            return ParseFailure(status: 400, message: "the request is malformed (\(error))")
        }
    }

    /// Whether a line feed comes without the carriage return before it.
    static func hasBareLineFeed(_ bytes: [UInt8]) -> Bool {
        for index in bytes.indices where bytes[index] == UInt8(ascii: "\n") {
            if index == bytes.startIndex || bytes[index - 1] != UInt8(ascii: "\r") { return true }
        }
        return false
    }
}

/// What the handler notes of each request for the journal, carried with it through the state machine.
struct RequestFacts {
    /// The journal's id: requests are numbered as their heads arrive.
    var journalID: Int
    /// The journal's generation when the request arrived: a reset after that leaves it out of the journal.
    var journalGeneration: Int
    /// Wall-clock arrival, in seconds since 1970.
    var receivedAt: Double
    /// Monotonic arrival, for durations.
    var arrivedAt: NIODeadline
    /// Whether the exchange goes into the journal (the control API's do not).
    var isJournaled: Bool
    /// The HTTP/2 stream the request came on; `nil` on HTTP/1.x.
    var streamID: Int?

    /// The facts of a request arriving now: numbered in `journal` when it is journaled (the id and the generation
    /// read under one lock).
    static func arriving(isJournaled: Bool, journal: Journal) -> RequestFacts {
        let reserved = isJournaled ? journal.reserveIDAndGeneration() : (id: 0, generation: journal.generation)
        return RequestFacts(
            journalID: reserved.id,
            journalGeneration: reserved.generation,
            receivedAt: Date().timeIntervalSince1970,
            arrivedAt: .now(),
            isJournaled: isJournaled
        )
    }
}
