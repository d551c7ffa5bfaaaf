import FaultlineCore
import Foundation
import NIOCore

/// The control API under `/__faultline/`: never matched against rules, never journaled. It answers loopback clients
/// only, or, with `--admin-token`, anyone who sends the token as a bearer credential.
enum ControlAPI {
    /// The path prefix every control endpoint shares.
    static let prefix = "/__faultline/"

    /// Whether a request is for the control API rather than the rules.
    static func handles(_ request: IncomingRequest) -> Bool {
        request.path.hasPrefix(self.prefix)
    }

    static func respond(
        to request: IncomingRequest,
        body: [UInt8],
        remoteAddress: SocketAddress?,
        localAddress: SocketAddress? = nil,
        control: ServerControl,
        statistics: ServerStatistics
    ) -> ResolvedResponse {
        self.respond(
            to: request,
            body: body,
            clientIsLoopback: remoteAddress?.isLoopback ?? false,
            listenerAddress: localAddress?.ipAddress,
            control: control,
            statistics: statistics
        )
    }

    /// The answer to a control request; `clientIsLoopback` and `listenerAddress` are what the connection knows of
    /// where it came from, for the access rules.
    static func respond(
        to request: IncomingRequest,
        body: [UInt8],
        clientIsLoopback: Bool,
        listenerAddress: String?,
        control: ServerControl,
        statistics: ServerStatistics
    ) -> ResolvedResponse {
        if let refusal = control.access.check(
            request,
            clientIsLoopback: clientIsLoopback,
            listenerAddress: listenerAddress
        ) {
            var refused = self.error(status: refusal.status, refusal.message)
            if refusal.wantsToken {
                refused.headers.append(HeaderField("WWW-Authenticate", "Bearer realm=\"faultline-control\""))
            }
            return refused
        }
        let endpoint = String(request.path.dropFirst(self.prefix.count))
        let query = Dictionary(request.query.map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first })
        let parts = endpoint.split(separator: "/", omittingEmptySubsequences: false).map(String.init)

        if parts.count == 3, parts[0] == "rules", parts[2] == "enable" || parts[2] == "disable",
            request.method == "POST"
        {
            let name = parts[1]
            let count = control.live.engine.setEnabled(parts[2] == "enable", rule: name)
            guard count > 0 else {
                return self.error(status: 404, "no rule is called '\(name)'")
            }
            return self.json(
                status: 200,
                .object([("rule", .string(name)), ("enabled", .bool(parts[2] == "enable")), ("rules", .int(count))])
            )
        }
        switch (request.method, parts) {
        case ("GET", ["health"]), ("HEAD", ["health"]):
            let engine = control.live.engine
            let dropped = control.recorder.journal.droppedCount
            return self.json(
                status: 200,
                .object([
                    ("status", "ok"), ("rules", .int(engine.scenario.rules.count)), ("seed", .uint(engine.seed)),
                    ("journalDropped", .int(dropped)),
                ])
            )

        case ("GET", ["journal"]), ("HEAD", ["journal"]):
            for name in ["since", "limit"] where query[name].map({ Int($0) == nil }) ?? false {
                return self.error(status: 400, "\(name) takes a whole number")
            }
            let pieces = control.recorder.journal.jsonPieces(
                rule: query["rule"],
                since: query["since"].flatMap { Int($0) },
                limit: query["limit"].flatMap { Int($0) }
            )
            // Sent piece by piece as the client reads it (chunked): a journal of any size is never built whole.
            var response = ResolvedResponse(status: 200)
            response.stream = ResolvedStream(
                kind: .items,
                items: [],
                contentType: "application/json",
                produced: ProducedBody(pieces.makeIterator())
            )
            return response
        case ("DELETE", ["journal"]):
            control.clearJournal()
            return ResolvedResponse(status: 204)

        case ("POST", ["reset"]):
            control.reset()
            return self.json(status: 200, .object([("reset", true)]))

        case ("GET", ["scenario"]), ("HEAD", ["scenario"]):
            return ResolvedResponse(
                status: 200,
                body: .bytes(Array(control.scenarioSource.yaml.utf8), contentType: "application/yaml; charset=utf-8")
            )
        case ("PUT", ["scenario"]):
            return self.putScenario(body, control: control)

        case ("GET", ["expectations"]), ("HEAD", ["expectations"]):
            let report = control.expectations()
            if query["format"] == "text" {
                return ResolvedResponse(
                    status: 200,
                    body: .bytes(Array(report.text.utf8), contentType: "text/plain; charset=utf-8")
                )
            }
            return ResolvedResponse(status: 200, body: .bytes(Array(report.json.utf8), contentType: "application/json"))

        case ("GET", ["report"]), ("HEAD", ["report"]):
            return self.report(control: control)

        case ("GET", ["metrics"]), ("HEAD", ["metrics"]):
            // The gauge is read when asked for: set from every connection as it opens and closes, two event loops
            // could leave it behind the count.
            control.metrics.setOpenConnections(statistics.openConnections)
            return ResolvedResponse(
                status: 200,
                body: .bytes(
                    Array(control.metrics.prometheusText().utf8),
                    contentType: "text/plain; version=0.0.4; charset=utf-8"
                )
            )

        default:
            if let allowed = self.methods(for: parts) {
                var response = self.error(status: 405, "\(request.method) is not allowed on \(request.path)")
                response.allow = allowed
                return response
            }
            return self.error(status: 404, "no control endpoint \(request.path); see the README's control API section")
        }
    }

    /// Validates a new scenario first: a bad one gets 400 with every error and the old one keeps serving.
    static func putScenario(_ body: [UInt8], control: ServerControl) -> ResolvedResponse {
        guard let yaml = String(validating: body, as: UTF8.self) else {
            return ResolvedResponse(
                status: 400,
                body: .bytes(
                    Array("<control-api>:1:1: error: The scenario is not UTF-8 text.\n".utf8),
                    contentType: "text/plain; charset=utf-8"
                )
            )
        }
        let baseDirectory = control.scenarioSource.baseDirectory
        do {
            let scenario = try ScenarioLoader.load(
                yaml: yaml,
                name: "<control-api>",
                files: .controlAPI(startedFrom: baseDirectory)
            )
            control.replace(with: scenario, source: ServerControl.Source(yaml: yaml, baseDirectory: baseDirectory))
            return self.json(status: 200, .object([("loaded", true), ("rules", .int(scenario.rules.count))]))
        } catch {
            return ResolvedResponse(
                status: 400,
                body: .bytes(Array((error.description + "\n").utf8), contentType: "text/plain; charset=utf-8")
            )
        }
    }

    /// The methods an endpoint takes, for a 405's Allow; `nil` for no such endpoint.
    static func methods(for parts: [String]) -> [String]? {
        switch parts {
        case ["health"], ["expectations"], ["metrics"], ["report"]: ["GET", "HEAD"]
        case ["journal"]: ["GET", "HEAD", "DELETE"]
        case ["reset"]: ["POST"]
        case ["scenario"]: ["GET", "HEAD", "PUT"]
        case _ where parts.count == 3 && parts[0] == "rules" && (parts[2] == "enable" || parts[2] == "disable"):
            ["POST"]
        default: nil
        }
    }

    private static func json(status: Int, _ value: JSONValue) -> ResolvedResponse {
        ResolvedResponse(status: status, body: .bytes(Array((value.text + "\n").utf8), contentType: "application/json"))
    }

    /// `{"error": MESSAGE}`.
    private static func error(status: Int, _ message: String) -> ResolvedResponse {
        self.json(status: status, .object([("error", .string(message))]))
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
