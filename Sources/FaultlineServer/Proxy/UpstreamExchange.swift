import AsyncHTTPClient
import FaultlineCore
import NIOCore
import NIOHTTP1

/// One request forwarded to an upstream and its answer coming back, on the event loop of the client's connection:
/// the request's body goes up as it arrives from the client (the client is read only as fast as the upstream takes
/// it), the upstream's head is reported once, and its body fills `body`, which the writer drains (the upstream is
/// read only as fast as the client takes it). A head that does not come within the rule's `proxyTimeout` is a 504;
/// an upstream that cannot be reached, refuses TLS or breaks off before its head is a 502 with its cause.
///
/// Nothing here is HTTP/1: an HTTP/2 stream forwards a request the same way.
final class UpstreamExchange: HTTPClientResponseDelegate, NIOScheduledCallbackHandler, @unchecked Sendable {
    // @unchecked: every method runs on `eventLoop` (AsyncHTTPClient calls the delegate there, as asked with
    // `.delegate(on:)` or `.delegateAndChannel(on:)`), so its state is never touched from two threads.
    typealias Response = Void

    /// What the upstream answered, or why it did not.
    enum Answer {
        case head(UpstreamHead)
        case failed(UpstreamFailure)
    }

    let eventLoop: any EventLoop
    let spec: ProxySpec
    /// The URL the request goes to.
    let url: String
    /// The upstream's body, for the writer.
    let body: UpstreamBodySource
    /// What the journal says of the upstream; its status is set when the head arrives.
    private(set) var outcome: UpstreamOutcome

    private var onAnswer: ((Answer) -> Void)?
    private var task: HTTPClient.Task<Void>?
    /// The deadline of the upstream's head (`proxyTimeout`); the exchange is its handler.
    private var headTimer: NIOScheduledCallback?
    private let startedAt = NIODeadline.now()
    /// Why the exchange is being cancelled, when Faultline cancelled it.
    private var cancellation: UpstreamFailure?
    private var finished = false
    private var recording: RecordingTap?

    // MARK: Request body

    private var requestWriter: HTTPClient.Body.StreamWriter?
    /// Body pieces that arrived before the HTTP client asked for the body.
    private var pendingParts: [ByteBuffer] = []
    private var requestBodyEnded = false
    private var requestBodyDone: EventLoopPromise<Void>?
    private var writesInFlight = 0
    private var holdingClient = false
    /// Called with true when the client must not be read until the upstream takes what it has, false when it may be.
    var onRequestBodyPressure: ((Bool) -> Void)?

    init(spec: ProxySpec, target: String, eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
        self.spec = spec
        self.url = spec.upstream.url(for: target)
        let idle = TimeAmount.nanoseconds(spec.timeout.nanoseconds)
        self.body = UpstreamBodySource(eventLoop: eventLoop, idleTimeout: idle)
        self.outcome = UpstreamOutcome(url: self.url, status: nil, milliseconds: 0)
        self.body.onCancel = { [weak self] reason in
            self?.cancel(because: reason.map { UpstreamFailure.badGateway($0) })
        }
    }

    /// Sends the request. `body` is what the client sent of its body so far; `bodyIsComplete` says whether that is
    /// all of it (more comes through `sendBody` and `endBody` otherwise). `onAnswer` is called once.
    func start(
        request: IncomingRequest,
        body initial: [UInt8],
        bodyIsComplete: Bool,
        client upstream: UpstreamClient?,
        onAnswer: @escaping (Answer) -> Void
    ) {
        self.onAnswer = onAnswer
        guard let client = upstream?.httpClient() else {
            self.answer(.failed(.badGateway("the server is shutting down")))
            return
        }
        if !initial.isEmpty { self.pendingParts.append(ByteBuffer(bytes: initial)) }
        self.requestBodyEnded = bodyIsComplete
        let outgoing: HTTPClient.Request
        do {
            outgoing = try HTTPClient.Request(
                url: self.url,
                method: HTTPMethod(rawValue: request.method),
                headers: HTTPHeaders(
                    ProxyHeaders.forRequest(request.headers, upstream: self.spec.upstream).map { ($0.name, $0.value) }
                ),
                body: self.requestBody(for: request, follows: !bodyIsComplete || !initial.isEmpty),
                tlsConfiguration: self.spec.upstream.isTLS ? try upstream?.tlsConfiguration(for: self.spec.trust) : nil
            )
        } catch let error as HTTPClientError {
            self.answer(.failed(UpstreamFailure.classify(error)))
            return
        } catch {
            self.answer(.failed(.badGateway("the TLS settings cannot be made: \(error)")))
            return
        }
        self.recording = upstream?.recorder.map {
            RecordingTap(recording: $0, request: request, eventLoop: self.eventLoop, threadPool: upstream?.threadPool)
        }
        self.headTimer = try? self.eventLoop.scheduleCallback(
            in: .nanoseconds(self.spec.timeout.nanoseconds),
            handler: self
        )
        // A request with a body runs its upstream connection on this loop too: the HTTP client's back-pressure
        // signal for the body then arrives before the next read from the client, not a loop's turn later (an upload
        // would otherwise run ahead into memory). Others may take a pooled connection of any loop (requiring one
        // would make the client open a connection per request, closed when idle).
        let preference: HTTPClient.EventLoopPreference =
            outgoing.body == nil ? .delegate(on: self.eventLoop) : .delegateAndChannel(on: self.eventLoop)
        let task = client.execute(request: outgoing, delegate: self, eventLoop: preference, logger: nil)
        if self.finished {
            task.cancel()
        } else {
            self.task = task
        }
    }

    /// Stops the exchange: the upstream request is cancelled and its connection closed; before the head, `reason` is
    /// the answer (a 504 for a timeout), after it the body breaks off.
    func cancel(because reason: UpstreamFailure? = nil) {
        guard !self.finished else { return }
        self.cancellation = self.cancellation ?? reason ?? .badGateway("cancelled")
        self.task?.cancel()
        if self.task == nil {
            // Not started, or AsyncHTTPClient has not handed out its task yet: end here.
            self.didReceiveError(error: self.cancellation ?? .badGateway("cancelled"))
        }
    }

    /// The client needs nothing more (its answer had no body): whatever body still comes is read and dropped, so the
    /// exchange ends by itself and its connection goes back to the pool.
    func letFinish() {
        guard !self.finished else { return }
        self.body.discardFromNowOn()
    }

    // MARK: - The request body

    /// The upstream request's body: of the client's length when it gave one; of unknown length (chunked upstream)
    /// when a body `follows` without one, as an HTTP/2 request's DATA may come without `content-length`.
    private func requestBody(for request: IncomingRequest, follows: Bool) -> HTTPClient.Body? {
        let length = request.headers.first(named: "Content-Length").flatMap { Int64($0.trimmingSpaces()) }
        guard length != nil || request.headers.contains(named: "Transfer-Encoding") || follows else { return nil }
        return .stream(contentLength: length) { [self] writer in
            self.eventLoop.flatSubmit { self.attach(writer) }
        }
    }

    /// The HTTP client is ready for the body: what waited goes first.
    private func attach(_ writer: HTTPClient.Body.StreamWriter) -> EventLoopFuture<Void> {
        let done = self.eventLoop.makePromise(of: Void.self)
        guard !self.finished else {
            done.fail(HTTPClientError.cancelled)
            return done.futureResult
        }
        self.requestBodyDone = done
        // The writer is taken on only once what waited is written: a write's completion may read the client at once
        // (an HTTP/2 stream hands over the frames it holds as soon as it is read), and a part that arrives meanwhile
        // must queue behind the waiting ones, not overtake them.
        while !self.pendingParts.isEmpty {
            self.write(self.pendingParts.removeFirst(), to: writer)
        }
        self.requestWriter = writer
        if self.requestBodyEnded { done.succeed() }
        self.updatePressure()
        return done.futureResult
    }

    /// A piece of the request body arrived from the client.
    func sendBody(_ part: ByteBuffer) {
        guard !self.finished, !self.requestBodyEnded else { return }
        if let writer = self.requestWriter {
            self.write(part, to: writer)
        } else {
            self.pendingParts.append(part)
        }
        self.updatePressure()
    }

    /// The client's request body is complete.
    func endBody() {
        guard !self.requestBodyEnded else { return }
        self.requestBodyEnded = true
        self.requestBodyDone?.succeed()
    }

    private func write(_ part: ByteBuffer, to writer: HTTPClient.Body.StreamWriter) {
        self.writesInFlight += 1
        writer.write(.byteBuffer(part)).hop(to: self.eventLoop).assumeIsolated().whenComplete { _ in
            self.writesInFlight -= 1
            self.updatePressure()
        }
    }

    /// Holds the client back while the upstream has not taken what was sent, or has not asked for the body yet.
    private func updatePressure() {
        let hold = !self.finished && (self.writesInFlight > 0 || !self.pendingParts.isEmpty)
        guard hold != self.holdingClient else { return }
        self.holdingClient = hold
        self.onRequestBodyPressure?(hold)
    }

    // MARK: - The head's deadline

    func handleScheduledCallback(eventLoop: some EventLoop) {
        self.headTimer = nil
        self.cancel(because: .timedOut(after: .nanoseconds(self.spec.timeout.nanoseconds)))
    }

    // MARK: - HTTPClientResponseDelegate

    func didReceiveHead(task: HTTPClient.Task<Void>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        self.headTimer?.cancel()
        self.headTimer = nil
        self.outcome.status = Int(head.status.code)
        self.outcome.milliseconds = self.elapsedMilliseconds()
        let upstreamHead = UpstreamHead(
            status: Int(head.status.code),
            reason: head.status.reasonPhrase,
            headers: head.headers.map { HeaderField($0.name, $0.value) }
        )
        self.recording?.head(upstreamHead)
        self.answer(.head(upstreamHead))
        return self.eventLoop.makeSucceededVoidFuture()
    }

    func didReceiveBodyPart(task: HTTPClient.Task<Void>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        let taken = self.body.append(buffer)
        guard let recording = self.recording else { return taken }
        return taken.and(recording.append(buffer)).map { _ in }
    }

    func didReceiveError(task: HTTPClient.Task<Void>, _ error: any Error) {
        self.didReceiveError(error: self.cancellation ?? error)
    }

    func didFinishRequest(task: HTTPClient.Task<Void>) throws {
        self.finished = true
        self.body.finish()
        self.recording?.finish()
        self.recording = nil
        self.requestBodyDone?.succeed()
        self.updatePressure()
    }

    private func didReceiveError(error: any Error) {
        guard !self.finished else { return }
        self.finished = true
        self.headTimer?.cancel()
        self.headTimer = nil
        self.recording?.discard()
        self.recording = nil
        self.requestBodyDone?.fail(HTTPClientError.cancelled)
        self.pendingParts = []
        self.updatePressure()
        let failure = UpstreamFailure.classify(error)
        if self.onAnswer == nil {
            // The head came already: the body breaks off.
            self.body.fail(failure.cause)
            return
        }
        self.outcome.milliseconds = self.elapsedMilliseconds()
        guard failure.needsCertificateDiagnosis else {
            self.answer(.failed(failure))
            return
        }
        UpstreamTLSDiagnosis.diagnose(
            host: self.spec.upstream.host,
            port: self.spec.upstream.port,
            trust: self.spec.trust,
            eventLoop: self.eventLoop,
            fallback: failure.cause
        ).assumeIsolated().whenSuccess { cause in
            self.answer(.failed(UpstreamFailure(status: 502, cause: cause)))
        }
    }

    private func answer(_ answer: Answer) {
        guard let onAnswer = self.onAnswer else { return }
        self.onAnswer = nil
        if case .failed = answer { self.finished = true }
        onAnswer(answer)
    }

    /// What the journal says of the upstream now: its status once its head came, and the time to the head (or to
    /// now, when it has not come).
    func journalOutcome() -> UpstreamOutcome {
        var outcome = self.outcome
        if outcome.status == nil, outcome.milliseconds == 0 { outcome.milliseconds = self.elapsedMilliseconds() }
        return outcome
    }

    private func elapsedMilliseconds() -> Double {
        Double((NIODeadline.now() - self.startedAt).nanoseconds) / 1e6
    }
}
