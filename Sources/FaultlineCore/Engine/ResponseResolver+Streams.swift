/// Streams: each event rendered to its `text/event-stream` bytes and each item to its bytes, once per request (once
/// per scenario load when nothing in them varies).
extension ResponseResolver {
    /// The media type of a `stream:` whose every item is `json`.
    static let ndjson = "application/x-ndjson"

    /// Resolves a stream's templates and renders its items.
    static func stream(_ spec: StreamSpec, in context: TemplateContext) throws(TemplateError) -> ResolvedStream {
        switch spec.content {
        case .events(let events):
            var items: [StreamItem] = []
            items.reserveCapacity(events.count)
            for event in events {
                items.append(try self.event(event, in: context))
            }
            return ResolvedStream(
                kind: .events,
                items: items,
                keepOpen: spec.keepOpen,
                contentType: "text/event-stream"
            )
        case .items(let specs):
            var items: [StreamItem] = []
            items.reserveCapacity(specs.count)
            var allJSON = !specs.isEmpty
            for spec in specs {
                let delay = try self.itemDelay(spec.delay, in: context)
                switch spec.content {
                case .text(let template):
                    allJSON = false
                    items.append(
                        StreamItem(delay: delay, payload: .bytes(Array(try template.render(in: context).utf8)))
                    )
                case .json(let line):
                    items.append(StreamItem(delay: delay, payload: .bytes(line)))
                case .bytes(let size):
                    allJSON = false
                    items.append(StreamItem(delay: delay, payload: .generated(self.generatedBytes, size: size)))
                }
            }
            return ResolvedStream(
                kind: .items,
                items: items,
                keepOpen: spec.keepOpen,
                contentType: allJSON ? self.ndjson : "application/octet-stream"
            )
        }
    }

    /// One event in its wire form.
    static func event(_ event: EventSpec, in context: TemplateContext) throws(TemplateError) -> StreamItem {
        let delay = try self.itemDelay(event.delay, in: context)
        if let raw = event.raw {
            return StreamItem(delay: delay, payload: .bytes(raw))
        }
        var fields = EventStreamEncoder.Fields(retry: event.retry)
        fields.comment = try event.comment?.render(in: context)
        if let type = try event.event?.render(in: context) {
            guard EventStreamEncoder.isFieldValue(type) else {
                throw TemplateError(message: "The event type '\(type)' would contain a line break.")
            }
            fields.event = type
        }
        if let id = try event.id?.render(in: context) {
            guard EventStreamEncoder.isFieldValue(id, isID: true) else {
                throw TemplateError(message: "The event id '\(id)' would contain a line break or a NUL.")
            }
            fields.id = id
        }
        switch event.data {
        case .none: break
        case .text(let template): fields.data = try template.render(in: context)
        case .json(let text): fields.data = text
        }
        return StreamItem(
            delay: delay,
            payload: .bytes(EventStreamEncoder.encode(fields)),
            eventID: fields.id,
            retry: event.retry
        )
    }

    static func itemDelay(_ delay: Templated<Duration>?, in context: TemplateContext) throws(TemplateError) -> Duration
    {
        guard let delay else { return .zero }
        return try self.value(delay, in: context, what: "a duration such as 2, 1.5s or 250ms") {
            DurationSyntax.parse($0, allowBareSeconds: true)
        }
    }

    /// A number of events or items, for the stream faults.
    static func itemCount(_ count: Templated<Int>, in context: TemplateContext) throws(TemplateError) -> Int {
        try self.value(count, in: context, what: "a number of events of at least 0") { text in
            Int(text.trimmingSpaces()).flatMap { $0 >= 0 ? $0 : nil }
        }
    }
}
