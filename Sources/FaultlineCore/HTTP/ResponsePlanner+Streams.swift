/// Streams (`events`, `stream`): a body sent item by item as it is produced, of no length known in advance. It is not
/// a representation: no validators, no conditionals, no ranges. On HTTP/1.1 it is chunked; an HTTP/1.0 client gets
/// it delimited by the connection's close.
extension ResponsePlanner {
    static func planStream(
        _ stream: ResolvedStream,
        _ response: ResolvedResponse,
        for request: IncomingRequest,
        date: String,
        serverIsClosing: Bool
    ) -> ResponsePlan {
        let status = response.status
        var explicit = response.headers
        var automatic: [HeaderField] = [HeaderField("Date", date)]
        let bodiless = status < 200 || status == 204 || status == 304
        let sendsBody = !bodiless && status != 205 && request.method != "HEAD"
        // HTTP/1.0 has no chunked coding (RFC 9112 section 6.1): the stream ends where the connection does. HTTP/2
        // frames the body itself (DATA frames, END_STREAM).
        let canChunk = request.version.major == 1 && request.version.minor >= 1
        if !canChunk || !sendsBody {
            explicit = explicit.filter { !$0.name.equalsIgnoringASCIICase("Transfer-Encoding") }
        }
        if !bodiless {
            automatic.append(HeaderField("Content-Type", stream.contentType))
            if stream.kind == .events {
                // An event stream is never cached: a client or a proxy that stored one would replay stale events.
                automatic.append(HeaderField("Cache-Control", "no-cache"))
            }
            if status == 205 {
                automatic.append(HeaderField("Content-Length", "0"))
            } else if sendsBody, canChunk, !explicit.contains(named: "Transfer-Encoding"),
                !explicit.contains(named: "Content-Length")
            {
                automatic.append(HeaderField("Transfer-Encoding", "chunked"))
            }
        }
        self.appendStatusHeaders(response, status: status, to: &automatic)
        // Chunked unless the rule frames the body itself (its own Transfer-Encoding or Content-Length: a lying server).
        let ownFraming = explicit.contains(named: "Transfer-Encoding")
        let isChunked =
            sendsBody
            && (ownFraming ? self.saysChunked(explicit) : canChunk && !explicit.contains(named: "Content-Length"))
        // Without chunks (HTTP/1.0, or a rule's own framing) the body ends where the connection does.
        let closeDelimited = sendsBody && !isChunked && !explicit.contains(named: "Content-Length")
        let closeAfter =
            self.closes(request: request, explicit: explicit, serverIsClosing: serverIsClosing) || status < 200
            || closeDelimited
        self.appendConnection(to: &automatic, closeAfter: closeAfter, request: request)

        let items = sendsBody ? stream.items(resumingAfter: request.headers.first(named: "Last-Event-ID")) : []
        var plan = ResponsePlan(
            action: .respond,
            delay: response.delay,
            interim: self.interim(response, for: request),
            status: status,
            reason: response.reason ?? StatusReason.phrase(for: status),
            headers: self.merged(automatic, explicit),
            source: .none,
            segments: [],
            closeAfter: closeAfter
        )
        plan.stream = ResponsePlan.StreamedBody(
            items: items,
            keepOpen: stream.keepOpen && sendsBody,
            produced: sendsBody ? stream.produced : nil
        )
        plan.isChunked = isChunked
        plan.dateIsAutomatic = !explicit.contains(named: "Date")
        if sendsBody { plan.bodyDelay = response.bodyDelay }
        self.applyFault(response.fault, to: &plan, bodyAllowed: sendsBody)
        // A byte cut counts the stream's bytes (the planner's body segments are empty for a stream).
        switch response.fault {
        case .truncate(let count)?:
            plan.cut = ResponsePlan.Cut(after: min(count, plan.stream?.length ?? 0), reset: false)
        case .resetAfter(let count)?:
            plan.cut = ResponsePlan.Cut(after: min(count, plan.stream?.length ?? 0), reset: true)
        case .rstStream(_, let count?)?:
            plan.cut = ResponsePlan.Cut(after: min(count, plan.stream?.length ?? 0), reset: true)
        default:
            break
        }
        return plan
    }
}
