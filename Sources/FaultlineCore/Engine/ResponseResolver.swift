/// Turns a response as written in the scenario into the response to send: fills templates from the request and
/// draws random delays from the rule's generator.
enum ResponseResolver {
    /// The generated-bytes stream every `bodySize` body uses, so a body of a given size is always the same bytes.
    static let generatedBytes = GeneratedBytes(key: 0x4661_756C_746C_696E)

    static func resolve(
        _ spec: ResponseSpec,
        defaultHeaders: [HeaderField],
        context: TemplateContext,
        generator: inout SeededGenerator
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
            response.body = .bytes(Array(try template.render(in: context).utf8), contentType: "text/plain; charset=utf-8")
        case .json(let bytes):
            response.body = .bytes(bytes, contentType: "application/json")
        case .file(let path):
            response.body = .file(path: path, contentType: MediaTypes.forFile(path))
        case .generated(.fixed(let size)):
            response.body = .generated(self.generatedBytes, size: size)
        case .generated(.template(let template)):
            let text = try template.render(in: context)
            guard let size = ByteCount.parse(text) else {
                throw TemplateError(message: "'\(text)' is not a size such as 1024 or 16KiB.")
            }
            response.body = .generated(self.generatedBytes, size: size)
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

        switch spec.delay {
        case .none:
            break
        case .fixed(let delay):
            response.delay = delay.sample(using: &generator)
        case .template(let template):
            let text = try template.render(in: context)
            guard let delay = DurationSyntax.parse(text, allowBareSeconds: true) else {
                throw TemplateError(message: "'\(text)' is not a duration such as 2, 1.5s or 250ms.")
            }
            response.delay = delay
        }
        return response
    }

    /// Renders a header value, refusing request data that would break the head (a line break is a header injection).
    static func fieldValue(_ template: TemplateString, in context: TemplateContext, name: String) throws(TemplateError) -> String {
        let value = try template.render(in: context)
        guard HTTPSyntax.isFieldValue(value) else {
            throw TemplateError(message: "The value for \(name) would contain a line break or a control character.")
        }
        return value
    }
}
