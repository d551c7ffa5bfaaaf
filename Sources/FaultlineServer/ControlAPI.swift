import FaultlineCore
import NIOCore

/// The control API under `/__faultline/`: answered only to loopback clients, never matched against rules.
enum ControlAPI {
    /// The path prefix every control endpoint shares.
    static let prefix = "/__faultline/"

    /// Whether a request is for the control API rather than the rules.
    static func handles(_ request: IncomingRequest) -> Bool {
        request.path.hasPrefix(self.prefix)
    }

    static func respond(
        to request: IncomingRequest,
        remoteAddress: SocketAddress?,
        live: LiveScenario,
        recorder: ServerRecorder
    ) -> ResolvedResponse {
        guard remoteAddress?.isLoopback ?? false else {
            return self.json(status: 403, #"{"error":"the control API answers loopback clients only"}"#)
        }
        let endpoint = String(request.path.dropFirst(self.prefix.count))
        switch (request.method, endpoint) {
        case ("GET", "health"), ("HEAD", "health"):
            let engine = live.engine
            return self.json(status: 200, #"{"status":"ok","rules":\#(engine.scenario.rules.count),"seed":\#(engine.seed)}"#)
        case ("GET", "journal"), ("HEAD", "journal"):
            let query = Dictionary(request.query.map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first })
            for name in ["since", "limit"] where query[name].map({ Int($0) == nil }) ?? false {
                return self.json(status: 400, #"{"error":"\#(name) takes a whole number"}"#)
            }
            let entries = recorder.journal.entries(
                rule: query["rule"],
                since: query["since"].flatMap { Int($0) },
                limit: query["limit"].flatMap { Int($0) }
            )
            return ResolvedResponse(status: 200, body: .bytes(Array(JournalEntry.jsonArray(entries).utf8), contentType: "application/json"))
        case ("DELETE", "journal"):
            recorder.journal.clear()
            return ResolvedResponse(status: 204)
        default:
            return self.json(status: 404, #"{"error":"no control endpoint \#(request.method) \#(request.path)"}"#)
        }
    }

    private static func json(status: Int, _ text: String) -> ResolvedResponse {
        ResolvedResponse(status: status, body: .bytes(Array((text + "\n").utf8), contentType: "application/json"))
    }
}

extension SocketAddress {
    /// Whether the address is on this machine: 127.0.0.0/8, ::1, an IPv4-mapped loopback, or a Unix socket.
    var isLoopback: Bool {
        switch self {
        case .v4:
            return self.ipAddress?.hasPrefix("127.") ?? false
        case .v6:
            guard let ip = self.ipAddress else { return false }
            return ip == "::1" || ip.hasPrefix("::ffff:127.")
        case .unixDomainSocket:
            return true
        }
    }
}
