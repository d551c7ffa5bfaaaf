import FaultlineCore

/// The control API as a responder: it reads request bodies (a scenario to load), may block (parsing a scenario,
/// formatting the whole journal), so the server calls it off its event loops, and its exchanges are not journaled.
/// Its answers are not representations: they get no validators and ignore ranges and conditionals.
struct ControlResponder: Responder {
    let control: ServerControl
    let statistics: ServerStatistics

    var mayBlock: Bool { true }
    var readsBody: Bool { true }
    var isJournaled: Bool { false }

    func respond(to request: ResponderRequest) -> Reply {
        let response = ControlAPI.respond(
            to: request.head,
            body: request.body,
            clientIsLoopback: request.clientIsLoopback,
            listenerAddress: request.listenerAddress,
            control: self.control,
            statistics: self.statistics
        )
        return Reply(response: response, planning: .plain)
    }
}

/// The responders of a server and which one answers a request: the control API under `/__faultline/`, the rules
/// everywhere else. Built once; shared by every connection.
struct ServerResponders: Sendable {
    let rules: RuleResponder
    let control: ControlResponder

    init(control: ServerControl, statistics: ServerStatistics) {
        self.rules = RuleResponder(live: control.live)
        self.control = ControlResponder(control: control, statistics: statistics)
    }

    /// The responder for a request, from its head.
    func responder(for head: IncomingRequest) -> any Responder {
        ControlAPI.handles(head) ? self.control : self.rules
    }
}
