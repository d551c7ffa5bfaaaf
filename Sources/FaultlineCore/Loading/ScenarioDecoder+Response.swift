import Foundation
import Yams

extension ScenarioDecoder {
    /// The statuses that must carry a `Location` (RFC 9110 section 15.4).
    static let statusesNeedingLocation: Set<Int> = [301, 302, 303, 305, 307, 308]

    /// Decodes the response keys of a rule or a sequence step; `node` is where the response starts, for problems
    /// about a missing key.
    mutating func decodeResponse(_ entries: [Entry], at node: Node, captures: Set<String>) -> ResponseSpec {
        var response = ResponseSpec(sourceLocation: self.location(of: node))
        var bodyEntries: [Entry] = []
        var statusEntry: Entry?
        var keepOpen: Entry?
        for entry in entries {
            switch entry.key {
            case "status":
                statusEntry = entry
                response.status = self.decodeStatus(entry.value, captures: captures) ?? .fixed(200)
            case "reason":
                if let reason = self.scalar(entry.value, expected: "a reason phrase") {
                    if HTTPSyntax.isFieldValue(reason) {
                        response.reason = reason
                    } else {
                        self.error(
                            "A reason phrase cannot contain a line break or a control character.",
                            at: entry.value
                        )
                    }
                }
            case "headers":
                for field in self.headerFields(entry.value, place: "response headers") ?? [] {
                    response.headers.append((field.name, TemplateString(parsing: field.value, captures: captures)))
                }
            case "body", "bodyFile", "bodySize", "json":
                bodyEntries.append(entry)
                response.body = self.decodeBody(entry, captures: captures) ?? response.body
            case "events":
                bodyEntries.append(entry)
                response.stream = self.decodeEvents(entry.value, captures: captures) ?? response.stream
            case "stream":
                bodyEntries.append(entry)
                response.stream = self.decodeStreamItems(entry.value, captures: captures) ?? response.stream
            case "keepOpen":
                keepOpen = entry
            case "retryAfter":
                response.retryAfter = self.decodeRetryAfter(entry.value, captures: captures)
            case "location":
                if let location = self.string(entry.value, expected: "a URI for the Location header") {
                    if HTTPSyntax.isFieldValue(location) {
                        response.location = TemplateString(parsing: location, captures: captures)
                    } else {
                        self.error("A location cannot contain a line break or a control character.", at: entry.value)
                    }
                }
            case "delay":
                response.delay = self.decodeDelay(entry.value, captures: captures)
            case "etag":
                if let tag = self.string(entry.value, expected: "an entity tag such as \"v1\" or W/\"v1\"") {
                    if EntityTag.isWellFormed(EntityTag.quoted(tag))
                        || TemplateString(parsing: tag, captures: captures).isTemplate
                    {
                        response.etag = TemplateString(parsing: tag, captures: captures)
                    } else {
                        self.error(
                            "'\(tag)' is not an entity tag; it cannot contain quotes or spaces inside.",
                            at: entry.value
                        )
                    }
                }
            case "lastModified":
                if let text = self.string(entry.value, expected: "an HTTP date such as 'Wed, 21 Oct 2026 07:28:00 GMT'")
                {
                    if let seconds = HTTPDate.parse(text) {
                        response.lastModified = seconds
                    } else {
                        self.error(
                            "Expected lastModified as an HTTP date such as 'Wed, 21 Oct 2026 07:28:00 GMT', found '\(text)'.",
                            at: entry.value
                        )
                    }
                }
            case "interim":
                response.interim = self.decodeInterim(entry.value)
            case "fault":
                response.fault = self.decodeFault(entry.value, captures: captures)
            case "bodyDelay":
                response.bodyDelay = self.decodeDelay(entry.value, captures: captures)
            case "throttle":
                response.throttle = self.decodeThrottle(entry.value, captures: captures)
            case "chunked":
                response.chunked = self.bool(entry.value) ?? false
            case "chunkSize":
                if let size = self.size(entry.value, what: "the chunk size") {
                    if size > 0 {
                        response.chunkSize = size
                    } else {
                        self.error("The chunk size must be at least one byte.", at: entry.value)
                    }
                }
            default:
                break
            }
        }
        response.proxy = self.decodeProxy(entries)

        self.checkStream(&response, entries: entries, keepOpen: keepOpen)
        if response.chunkSize != nil, !response.chunked, let entry = entries.first(where: { $0.key == "chunkSize" }) {
            self.error("'chunkSize' applies to a chunked body; add 'chunked: true'.", at: entry.keyNode)
        }
        if bodyEntries.count > 1 {
            let names = bodyEntries.map { "'\($0.key)'" }.joined(separator: " and ")
            self.error(
                "A response has one body, but \(names) each give one; keep one of them.",
                at: bodyEntries[1].keyNode
            )
        }
        if let status = response.status.fixedValue {
            if let bodyEntry = bodyEntries.first, status < 200 || status == 204 || status == 304 {
                self.error(
                    "A \(status) response never carries a body; remove '\(bodyEntry.key)' or choose another status.",
                    at: bodyEntry.keyNode
                )
            }
            if Self.statusesNeedingLocation.contains(status), response.location == nil {
                self.error(
                    "A \(status) response needs a 'location' saying where the resource moved.",
                    at: statusEntry?.keyNode ?? node
                )
            }
        }
        return response
    }

    /// `proxy` with `proxyTimeout`, `proxyCA` and `proxyInsecure`, and the keys that cannot stand beside it.
    mutating func decodeProxy(_ entries: [Entry]) -> ProxySpec? {
        guard let proxyEntry = entries.first(where: { $0.key == "proxy" }) else {
            for entry in entries where ScenarioKeys.proxyOptions.contains(entry.key) {
                self.error(
                    "'\(entry.key)' applies to a 'proxy' answer; add 'proxy: URL' or remove it.",
                    at: entry.keyNode
                )
            }
            return nil
        }
        for entry in entries where ScenarioKeys.notWithProxy.contains(entry.key) {
            self.error(
                "'\(entry.key)' cannot stand beside 'proxy': a proxied answer's status, body and framing are the upstream's "
                    + "(add or replace header fields with 'headers').",
                at: entry.keyNode
            )
        }
        let expected = "the upstream as an http:// or https:// URL, such as https://api.example.com/v1"
        guard let text = self.string(proxyEntry.value, expected: expected) else { return nil }
        let upstream: UpstreamURL
        switch UpstreamURL.parse(text) {
        case .success(let url):
            upstream = url
        case .failure(let problem):
            self.error("Expected \(expected): \(problem).", at: proxyEntry.value)
            return nil
        }
        var spec = ProxySpec(upstream: upstream)
        var caEntry: Entry?
        var insecureEntry: Entry?
        for entry in entries {
            switch entry.key {
            case "proxyTimeout":
                if let timeout = self.duration(entry.value, what: "how long the upstream may take") {
                    if timeout > .zero {
                        spec.timeout = timeout
                    } else {
                        self.error("The proxy timeout must be longer than zero.", at: entry.value)
                    }
                }
            case "proxyCA":
                caEntry = entry
                if let path = self.resolveFile(entry.value, what: "upstream CA certificate") {
                    if let problem = CertificateFiles.problemWithCA(path) {
                        self.error(problem, at: entry.value)
                    } else {
                        spec.trust = .certificateAuthority(file: path)
                    }
                }
            case "proxyInsecure":
                insecureEntry = entry
                if self.bool(entry.value) == true, caEntry == nil { spec.trust = .none }
            default:
                break
            }
        }
        if let entry = caEntry ?? insecureEntry, !upstream.isTLS {
            self.error("'\(entry.key)' applies to an https:// upstream; \(upstream) is plain HTTP.", at: entry.keyNode)
        }
        if let caEntry, let insecureEntry, self.bool(insecureEntry.value) == true {
            self.error("A proxy takes 'proxyCA' or 'proxyInsecure: true', not both.", at: caEntry.keyNode)
        }
        return spec
    }

    /// The faults written as a plain name.
    static let simpleFaults: [String: FaultSpec] = [
        "drop": .drop, "reset": .reset, "hang": .hang(nil), "garbage": .garbage, "bad-chunk": .badChunk,
        "bad-status": .badStatus,
    ]
    /// The faults that take a value, as one-key mappings (`afterBytes` goes beside `rstStream`).
    static let valuedFaults = ScenarioKeys.faultMapping.supported.filter { $0 != "afterBytes" }

    mutating func decodeFault(_ node: Node, captures: Set<String>) -> FaultSpec? {
        let known = (Array(Self.simpleFaults.keys) + Self.valuedFaults).sorted()
        switch node {
        case .scalar(let scalar):
            if let fault = Self.simpleFaults[scalar.string] { return fault }
            var message = "Unknown fault '\(scalar.string)'"
            if let suggestion = KeySuggester.suggestion(for: scalar.string, among: known) {
                message += "; did you mean '\(suggestion)'?"
            } else {
                message +=
                    "; expected drop, reset, hang, garbage, bad-chunk, bad-status, {truncate: N}, "
                    + "{resetAfter: N}, {hang: DURATION}, {slowHeaders: DURATION}, {rstStream: CODE}, {goaway: CODE}, "
                    + "{goawayAfter: CODE}, or on a stream {cutAfter: N}, {stallAfter: N} or {resetAfterEvents: N}."
            }
            self.error(message, at: node)
            return nil
        case .mapping(let mapping) where mapping.contains(where: { $0.key.string == "rstStream" }):
            return self.decodeResetStream(mapping, captures: captures)
        case .mapping(let mapping):
            guard mapping.count == 1, let (keyNode, value) = mapping.first, let kind = keyNode.string,
                Self.valuedFaults.contains(kind)
            else {
                let kind = mapping.first?.key.string ?? ""
                var message =
                    "A fault mapping holds one of {truncate: N}, {resetAfter: N}, {hang: DURATION}, "
                    + "{slowHeaders: DURATION}, {rstStream: CODE}, {goaway: CODE}, {goawayAfter: CODE}, {cutAfter: N}, "
                    + "{stallAfter: N} or {resetAfterEvents: N}"
                if mapping.count == 1, let suggestion = KeySuggester.suggestion(for: kind, among: Self.valuedFaults) {
                    message += "; did you mean '\(suggestion)'?"
                } else {
                    message += "."
                }
                self.error(message, at: mapping.first?.key ?? node)
                return nil
            }
            switch kind {
            case "truncate", "resetAfter":
                guard let count = self.templatedSize(value, what: "a number of body bytes", captures: captures) else {
                    return nil
                }
                return kind == "truncate" ? .truncate(count) : .resetAfter(count)
            case "hang":
                return self.templatedDuration(value, what: "how long to hang", captures: captures).map { .hang($0) }
            case "cutAfter":
                return self.templatedCount(value, what: "events sent before the cut", captures: captures).map {
                    .cutAfter($0)
                }
            case "stallAfter":
                return self.templatedCount(value, what: "events sent before the stall", captures: captures).map {
                    .stallAfter($0)
                }
            case "resetAfterEvents":
                return self.templatedCount(value, what: "events sent before the reset", captures: captures).map {
                    .resetAfterEvents($0)
                }
            case "goaway", "goawayAfter":
                guard let code = self.http2ErrorCode(value) else { return nil }
                return kind == "goaway" ? .goaway(code) : .goawayAfter(code)
            default:
                return self.templatedDuration(value, what: "how long the head takes", captures: captures).map {
                    .slowHeaders($0)
                }
            }
        default:
            self.error("Expected a fault such as drop or {truncate: 100}, found \(self.describe(node)).", at: node)
            return nil
        }
    }

    /// `{rstStream: CODE}` or `{rstStream: CODE, afterBytes: SIZE}`.
    mutating func decodeResetStream(_ mapping: Node.Mapping, captures: Set<String>) -> FaultSpec? {
        var code: HTTP2ErrorName?
        var afterBytes: Templated<Int64>?
        var valid = true
        for (keyNode, value) in mapping {
            switch keyNode.string {
            case "rstStream":
                code = self.http2ErrorCode(value)
                valid = valid && code != nil
            case "afterBytes":
                afterBytes = self.templatedSize(value, what: "a number of body bytes", captures: captures)
                valid = valid && afterBytes != nil
            default:
                self.error(
                    "{rstStream: CODE} takes only afterBytes beside it, found '\(keyNode.string ?? "")'.",
                    at: keyNode
                )
                valid = false
            }
        }
        guard valid, let code else { return nil }
        return .rstStream(code, afterBytes: afterBytes)
    }

    /// An HTTP/2 error code: an RFC 9113 name (`REFUSED_STREAM`) or a number.
    mutating func http2ErrorCode(_ node: Node) -> HTTP2ErrorName? {
        let expected = "an HTTP/2 error code such as REFUSED_STREAM, INTERNAL_ERROR or a number"
        guard let text = self.scalar(node, expected: expected) else { return nil }
        guard let code = HTTP2ErrorName.parse(text) else {
            var message = "Expected \(expected), found '\(text)'"
            if let suggestion = KeySuggester.suggestion(for: text.uppercased(), among: HTTP2ErrorName.names) {
                message += "; did you mean '\(suggestion)'?"
            } else {
                message += "; RFC 9113 names " + HTTP2ErrorName.names.joined(separator: ", ") + "."
            }
            self.error(message, at: node)
            return nil
        }
        return code
    }

    mutating func decodeThrottle(_ node: Node, captures: Set<String>) -> ThrottleSpec? {
        if case .mapping = node {
            guard let entries = self.entries(of: node, ScenarioKeys.throttle), let over = entries.first else {
                if case .mapping(let mapping) = node, mapping.isEmpty {
                    self.error("Expected throttle as a rate such as 16KiB/s or {over: DURATION}.", at: node)
                }
                return nil
            }
            return self.templatedDuration(over.value, what: "the time to spread the body over", captures: captures).map
            { .over($0) }
        }
        let expected = "throttle as a rate such as 16KiB/s or 500B/s, or {over: DURATION}"
        guard let text = self.scalar(node, expected: expected) else { return nil }
        if let rate = ByteCount.parseRate(text) {
            guard rate > 0 else {
                self.error("A throttle rate must be more than zero bytes per second.", at: node)
                return nil
            }
            return .rate(.fixed(rate))
        }
        let template = TemplateString(parsing: text, captures: captures)
        if template.isTemplate { return .rate(.template(template)) }
        self.error("Expected \(expected), found \(self.describe(node)).", at: node)
        return nil
    }

    mutating func templatedSize(_ node: Node, what: String, captures: Set<String>) -> Templated<Int64>? {
        if case .scalar(let scalar) = node {
            let template = TemplateString(parsing: scalar.string, captures: captures)
            if template.isTemplate { return .template(template) }
        }
        return self.size(node, what: what).map { .fixed($0) }
    }

    mutating func templatedDuration(_ node: Node, what: String, captures: Set<String>) -> Templated<Duration>? {
        if case .scalar(let scalar) = node {
            let template = TemplateString(parsing: scalar.string, captures: captures)
            if template.isTemplate { return .template(template) }
        }
        return self.duration(node, what: what).map { .fixed($0) }
    }

    mutating func decodeInterim(_ node: Node) -> [InterimResponse] {
        guard case .sequence(let sequence) = node else {
            self.error(
                "Expected 'interim' as a list of informational responses such as [{status: 103, headers: {Link: ...}}], "
                    + "found \(self.describe(node)).",
                at: node
            )
            return []
        }
        var responses: [InterimResponse] = []
        for element in sequence {
            guard let entries = self.entries(of: element, ScenarioKeys.interim) else { continue }
            var interim = InterimResponse(status: 0, headers: [])
            for entry in entries {
                if entry.key == "status" {
                    interim.status =
                        self.integer(entry.value, in: 100...199, expected: "an informational status from 100 to 199")
                        ?? 0
                    if interim.status == 101 {
                        self.error(
                            "101 Switching Protocols cannot be an interim response; it ends HTTP on the connection.",
                            at: entry.value
                        )
                    }
                } else {
                    interim.headers = (self.headerFields(entry.value, place: "interim headers") ?? []).map {
                        HeaderField($0.name, $0.value)
                    }
                }
            }
            if !entries.contains(where: { $0.key == "status" }) {
                self.error("An interim response needs a 'status' from 100 to 199.", at: element)
            }
            responses.append(interim)
        }
        return responses
    }

    mutating func decodeStatus(_ node: Node, captures: Set<String>) -> Templated<Int>? {
        let expected = "a status code from 100 to 599"
        guard let text = self.scalar(node, expected: expected) else { return nil }
        if let code = Int(text.trimmingSpaces()) {
            guard (100...599).contains(code) else {
                self.error("Expected \(expected), found \(code).", at: node)
                return nil
            }
            return .fixed(code)
        }
        let template = TemplateString(parsing: text, captures: captures)
        guard template.isTemplate else {
            self.error("Expected \(expected), found \(self.describe(node)).", at: node)
            return nil
        }
        return .template(template)
    }

    mutating func decodeRetryAfter(_ node: Node, captures: Set<String>) -> Templated<RetryAfter>? {
        let expected = "Retry-After as a number of seconds or an HTTP date such as 'Wed, 21 Oct 2026 07:28:00 GMT'"
        guard let text = self.scalar(node, expected: expected) else { return nil }
        if let seconds = Int(text.trimmingSpaces()), seconds >= 0 {
            return .fixed(.seconds(seconds))
        }
        if HTTPDate.parse(text) != nil {
            return .fixed(.date(text))
        }
        let template = TemplateString(parsing: text, captures: captures)
        if template.isTemplate { return .template(template) }
        self.error("Expected \(expected), found \(self.describe(node)).", at: node)
        return nil
    }

    mutating func decodeDelay(_ node: Node, captures: Set<String>) -> Templated<DelaySpec>? {
        switch node {
        case .scalar(let scalar):
            if let duration = DurationSyntax.parse(scalar.string) {
                return .fixed(.fixed(duration))
            }
            let template = TemplateString(parsing: scalar.string, captures: captures)
            if template.isTemplate { return .template(template) }
            self.error(
                "Expected a delay as a duration with a unit (500ms, 2s), {uniform: [MIN, MAX]} or "
                    + "{lognormal: {median: DURATION, sigma: NUMBER}}, found \(self.describe(node)).",
                at: node
            )
            return nil
        case .mapping(let mapping):
            guard mapping.count == 1, let (keyNode, value) = mapping.first, let kind = keyNode.string else {
                self.error("A delay mapping holds one key: 'uniform' or 'lognormal'.", at: node)
                return nil
            }
            switch kind {
            case "uniform":
                guard case .sequence(let bounds) = value, bounds.count == 2 else {
                    self.error("Expected 'uniform' as a list of two durations [MIN, MAX].", at: value)
                    return nil
                }
                guard let low = self.duration(bounds[0], what: "the shortest delay"),
                    let high = self.duration(bounds[1], what: "the longest delay")
                else { return nil }
                guard low <= high else {
                    self.error("The shortest delay must not be longer than the longest.", at: value)
                    return nil
                }
                return .fixed(.uniform(low, high))
            case "lognormal":
                return self.decodeLognormal(value)
            default:
                var message = "Unknown delay distribution '\(kind)'"
                if let suggestion = KeySuggester.suggestion(for: kind, among: ScenarioKeys.delayDistribution.supported)
                {
                    message += "; did you mean '\(suggestion)'?"
                } else {
                    message += "; expected 'uniform' or 'lognormal'."
                }
                self.error(message, at: keyNode)
                return nil
            }
        default:
            self.error("Expected a delay as a duration or a distribution, found \(self.describe(node)).", at: node)
            return nil
        }
    }

    private mutating func decodeLognormal(_ node: Node) -> Templated<DelaySpec>? {
        guard let entries = self.entries(of: node, ScenarioKeys.lognormal) else { return nil }
        var median: Duration?
        var sigma: Double?
        for entry in entries {
            if entry.key == "median" {
                median = self.duration(entry.value, what: "the median delay")
            } else {
                sigma = self.number(entry.value, in: 0...10, expected: "sigma as a number from 0 to 10")
            }
        }
        let given = Set(entries.map(\.key))
        guard given.count == 2 else {
            self.error("A lognormal delay needs both 'median' and 'sigma'.", at: node)
            return nil
        }
        guard let median, let sigma else { return nil }
        return .fixed(.lognormal(median: median, sigma: sigma))
    }

    mutating func decodeBody(_ entry: Entry, captures: Set<String>) -> BodySpec? {
        switch entry.key {
        case "body":
            if entry.value.mapping != nil || entry.value.sequence != nil {
                self.error(
                    "'body' takes text, found \(self.describe(entry.value)); for a JSON body written as YAML, use "
                        + "'json:' instead of 'body:'.",
                    at: entry.value
                )
                return nil
            }
            guard let text = self.scalar(entry.value, expected: "the body as a string") else { return nil }
            return .text(TemplateString(parsing: text, captures: captures))
        case "bodyFile":
            guard let path = self.string(entry.value, expected: "a file path relative to the scenario") else {
                return nil
            }
            return self.resolveBodyFile(path, at: entry.value).map { .file($0) }
        case "bodySize":
            if case .scalar(let scalar) = entry.value {
                let template = TemplateString(parsing: scalar.string, captures: captures)
                if template.isTemplate { return .generated(size: .template(template)) }
            }
            return self.size(entry.value, what: "the body size").map { .generated(size: .fixed($0)) }
        case "json":
            do {
                return .json(Array(try JSONWriter.render(entry.value).utf8))
            } catch {
                let mark = error.mark ?? entry.value.mark
                self.error(
                    error.message,
                    at: SourceLocation(file: self.file, line: mark?.line ?? 1, column: mark?.column ?? 1)
                )
                return nil
            }
        default:
            return nil
        }
    }

    /// Resolves a `bodyFile` path against the scenario's folder, refusing files that are missing, unreadable, not
    /// regular files, or outside that folder (symbolic links are followed before the check).
    mutating func resolveBodyFile(_ path: String, at node: Node) -> BodyFile? {
        guard let directory = self.files.directory else {
            self.error(
                "The body file '\(path)' cannot be used here: the server was started without a scenario file, so a "
                    + "scenario sent to the control API has no folder to name files in.",
                at: node
            )
            return nil
        }
        let base = URL(fileURLWithPath: directory, isDirectory: true).standardizedFileURL.resolvingSymlinksInPath()
        let url = URL(fileURLWithPath: path, relativeTo: base).standardizedFileURL.resolvingSymlinksInPath()
        let basePath = base.path.hasSuffix("/") ? base.path : base.path + "/"
        guard url.path.hasPrefix(basePath), url.path.count > basePath.count else {
            self.error("The body file '\(path)' lies outside the scenario's folder \(base.path).", at: node)
            return nil
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            self.error("The body file '\(path)' does not exist (looked for \(url.path)).", at: node)
            return nil
        }
        guard !isDirectory.boolValue else {
            self.error("The body file '\(path)' is a folder, not a file.", at: node)
            return nil
        }
        guard (try? FileManager.default.attributesOfItem(atPath: url.path)[.type] as? FileAttributeType) == .typeRegular
        else {
            self.error(
                "The body file '\(path)' is not a regular file (a pipe, a socket or a device cannot be a body).",
                at: node
            )
            return nil
        }
        guard FileManager.default.isReadableFile(atPath: url.path) else {
            self.error("The body file '\(path)' cannot be read (check its permissions).", at: node)
            return nil
        }
        return BodyFile(folder: base.path, relativePath: String(url.path.dropFirst(basePath.count)))
    }
}
