/// What happens to a request head before any rule sees it: the server's limits (RFC 9110 and 9112 give the
/// statuses), the HTTP version, and `Expect` (RFC 9110 section 10.1.1). Pure: the server carries the verdict out.
public enum RequestAdmission {
    /// The verdict on a request head.
    public enum Verdict: Equatable, Sendable {
        /// Read the body (if any) and let the rules answer.
        case admit
        /// The client waits for `100 Continue` before its body: choose the rule now.
        case decideBeforeBody
        /// Answer with this status and close, without reading further.
        case refuse(status: Int, message: String)
    }

    /// The verdict on a request head as a connection gives it: its `Host` first, then `check`.
    public static func verdict(_ request: IncomingRequest, headerBytes: Int, limits: Limits) -> Verdict {
        if request.version.major == 1, request.version.minor <= 1, let refusal = self.hostRefusal(request) {
            return refusal
        }
        return self.check(request, headerBytes: headerBytes, limits: limits)
    }

    /// RFC 9112 section 3.2: a server answers 400 to an HTTP/1.1 request without a `Host`, and to any request with
    /// more than one.
    public static func hostRefusal(_ request: IncomingRequest) -> Verdict? {
        var hosts = 0
        for field in request.headers where field.name.equalsIgnoringASCIICase("Host") { hosts += 1 }
        if hosts > 1 {
            return .refuse(status: 400, message: "the request has \(hosts) Host headers; HTTP/1.1 allows exactly one")
        }
        if hosts == 0, request.version == (1, 1) {
            return .refuse(status: 400, message: "an HTTP/1.1 request needs a Host header")
        }
        return nil
    }

    /// Checks a head against `limits`; `headerBytes` is the size of its header section.
    public static func check(_ request: IncomingRequest, headerBytes: Int, limits: Limits) -> Verdict {
        if request.version.major != 1 || request.version.minor > 1 {
            let version = "HTTP/\(request.version.major).\(request.version.minor)"
            return .refuse(status: 505, message: "\(version) is not supported; use HTTP/1.1 or HTTP/1.0")
        }
        if Int64(request.target.utf8.count) > limits.maxURILength {
            return .refuse(
                status: 414,
                message: "the request target is longer than \(ByteCount.format(limits.maxURILength))"
            )
        }
        if Int64(headerBytes) > limits.maxHeaderSize {
            return .refuse(
                status: 431,
                message: "the header section is larger than \(ByteCount.format(limits.maxHeaderSize))"
            )
        }
        if let length = request.headers.first(named: "Content-Length").flatMap({ Int64($0) }),
            length > limits.maxBodySize
        {
            return .refuse(
                status: 413,
                message: "the request body is larger than \(ByteCount.format(limits.maxBodySize))"
            )
        }
        guard let expectation = request.headers.first(named: "Expect") else { return .admit }
        guard expectation.lowercased().split(separator: " ").joined() == "100-continue" else {
            return .refuse(status: 417, message: "the expectation '\(expectation)' cannot be met")
        }
        // An HTTP/1.0 client's 100-continue is ignored (RFC 9110 section 10.1.1).
        return request.version == (1, 1) ? .decideBeforeBody : .admit
    }

    /// The size of a header section as the limit counts it: each field's name and value, plus `: ` and CRLF.
    public static func headerBytes(_ headers: [HeaderField]) -> Int {
        headers.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 4 }
    }
}

extension Decision {
    /// How a rule chosen before the body (for `Expect: 100-continue`) answers.
    public enum EarlyAnswer: Equatable, Sendable {
        /// Send `100 Continue`, read the body, then answer.
        case askForBody
        /// Hang without asking for the body (the connection is still read, to see the client leave).
        case hangWithoutBody
        /// Answer at once without the body (a 401, a 417, a fault) and close, since the body is not read.
        case answerWithoutBody
    }

    /// What the decision means for a client waiting to send its body.
    public var earlyAnswer: EarlyAnswer {
        self.response.earlyAnswer
    }
}

extension ResolvedResponse {
    /// What this response means for a client waiting to send its body (`Expect: 100-continue`).
    public var earlyAnswer: Decision.EarlyAnswer {
        // A proxied answer needs the body for the upstream; its fault applies to the upstream's answer.
        if self.proxy != nil { return .askForBody }
        if case .hang = self.fault { return .hangWithoutBody }
        if self.status >= 400 || self.fault != nil { return .answerWithoutBody }
        return .askForBody
    }
}

extension IncomingRequest {
    /// Whether an HTTP/1.1 client waits for `100 Continue` before it sends its body.
    public var expectsContinue: Bool {
        self.version == (1, 1)
            && self.headers.first(named: "Expect").map {
                $0.lowercased().split(separator: " ").joined() == "100-continue"
            } == true
    }
}
