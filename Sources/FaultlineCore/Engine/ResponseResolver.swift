/// Turns a response as written in the scenario into the response to send: fills templates from the request and
/// draws random delays from the rule's generator.
enum ResponseResolver {
    /// The generated-bytes stream every `bodySize` body uses, so a body of a given size is always the same bytes.
    static let generatedBytes = GeneratedBytes(key: 0x4661_756C_746C_696E)

    /// The random choices one answer makes, drawn from the rule's stream under the engine's lock, in a fixed order
    /// (delay, body delay, garbage), so the same seed and request order give the same answers.
    struct Draws: Sendable {
        var delay: Duration?
        var bodyDelay: Duration?
        var garbage: (key: UInt64, length: Int)?
    }

    /// Makes the random choices `spec` needs; templates are not touched.
    static func draw(_ spec: ResponseSpec, generator: inout SeededGenerator) -> Draws {
        var draws = Draws()
        if case .fixed(let delay) = spec.delay { draws.delay = delay.sample(using: &generator) }
        if case .fixed(let delay) = spec.bodyDelay { draws.bodyDelay = delay.sample(using: &generator) }
        if case .garbage = spec.fault {
            // A few hundred bytes that look like nothing a client can parse, the same for the same seed.
            let length = 64 + Int(generator.nextInt(below: 961))
            draws.garbage = (generator.next(), length)
        }
        return draws
    }

    /// Resolves `spec`, drawing its random choices from `generator` first.
    static func resolve(
        _ spec: ResponseSpec,
        defaultHeaders: [HeaderField],
        context: TemplateContext,
        generator: inout SeededGenerator
    ) throws(TemplateError) -> ResolvedResponse {
        try self.resolve(
            spec,
            defaultHeaders: defaultHeaders,
            context: context,
            draws: self.draw(spec, generator: &generator)
        )
    }

    /// Resolves `spec` with its random choices already made.
    static func resolve(
        _ spec: ResponseSpec,
        defaultHeaders: [HeaderField],
        context: TemplateContext,
        draws: Draws
    ) throws(TemplateError) -> ResolvedResponse {
        var response = ResolvedResponse(status: 200, reason: spec.reason)

        switch spec.status {
        case .fixed(let status):
            response.status = status
        case .template(let template):
            let text = try template.render(in: context)
            guard let status = Int(text), (100...599).contains(status) else {
                throw TemplateError(message: "'\(text)' is not a status code from 100 to 599.")
            }
            response.status = status
        }

        var headers: [HeaderField] = []
        for (name, value) in spec.headers {
            headers.append(HeaderField(name, try self.fieldValue(value, in: context, name: name)))
        }
        // The rule's own headers win over the scenario's defaults of the same name.
        response.headers = defaultHeaders.filter { field in !headers.contains(named: field.name) } + headers

        switch spec.body {
        case .none:
            response.body = .none
        case .text(let template):
            response.body = .bytes(
                Array(try template.render(in: context).utf8),
                contentType: "text/plain; charset=utf-8"
            )
        case .json(let bytes):
            response.body = .bytes(bytes, contentType: "application/json")
        case .file(let file):
            response.body = .file(file, contentType: MediaTypes.forFile(file.path))
        case .generated(.fixed(let size)):
            response.body = .generated(self.generatedBytes, size: size)
        case .generated(.template(let template)):
            let text = try template.render(in: context)
            guard let size = ByteCount.parse(text) else {
                throw TemplateError(message: "'\(text)' is not a size such as 1024 or 16KiB.")
            }
            response.body = .generated(self.generatedBytes, size: size)
        }

        if let stream = spec.stream {
            response.stream = try self.stream(stream, in: context)
        }

        switch spec.retryAfter {
        case .none:
            break
        case .fixed(let value):
            response.retryAfter = value.headerValue
        case .template(let template):
            let text = try template.render(in: context)
            guard Int(text).map({ $0 >= 0 }) == true || HTTPDate.parse(text) != nil else {
                throw TemplateError(message: "'\(text)' is not a number of seconds or an HTTP date.")
            }
            response.retryAfter = text
        }

        if let location = spec.location {
            response.location = try self.fieldValue(location, in: context, name: "Location")
        }
        if let etag = spec.etag {
            let tag = EntityTag.quoted(try etag.render(in: context))
            guard EntityTag.isWellFormed(tag) else {
                throw TemplateError(message: "'\(tag)' is not an entity tag.")
            }
            response.etag = tag
        }
        if let lastModified = spec.lastModified {
            response.lastModified = lastModified
            response.lastModifiedIsExplicit = true
        }
        response.interim = spec.interim

        response.delay = try self.delay(spec.delay, drawn: draws.delay, in: context)
        response.bodyDelay = try self.delay(spec.bodyDelay, drawn: draws.bodyDelay, in: context)
        switch spec.throttle {
        case .none:
            break
        case .rate(let rate):
            let value = try self.value(rate, in: context, what: "a rate in bytes per second") {
                ByteCount.parseRate($0) ?? ByteCount.parse($0)
            }
            guard value > 0 else { throw TemplateError(message: "A throttle of zero bytes per second never ends.") }
            response.bytesPerSecond = value
        case .over(let duration):
            response.spreadOver = try self.value(duration, in: context, what: "a duration") {
                DurationSyntax.parse($0, allowBareSeconds: true)
            }
        }
        if spec.chunked { response.chunkSize = spec.chunkSize ?? 8192 }
        response.proxy = spec.proxy
        if let fault = spec.fault {
            response.fault = try self.fault(fault, in: context, garbage: draws.garbage)
        }
        return response
    }

    static func delay(
        _ spec: Templated<DelaySpec>?,
        drawn: Duration?,
        in context: TemplateContext
    ) throws(TemplateError) -> Duration {
        switch spec {
        case .none:
            return .zero
        case .fixed:
            return drawn ?? .zero
        case .template(let template):
            let text = try template.render(in: context)
            guard let delay = DurationSyntax.parse(text, allowBareSeconds: true) else {
                throw TemplateError(message: "'\(text)' is not a duration such as 2, 1.5s or 250ms.")
            }
            return delay
        }
    }

    /// A fixed value, or a template rendered and parsed by `parse`.
    static func value<Value>(
        _ templated: Templated<Value>,
        in context: TemplateContext,
        what: String,
        parse: (String) -> Value?
    ) throws(TemplateError) -> Value {
        switch templated {
        case .fixed(let value):
            return value
        case .template(let template):
            let text = try template.render(in: context)
            guard let value = parse(text) else { throw TemplateError(message: "'\(text)' is not \(what).") }
            return value
        }
    }

    static func fault(
        _ spec: FaultSpec,
        in context: TemplateContext,
        garbage: (key: UInt64, length: Int)?
    ) throws(TemplateError) -> Fault {
        switch spec {
        case .drop: return .drop
        case .reset: return .reset
        case .badChunk: return .badChunk
        case .badStatus: return .badStatus
        case .garbage:
            let drawn = garbage ?? (key: 0, length: 64)
            return .garbage(key: drawn.key, length: drawn.length)
        case .hang(let duration):
            return .hang(
                try duration.map { d throws(TemplateError) in
                    try self.value(d, in: context, what: "a duration") {
                        DurationSyntax.parse($0, allowBareSeconds: true)
                    }
                }
            )
        case .truncate(let count):
            return .truncate(try self.value(count, in: context, what: "a number of bytes") { ByteCount.parse($0) })
        case .resetAfter(let count):
            return .resetAfter(try self.value(count, in: context, what: "a number of bytes") { ByteCount.parse($0) })
        case .slowHeaders(let duration):
            return .slowHeaders(
                try self.value(duration, in: context, what: "a duration") {
                    DurationSyntax.parse($0, allowBareSeconds: true)
                }
            )
        case .cutAfter(let count):
            return .cutAfter(try self.itemCount(count, in: context))
        case .stallAfter(let count):
            return .stallAfter(try self.itemCount(count, in: context))
        case .resetAfterEvents(let count):
            return .resetAfterEvents(try self.itemCount(count, in: context))
        case .rstStream(let code, let afterBytes):
            return .rstStream(
                code,
                afterBytes: try afterBytes.map { count throws(TemplateError) in
                    try self.value(count, in: context, what: "a number of bytes") { ByteCount.parse($0) }
                }
            )
        case .goaway(let code):
            return .goaway(code)
        case .goawayAfter(let code):
            return .goawayAfter(code)
        }
    }

    /// Renders a header value, refusing request data that would break the head (a line break is a header injection).
    static func fieldValue(
        _ template: TemplateString,
        in context: TemplateContext,
        name: String
    ) throws(TemplateError) -> String {
        let value = try template.render(in: context)
        guard HTTPSyntax.isFieldValue(value) else {
            throw TemplateError(message: "The value for \(name) would contain a line break or a control character.")
        }
        return value
    }
}
