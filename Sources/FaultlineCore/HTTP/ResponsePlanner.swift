/// Applies HTTP's rules (RFC 9110, RFC 9112) to a resolved response: the headers Faultline sets by itself,
/// conditional requests (304, 412), ranges (206, multipart/byteranges, 416), which statuses and methods carry a
/// body, and whether the connection stays open.
///
/// A header the scenario sets explicitly replaces the automatic one of the same name: a server that lies is a valid
/// test, and the scenario asks for it on purpose.
public enum ResponsePlanner {
    /// How much of HTTP's representation semantics a response gets.
    public enum Mode: Sendable, Equatable {
        /// Validators (`ETag`, `Last-Modified`), conditional requests (304, 412) and ranges (206, 416,
        /// `Accept-Ranges`): the rules' answers.
        case full
        /// None of them: answers that are not representations of a resource (the control API's).
        case plain
    }

    /// The statuses whose answers carry a `Location` and, for non-HEAD requests, a short HTML body.
    static let redirectStatuses: Set<Int> = [300, 301, 302, 303, 305, 307, 308]
    /// The headers a 304 keeps from the 200 it stands for (RFC 9110 section 15.4.5).
    static let notModifiedHeaders = [
        "Cache-Control", "Content-Location", "Date", "ETag", "Expires", "Last-Modified", "Vary",
    ]
    /// Headers that describe a body, dropped when Faultline answers 412 or 416 instead of the rule's body.
    static let representationHeaders = [
        "Content-Type", "Content-Length", "Content-Range", "Content-Encoding", "Transfer-Encoding", "ETag",
        "Last-Modified", "Accept-Ranges",
    ]

    /// What the caller learnt about a `.file` body when it opened the file.
    public struct FileFacts: Sendable {
        public var length: Int64
        /// Modification time in seconds since 1970.
        public var modified: Int64

        public init(length: Int64, modified: Int64) {
            self.length = length
            self.modified = modified
        }
    }

    /// Plans the response to `request`.
    ///
    /// - Parameters:
    ///   - file: the size and time of a `.file` body, measured by the caller when it opened the file.
    ///   - date: the `Date` header value for now.
    ///   - serverIsClosing: the server is shutting down, so the connection closes after this response.
    ///   - mode: whether validators, conditionals and ranges apply.
    ///   - prepared: the plan `response` gets for a plain request, made when the scenario loaded: returned as it is
    ///     when `request` is plain.
    public static func plan(
        _ response: ResolvedResponse,
        for request: IncomingRequest,
        file: FileFacts? = nil,
        date: String,
        serverIsClosing: Bool = false,
        mode: Mode = .full,
        prepared: PreparedAnswer? = nil
    ) -> ResponsePlan {
        if let prepared, file == nil, !serverIsClosing, mode == .full, PreparedAnswer.serves(request) {
            return prepared.plan
        }
        var status = response.status
        if status == 499 {
            return self.withoutResponse(.drop, response, fault: .drop)
        }
        if let plan = self.planWithoutResponse(response, for: request) { return plan }
        if let stream = response.stream {
            return self.planStream(stream, response, for: request, date: date, serverIsClosing: serverIsClosing)
        }

        var source = response.body
        if case .none = source, self.redirectStatuses.contains(status), let location = response.location {
            source = .bytes(
                Array(self.redirectPage(status: status, location: location).utf8),
                contentType: "text/html; charset=utf-8"
            )
        }
        let length = source.knownLength ?? file?.length ?? 0
        let hasBody = length > 0
        var explicit = response.headers
        var automatic: [HeaderField] = [HeaderField("Date", date)]
        // The rule's own Content-Type names the representation (the parts of a multipart answer carry it).
        var contentType = explicit.first(named: "Content-Type") ?? source.contentType
        var segments: [ResponsePlan.BodySegment] = hasBody ? [.slice(offset: 0, length: length)] : []
        var reason = response.reason

        // Validators describe a representation: 2xx answers with a body, or a rule that names one.
        let isSuccess = (200...299).contains(status)
        let representation = mode == .full
        var etag: String?
        var lastModified: Int64?
        if representation && isSuccess && (hasBody || response.etag != nil || response.lastModifiedIsExplicit) {
            etag =
                explicit.first(named: "ETag") ?? response.etag
                ?? (hasBody ? response.bodyETag ?? self.entityTag(for: source, length: length, file: file) : nil)
            let ruleTime = response.lastModifiedIsExplicit ? response.lastModified : nil
            lastModified = ruleTime ?? file?.modified ?? response.lastModified
            if let explicitDate = explicit.first(named: "Last-Modified") {
                lastModified = HTTPDate.parse(explicitDate) ?? lastModified
            }
        }

        /// A 412 or 416 answers with a short explanation instead of the rule's representation, and none of the
        /// rule's headers that describe it.
        func replaceRepresentation(with text: String) {
            explicit = explicit.filter { field in
                !self.representationHeaders.contains { field.name.equalsIgnoringASCIICase($0) }
            }
            source = self.textBody(text)
            segments = [.slice(offset: 0, length: source.knownLength ?? 0)]
            contentType = source.contentType
            etag = nil
            lastModified = nil
        }

        if representation && isSuccess {
            switch Preconditions.evaluate(request, etag: etag, lastModified: lastModified) {
            case .proceed:
                break
            case .notModified:
                return self.notModified(
                    response,
                    request: request,
                    date: date,
                    etag: etag,
                    lastModified: lastModified,
                    serverIsClosing: serverIsClosing
                )
            case .failed:
                status = 412
                reason = nil
                replaceRepresentation(with: "Faultline: a precondition of the request failed.\n")
            }
        }

        // Ranges apply to what a 200 (or a rule's 206) would send in full.
        var contentRange: String?
        var acceptRanges = false
        if representation, status == 200 || status == 206, hasBody {
            acceptRanges = status == 200
            let rangeHeader = request.headers.first(named: "Range")
            let ifRange = request.headers.first(named: "If-Range")
            let rangeApplies =
                rangeHeader != nil && (request.method == "GET" || request.method == "HEAD")
                && (ifRange.map { Preconditions.ifRangeHolds($0, etag: etag, lastModified: lastModified) } ?? true)
            let outcome = rangeApplies ? RangeRequest.resolve(rangeHeader ?? "", length: length) : .ignore
            switch outcome {
            case .ignore:
                if status == 206 {
                    // A rule that says 206 answers the whole body as one range.
                    contentRange = "bytes 0-\(length - 1)/\(length)"
                    acceptRanges = false
                }
            case .ranges(let ranges) where ranges.count == 1:
                status = 206
                reason = response.status == 206 ? response.reason : nil
                acceptRanges = false
                contentRange = "bytes \(ranges[0].lowerBound)-\(ranges[0].upperBound)/\(length)"
                segments = [
                    .slice(offset: ranges[0].lowerBound, length: ranges[0].upperBound - ranges[0].lowerBound + 1)
                ]
            case .ranges(let ranges):
                status = 206
                reason = response.status == 206 ? response.reason : nil
                acceptRanges = false
                let boundary = self.boundary(for: etag ?? "\(length)")
                segments = self.multipart(ranges, length: length, contentType: contentType, boundary: boundary)
                contentType = "multipart/byteranges; boundary=\(boundary)"
                // The parts carry the representation's type and ranges; the whole is multipart.
                explicit = explicit.filter {
                    !$0.name.equalsIgnoringASCIICase("Content-Type")
                        && !$0.name.equalsIgnoringASCIICase("Content-Range")
                }
            case .unsatisfiable:
                status = 416
                reason = nil
                acceptRanges = false
                contentRange = "bytes */\(length)"
                replaceRepresentation(
                    with: "Faultline: the requested range is not satisfiable; the body has \(length) bytes.\n"
                )
            }
        } else if representation, status == 416 {
            // A rule that answers 416 itself still says how long the representation is.
            contentRange = "bytes */\(length)"
        }

        // 1xx, 204 and 304 never carry a body or Content-Length; 205 says Content-Length: 0 (RFC 9110 15.3.6).
        let bodiless = status < 200 || status == 204 || status == 304
        let bodyLength = segments.reduce(0) { $0 + $1.length }
        let sendsBody = !bodiless && status != 205 && request.method != "HEAD"
        // HTTP/1.0 has no chunked coding (RFC 9112 section 6.1): such a client gets a Content-Length instead.
        let canChunk = request.version != (1, 0)
        if sendsBody, canChunk, response.chunkSize != nil, !explicit.contains(named: "Transfer-Encoding") {
            explicit.append(HeaderField("Transfer-Encoding", "chunked"))
        }
        if !canChunk || bodiless || !sendsBody {
            // A response whose headers say chunked is framed in chunks; with no body that would put a stray
            // terminator on the wire and desynchronise the connection, so a bodiless answer never says chunked.
            explicit = explicit.filter { !$0.name.equalsIgnoringASCIICase("Transfer-Encoding") }
        }
        if !bodiless {
            if status != 205, bodyLength > 0, let contentType {
                automatic.append(HeaderField("Content-Type", contentType))
            }
            // A rule that sets Transfer-Encoding gets a chunked body (the writer frames it) and no Content-Length.
            if !explicit.contains(named: "Transfer-Encoding") {
                automatic.append(HeaderField("Content-Length", status == 205 ? "0" : String(bodyLength)))
            }
        }
        if let contentRange { automatic.append(HeaderField("Content-Range", contentRange)) }
        if acceptRanges { automatic.append(HeaderField("Accept-Ranges", "bytes")) }
        self.appendValidators(etag: etag, lastModified: lastModified, of: response, to: &automatic)
        self.appendStatusHeaders(response, status: status, to: &automatic)

        // A final 1xx leaves the client waiting for a response that never comes; close so it finds out. A body
        // whose last transfer coding is not chunked ends where the connection does (RFC 9112 section 6.3).
        let closeDelimited = sendsBody && explicit.contains(named: "Transfer-Encoding") && !self.saysChunked(explicit)
        let closeAfter =
            self.closes(request: request, explicit: explicit, serverIsClosing: serverIsClosing) || status < 200
            || closeDelimited
        self.appendConnection(to: &automatic, closeAfter: closeAfter, request: request)

        var plan = ResponsePlan(
            action: .respond,
            delay: response.delay,
            interim: self.interim(response, for: request),
            status: status,
            reason: reason ?? StatusReason.phrase(for: status),
            headers: self.merged(automatic, explicit),
            source: sendsBody ? source : .none,
            segments: sendsBody ? segments : [],
            closeAfter: closeAfter
        )
        plan.isChunked = sendsBody && self.saysChunked(plan.headers)
        plan.dateIsAutomatic = !explicit.contains(named: "Date")
        self.applyTiming(response, to: &plan)
        if !canChunk { plan.chunkSize = nil }
        self.applyFault(response.fault, to: &plan, bodyAllowed: sendsBody)
        return plan
    }

    /// The plan of a fault that sends no response (drop, reset, hang, garbage, and on HTTP/1.1 a fault only HTTP/2
    /// has, met with a reset and journaled under its name), for a rule's own answer and a proxied one alike; `nil`
    /// when the response goes out.
    static func planWithoutResponse(_ response: ResolvedResponse, for request: IncomingRequest) -> ResponsePlan? {
        switch response.fault {
        case .drop:
            return self.withoutResponse(.drop, response, fault: .drop)
        case .reset:
            return self.withoutResponse(.reset, response, fault: .reset)
        case let fault? where fault.isHTTP2Only && request.version.major < 2:
            return self.withoutResponse(.reset, response, fault: fault)
        case .hang(let duration):
            return self.withoutResponse(.hang(duration), response, fault: response.fault)
        case .garbage(let key, let length):
            return self.withoutResponse(
                .raw(GeneratedBytes(key: key).bytes(offset: 0, count: length)),
                response,
                fault: response.fault
            )
        default:
            return nil
        }
    }

    /// A plan that sends no response at all.
    static func withoutResponse(
        _ action: ResponsePlan.Action,
        _ response: ResolvedResponse,
        fault: Fault?
    ) -> ResponsePlan {
        var plan = ResponsePlan(
            action: action,
            delay: response.delay,
            interim: [],
            status: 499,
            reason: "",
            headers: [],
            source: .none,
            segments: [],
            closeAfter: true,
            fault: fault
        )
        // A stream that never started: the journal counts its events (none).
        if response.stream != nil { plan.stream = ResponsePlan.StreamedBody(items: []) }
        return plan
    }

    /// `bodyDelay`, `throttle` and `chunked`.
    static func applyTiming(_ response: ResolvedResponse, to plan: inout ResponsePlan) {
        guard !plan.segments.isEmpty else { return }
        plan.bodyDelay = response.bodyDelay
        plan.chunkSize = response.chunkSize
        if let rate = response.bytesPerSecond {
            plan.bytesPerSecond = rate
        } else if let over = response.spreadOver, over > .zero {
            let seconds = Double(over.nanoseconds) / 1e9
            let rate = (Double(plan.bodyLength) / seconds).rounded(.up)
            plan.bytesPerSecond = rate >= Double(Int64.max) ? Int64.max : max(1, Int64(rate))
        }
    }

    /// Faults that change how a planned response goes out.
    static func applyFault(_ fault: Fault?, to plan: inout ResponsePlan, bodyAllowed: Bool) {
        guard let fault else { return }
        plan.fault = fault
        switch fault {
        case .truncate(let count):
            plan.cut = ResponsePlan.Cut(after: min(count, plan.cuttableLength), reset: false)
            plan.closeAfter = true
        case .resetAfter(let count):
            plan.cut = ResponsePlan.Cut(after: min(count, plan.cuttableLength), reset: true)
            plan.closeAfter = true
        case .slowHeaders(let duration):
            plan.slowHeaders = duration
        case .rstStream(_, let afterBytes?):
            // HTTP/2: the head and that many body bytes, then RST_STREAM.
            plan.cut = ResponsePlan.Cut(after: min(afterBytes, plan.bodyLength), reset: true)
        case .rstStream(_, nil), .goaway, .goawayAfter:
            // HTTP/2: the writer sends the frames (an HTTP/1.1 request was planned as a reset above).
            break
        case .badStatus:
            // The status line with its code and phrase swapped: no client can parse it.
            var head = plan.serializedHead()
            let line = "HTTP/1.1 \(plan.status) \(plan.reason)\r\n"
            head.removeFirst(line.utf8.count)
            plan.action = .raw(
                Array("HTTP/1.1 \(plan.reason.isEmpty ? "Status" : plan.reason) \(plan.status)\r\n".utf8) + head
            )
            plan.status = 499
            plan.closeAfter = true
        case .badChunk where !bodyAllowed:
            // A bodiless answer (HEAD, 204, 304) cannot carry a bad chunk a client would read: break its status line.
            self.applyFault(.badStatus, to: &plan, bodyAllowed: false)
            plan.fault = fault
        case .badChunk:
            // A chunked body whose first chunk is fine and whose second chunk-size line is not hexadecimal.
            plan.headers = plan.headers.filter {
                !$0.name.equalsIgnoringASCIICase("Content-Length")
                    && !$0.name.equalsIgnoringASCIICase("Transfer-Encoding")
            }
            if let connection = plan.headers.firstIndex(where: { $0.name.equalsIgnoringASCIICase("Connection") }) {
                plan.headers.insert(HeaderField("Transfer-Encoding", "chunked"), at: connection)
            } else {
                plan.headers.append(HeaderField("Transfer-Encoding", "chunked"))
            }
            plan.action = .raw(plan.serializedHead() + Array("5\r\nhello\r\nzz\r\nnot a chunk\r\n".utf8))
            plan.closeAfter = true
        case .cutAfter, .resetAfterEvents, .stallAfter:
            // The stream ends early (or never): the connection cannot carry another request after it.
            plan.closeAfter = true
        case .drop, .reset, .hang, .garbage:
            break
        }
    }

    /// The 304 standing for the 200 the rule would send: only the headers a cache updates (RFC 9110 15.4.5).
    static func notModified(
        _ response: ResolvedResponse,
        request: IncomingRequest,
        date: String,
        etag: String?,
        lastModified: Int64?,
        serverIsClosing: Bool
    ) -> ResponsePlan {
        var automatic = [HeaderField("Date", date)]
        self.appendValidators(etag: etag, lastModified: lastModified, of: response, to: &automatic)
        let explicit = response.headers.filter { field in
            self.notModifiedHeaders.contains { field.name.equalsIgnoringASCIICase($0) }
        }
        let closeAfter = self.closes(request: request, explicit: response.headers, serverIsClosing: serverIsClosing)
        self.appendConnection(to: &automatic, closeAfter: closeAfter, request: request)
        var plan = ResponsePlan(
            action: .respond,
            delay: response.delay,
            interim: self.interim(response, for: request),
            status: 304,
            reason: StatusReason.phrase(for: 304),
            headers: self.merged(automatic, explicit),
            source: .none,
            segments: [],
            closeAfter: closeAfter
        )
        plan.dateIsAutomatic = !explicit.contains(named: "Date")
        // A cached client meets the rule's fault too.
        self.applyFault(response.fault, to: &plan, bodyAllowed: false)
        return plan
    }

    /// ETag and Last-Modified, the date's text reused when the rule's response prepared it.
    static func appendValidators(
        etag: String?,
        lastModified: Int64?,
        of response: ResolvedResponse,
        to headers: inout [HeaderField]
    ) {
        if let etag { headers.append(HeaderField("ETag", etag)) }
        if let lastModified {
            let text = lastModified == response.lastModified ? response.lastModifiedText : nil
            headers.append(HeaderField("Last-Modified", text ?? HTTPDate.format(secondsSince1970: lastModified)))
        }
    }

    /// `Location`, `Retry-After`, and what the status asks for: `Allow` (405), the challenges of 401 and 407.
    static func appendStatusHeaders(_ response: ResolvedResponse, status: Int, to automatic: inout [HeaderField]) {
        if let location = response.location { automatic.append(HeaderField("Location", location)) }
        if let retryAfter = response.retryAfter { automatic.append(HeaderField("Retry-After", retryAfter)) }
        if status == 405 {
            automatic.append(HeaderField("Allow", (response.allow ?? ["GET", "HEAD"]).joined(separator: ", ")))
        }
        if status == 401 { automatic.append(HeaderField("WWW-Authenticate", "Basic realm=\"faultline\"")) }
        if status == 407 { automatic.append(HeaderField("Proxy-Authenticate", "Basic realm=\"faultline\"")) }
    }

    /// Whether the last transfer coding is chunked (RFC 9112 section 6.1).
    static func saysChunked(_ headers: [HeaderField]) -> Bool {
        guard let codings = headers.values(named: "Transfer-Encoding").last else { return false }
        return codings.split(separator: ",").last.map { $0.trimmingSpaces().equalsIgnoringASCIICase("chunked") }
            ?? false
    }

    /// The automatic headers the explicit ones do not replace, then the explicit ones.
    static func merged(_ automatic: [HeaderField], _ explicit: [HeaderField]) -> [HeaderField] {
        if explicit.isEmpty { return automatic }
        return automatic.filter { !explicit.contains(named: $0.name) } + explicit
    }

    /// Informational responses go to HTTP/1.1 clients only (RFC 9110 section 15.2).
    static func interim(_ response: ResolvedResponse, for request: IncomingRequest) -> [InterimResponse] {
        request.version == (1, 0) ? [] : response.interim
    }

    static func closes(request: IncomingRequest, explicit: [HeaderField], serverIsClosing: Bool) -> Bool {
        // After CONNECT or an Upgrade request the parser has stopped (the connection would change protocols), so
        // the connection cannot carry another request.
        if !request.wantsKeepAlive || serverIsClosing || request.asksToSwitchProtocols { return true }
        return explicit.values(named: "Connection").contains { HTTPTokens.contains("close", in: $0) }
    }

    static func appendConnection(to headers: inout [HeaderField], closeAfter: Bool, request: IncomingRequest) {
        if closeAfter {
            headers.append(HeaderField("Connection", "close"))
        } else if request.version == (1, 0) {
            headers.append(HeaderField("Connection", "keep-alive"))
        }
    }

    static func entityTag(for source: ResolvedBody, length: Int64, file: FileFacts?) -> String {
        switch source {
        case .none: return EntityTag.forBytes([])
        case .bytes(let bytes, _): return EntityTag.forBytes(bytes)
        case .file: return EntityTag.forFile(modified: file?.modified ?? 0, size: length)
        case .generated(_, let size): return EntityTag.forGenerated(size: size)
        }
    }

    static func textBody(_ text: String) -> ResolvedBody {
        .bytes(Array(text.utf8), contentType: "text/plain; charset=utf-8")
    }

    /// A boundary that cannot occur in the body by accident and is the same for the same representation.
    static func boundary(for seed: String) -> String {
        "faultline-" + String(EntityTag.forBytes(Array(seed.utf8)).dropFirst().dropLast())
    }

    /// The parts of a multipart/byteranges body (RFC 9110 section 14.6).
    static func multipart(
        _ ranges: [ClosedRange<Int64>],
        length: Int64,
        contentType: String?,
        boundary: String
    ) -> [ResponsePlan.BodySegment] {
        var segments: [ResponsePlan.BodySegment] = []
        for (index, range) in ranges.enumerated() {
            var partHead = index == 0 ? "" : "\r\n"
            partHead += "--\(boundary)\r\n"
            if let contentType { partHead += "Content-Type: \(contentType)\r\n" }
            partHead += "Content-Range: bytes \(range.lowerBound)-\(range.upperBound)/\(length)\r\n\r\n"
            segments.append(.bytes(Array(partHead.utf8)))
            segments.append(.slice(offset: range.lowerBound, length: range.upperBound - range.lowerBound + 1))
        }
        segments.append(.bytes(Array("\r\n--\(boundary)--\r\n".utf8)))
        return segments
    }

    /// The short HTML page a redirect carries, as nginx and Apache send one.
    static func redirectPage(status: Int, location: String) -> String {
        let title = "\(status) \(StatusReason.phrase(for: status))"
        let href = HTMLEscaping.escape(location)
        return "<html>\n<head><title>\(title)</title></head>\n<body>\n<h1>\(title)</h1>\n"
            + "<p>The document has moved <a href=\"\(href)\">here</a>.</p>\n</body>\n</html>\n"
    }
}

/// Escapes text for HTML attribute values and content.
enum HTMLEscaping {
    static func escape(_ text: String) -> String {
        var output = ""
        for character in text {
            switch character {
            case "&": output += "&amp;"
            case "<": output += "&lt;"
            case ">": output += "&gt;"
            case "\"": output += "&quot;"
            case "'": output += "&#39;"
            default: output.append(character)
            }
        }
        return output
    }
}

/// Reads comma-separated token lists such as `Connection: keep-alive, Upgrade`.
package enum HTTPTokens {
    package static func contains(_ token: String, in value: String) -> Bool {
        value.split(separator: ",").contains { $0.trimmingSpaces().equalsIgnoringASCIICase(token) }
    }
}

extension IncomingRequest {
    /// Whether the client asked to keep the connection open (RFC 9112 section 9.3): HTTP/1.1 unless it sent
    /// `Connection: close`, HTTP/1.0 only with `Connection: keep-alive`.
    public var wantsKeepAlive: Bool {
        let connection = self.headers.values(named: "Connection")
        if connection.contains(where: { HTTPTokens.contains("close", in: $0) }) { return false }
        if self.version.major == 1 && self.version.minor >= 1 { return true }
        return connection.contains { HTTPTokens.contains("keep-alive", in: $0) }
    }

    /// Whether the request is CONNECT or asks to upgrade the connection, after which NIO's parser reads no more
    /// requests on it.
    public var asksToSwitchProtocols: Bool {
        if self.method == "CONNECT" { return true }
        return self.headers.contains(named: "Upgrade")
            && self.headers.values(named: "Connection").contains { HTTPTokens.contains("upgrade", in: $0) }
    }

    /// Whether the request carries a body without a `Content-Length` (a chunked one).
    public var hasBodyWithoutLength: Bool {
        self.headers.contains(named: "Transfer-Encoding") && !self.headers.contains(named: "Content-Length")
    }

    /// Whether the request carries a body at all.
    public var hasBody: Bool {
        if self.hasBodyWithoutLength { return true }
        return self.headers.first(named: "Content-Length").flatMap { Int64($0.trimmingSpaces()) }.map { $0 > 0 }
            ?? false
    }
}
