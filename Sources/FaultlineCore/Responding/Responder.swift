/// Turns a request into what to send. The rules are one responder and the control API another; the server routes
/// each request to one and carries its reply out. A responder knows nothing of NIO, of the protocol the request came
/// over, or of the journal's bookkeeping.
public protocol Responder: Sendable {
    /// Whether `respond` may block (read files, parse a scenario): the server then calls it off its event loops.
    var mayBlock: Bool { get }
    /// Whether the server keeps the request body for `respond` (otherwise it only counts the bytes).
    var readsBody: Bool { get }
    /// Whether the exchanges it answers go into the journal.
    var isJournaled: Bool { get }
    /// Whether a request's body may have to go on to an upstream as it arrives (see the default below).
    var forwardsBodies: Bool { get }

    /// The reply to `request`.
    func respond(to request: ResponderRequest) -> Reply
}

/// A request as a responder sees it.
public struct ResponderRequest: Sendable {
    /// The head: method, target, headers, version, TLS facts.
    public var head: IncomingRequest
    /// The body, when the responder reads bodies; empty otherwise.
    public var body: [UInt8]
    /// Whether the client connected from this machine.
    public var clientIsLoopback: Bool
    /// The address the connection was accepted on, without port (`127.0.0.1`, `::1`).
    public var listenerAddress: String?

    public init(
        head: IncomingRequest,
        body: [UInt8] = [],
        clientIsLoopback: Bool = true,
        listenerAddress: String? = nil
    ) {
        self.head = head
        self.body = body
        self.clientIsLoopback = clientIsLoopback
        self.listenerAddress = listenerAddress
    }
}

/// What a responder gives back.
public struct Reply: Sendable {
    /// The response to send.
    public var response: ResolvedResponse {
        didSet { self.preparedAnswer = nil }
    }
    /// What `response` sends a plain request, planned when the scenario loaded (the rule engine's); dropped when
    /// `response` changes.
    public internal(set) var preparedAnswer: PreparedAnswer?
    /// Who answered (which rule, which step), for the journal; `nil` for replies that come from no rule (the control
    /// API's). The response itself is `response`: a reply carries it once.
    public var decision: Decision.Attribution?
    /// How HTTP's rules apply to the response: fully for the rules' answers (validators, conditionals, ranges),
    /// plainly for the control API's.
    public var planning: ResponsePlanner.Mode

    public init(
        response: ResolvedResponse,
        decision: Decision.Attribution? = nil,
        planning: ResponsePlanner.Mode = .full
    ) {
        self.response = response
        self.decision = decision
        self.planning = planning
    }

    /// The reply carrying a rule engine's decision.
    public init(_ decision: consuming Decision) {
        self.decision = decision.attribution
        self.planning = .full
        self.preparedAnswer = decision.preparedAnswer
        self.response = decision.response
    }
}

extension Responder {
    /// Whether a request's body may have to go on to an upstream as it arrives (the scenario has `proxy` rules): the
    /// server then asks `respond` when the head arrives, before the body, and keeps what arrives of the body until
    /// the reply says where it goes. False unless a responder says otherwise.
    public var forwardsBodies: Bool { false }
}
