extension ResponsePlanner {
    /// Plans a proxied answer: the upstream's status, reason and end-to-end headers as they came, its body streamed
    /// (`ResponsePlan.upstreamBody`), and the rule's headers, delays, pace and fault on top. Faultline adds no validators,
    /// evaluates no conditionals or ranges (they went to the upstream, and its answer is passed back), and sets only
    /// `Date` when the upstream sent none, the framing, and `Connection`.
    ///
    /// - Parameters:
    ///   - head: the upstream's status line and headers.
    ///   - response: the rule's answer: its headers (added, overriding the upstream's), `delay`, `bodyDelay`,
    ///     `throttle`, `interim` and `fault`.
    ///   - request: the client's request.
    ///   - date: the `Date` value for now.
    ///   - serverIsClosing: the connection closes after this answer anyway.
    public static func plan(
        upstream head: UpstreamHead,
        response: ResolvedResponse,
        for request: IncomingRequest,
        date: String,
        serverIsClosing: Bool = false
    ) -> ResponsePlan {
        if let plan = self.planWithoutResponse(response, for: request) { return plan }
        let status = head.status
        var upstream = ProxyHeaders.forResponse(head.headers)
        let explicit = response.headers
        upstream.removeAll { field in explicit.contains(named: field.name) }

        let bodiless = status < 200 || status == 204 || status == 304
        let sendsBody = !bodiless && request.method != "HEAD"
        let length: Int64? = upstream.first(named: "Content-Length").flatMap { Int64($0.trimmingSpaces()) }.flatMap {
            $0 >= 0 ? $0 : nil
        }
        // HTTP/1.0 has no chunked coding: a body of unknown length ends where the connection does.
        let canChunk = request.version != (1, 0)
        var framing: [HeaderField] = []
        var closeDelimited = false
        var isChunked = false
        if sendsBody {
            if length == nil {
                upstream.removeAll { $0.name.equalsIgnoringASCIICase("Content-Length") }
                if canChunk {
                    framing.append(HeaderField("Transfer-Encoding", "chunked"))
                    isChunked = true
                } else {
                    closeDelimited = true
                }
            }
        }
        var automatic: [HeaderField] = []
        let dateIsAutomatic = !upstream.contains(named: "Date") && !explicit.contains(named: "Date")
        if dateIsAutomatic { automatic.append(HeaderField("Date", date)) }
        if let retryAfter = response.retryAfter { automatic.append(HeaderField("Retry-After", retryAfter)) }
        let closeAfter =
            self.closes(request: request, explicit: explicit, serverIsClosing: serverIsClosing) || status < 200
            || closeDelimited
        var connection: [HeaderField] = []
        self.appendConnection(to: &connection, closeAfter: closeAfter, request: request)

        var plan = ResponsePlan(
            action: .respond,
            delay: response.delay,
            interim: self.interim(response, for: request),
            status: status,
            reason: head.reason.isEmpty ? StatusReason.phrase(for: status) : head.reason,
            headers: automatic.filter { !explicit.contains(named: $0.name) } + upstream + explicit + framing
                + connection,
            source: .none,
            segments: [],
            closeAfter: closeAfter
        )
        plan.dateIsAutomatic = dateIsAutomatic
        plan.isChunked = isChunked
        if sendsBody, length != 0 {
            plan.upstreamBody = ResponsePlan.UpstreamBody(length: length)
            plan.bodyDelay = response.bodyDelay
            if let rate = response.bytesPerSecond {
                plan.bytesPerSecond = rate
            } else if let over = response.spreadOver, over > .zero, let length, length > 0 {
                let rate = (Double(length) / (Double(over.nanoseconds) / 1e9)).rounded(.up)
                plan.bytesPerSecond = rate >= Double(Int64.max) ? Int64.max : max(1, Int64(rate))
            }
        }
        self.applyFault(response.fault, to: &plan, bodyAllowed: sendsBody)
        return plan
    }

    /// Faultline's own answer when the upstream cannot give one: 502 (or 504 for a timeout) with the cause on one
    /// line of plain text, and the scenario's default headers.
    public static func upstreamFailure(
        status: Int,
        cause: String,
        upstream: UpstreamURL,
        defaultHeaders: [HeaderField]
    ) -> ResolvedResponse {
        .text(status: status, "Faultline: upstream \(upstream): \(cause)\n", headers: defaultHeaders)
    }
}
