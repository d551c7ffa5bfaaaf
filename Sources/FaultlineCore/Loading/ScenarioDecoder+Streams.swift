import Yams

/// `events:` (Server-Sent Events), `stream:` (NDJSON and other chunks) and `keepOpen`, and what may stand beside them.
extension ScenarioDecoder {
    /// The keys a streamed response cannot take, with why.
    static let notForStreams: [(key: String, why: String)] = [
        ("throttle", "'throttle' paces a body of known length; a stream is paced by each item's 'delay'."),
        ("chunked", "A stream is always sent in chunks, one per item (on HTTP/1.1); remove 'chunked'."),
        ("chunkSize", "A stream is sent one chunk per item; remove 'chunkSize'."),
        ("etag", "A stream is not a stored representation and has no entity tag; remove 'etag'."),
        (
            "lastModified",
            "A stream is not a stored representation and has no modification time; remove 'lastModified'."
        ),
    ]

    /// `events:` — a list of events, each `{data, event, id, retry, comment, delay}` or `{raw, delay}`.
    mutating func decodeEvents(_ node: Node, captures: Set<String>) -> StreamSpec? {
        guard case .sequence(let sequence) = node else {
            self.error(
                "Expected 'events' as a list of events such as [{data: hello}, {data: world, delay: 1s}], found \(self.describe(node)).",
                at: node
            )
            return nil
        }
        var events: [EventSpec] = []
        for element in sequence {
            if let event = self.decodeEvent(element, captures: captures) { events.append(event) }
        }
        return StreamSpec(content: .events(events))
    }

    private mutating func decodeEvent(_ node: Node, captures: Set<String>) -> EventSpec? {
        guard let entries = self.entries(of: node, ScenarioKeys.event) else { return nil }
        var event = EventSpec(sourceLocation: self.location(of: node))
        for entry in entries {
            switch entry.key {
            case "data":
                if entry.value.mapping != nil || entry.value.sequence != nil {
                    do {
                        event.data = .json(try JSONWriter.render(entry.value))
                    } catch {
                        let mark = error.mark ?? entry.value.mark
                        self.error(
                            error.message,
                            at: SourceLocation(file: self.file, line: mark?.line ?? 1, column: mark?.column ?? 1)
                        )
                    }
                } else if let text = self.scalar(
                    entry.value,
                    expected: "the event's data as text, or YAML sent as JSON"
                ) {
                    event.data = .text(TemplateString(parsing: text, captures: captures))
                }
            case "event":
                event.event = self.oneLineField(entry.value, what: "the event type", isID: false, captures: captures)
            case "id":
                event.id = self.oneLineField(entry.value, what: "the event id", isID: true, captures: captures)
            case "retry":
                event.retry = self.duration(entry.value, what: "the reconnection time")
            case "comment":
                if let text = self.scalar(entry.value, expected: "a comment as text") {
                    event.comment = TemplateString(parsing: text, captures: captures)
                }
            case "raw":
                if let text = self.scalar(entry.value, expected: "the bytes to send, as text") {
                    event.raw = Array(text.utf8)
                }
            case "delay":
                event.delay = self.templatedDuration(entry.value, what: "the wait before the event", captures: captures)
            default:
                break
            }
        }
        let fields = entries.map(\.key).filter { $0 != "delay" }
        if let raw = entries.first(where: { $0.key == "raw" }), fields.count > 1 {
            let others = fields.filter { $0 != "raw" }.map { "'\($0)'" }.joined(separator: ", ")
            self.error(
                "An event with 'raw' is sent exactly as written, so \(others) cannot stand beside it; write them into the raw text.",
                at: raw.keyNode
            )
        }
        // A mapping whose only keys were unknown has been reported already.
        if fields.isEmpty, entries.count == node.mapping?.count {
            self.error("An event needs at least one of data, event, id, retry, comment or raw.", at: node)
        }
        return event
    }

    /// A field that must stay on one line (`event`, `id`): checked now when fixed, when rendered when a template.
    private mutating func oneLineField(_ node: Node, what: String, isID: Bool, captures: Set<String>) -> TemplateString?
    {
        guard let text = self.scalar(node, expected: "\(what) as text") else { return nil }
        guard EventStreamEncoder.isFieldValue(text, isID: isID) else {
            self.error(
                "\(what.prefix(1).uppercased() + what.dropFirst()) must stay on one line\(isID ? " and hold no NUL" : "").",
                at: node
            )
            return nil
        }
        return TemplateString(parsing: text, captures: captures)
    }

    /// `stream:` — a list of items, each one of `{body: TEXT}`, `{json: YAML}` or `{bytes: SIZE}`, with a `delay`.
    mutating func decodeStreamItems(_ node: Node, captures: Set<String>) -> StreamSpec? {
        guard case .sequence(let sequence) = node else {
            self.error(
                "Expected 'stream' as a list of items such as [{json: {id: 1}}, {json: {id: 2}, delay: 1s}], found \(self.describe(node)).",
                at: node
            )
            return nil
        }
        var items: [StreamItemSpec] = []
        for element in sequence {
            guard let entries = self.entries(of: element, ScenarioKeys.streamItem) else { continue }
            var content: StreamItemSpec.Content?
            var delay: Templated<Duration>?
            let kinds = entries.filter { $0.key != "delay" }
            if kinds.count > 1 || (kinds.isEmpty && entries.count == element.mapping?.count) {
                let message =
                    kinds.isEmpty
                    ? "A stream item needs one of 'body' (text), 'json' (a line of JSON) or 'bytes' (a size)."
                    : "A stream item sends one of 'body', 'json' or 'bytes', but \(kinds.map { "'\($0.key)'" }.joined(separator: " and ")) each give one."
                self.error(message, at: kinds.count > 1 ? kinds[1].keyNode : element)
            }
            for entry in entries {
                switch entry.key {
                case "body":
                    if entry.value.mapping != nil || entry.value.sequence != nil {
                        self.error(
                            "'body' takes text, found \(self.describe(entry.value)); for a line of JSON, use 'json:'.",
                            at: entry.value
                        )
                    } else if let text = self.scalar(entry.value, expected: "the item as text") {
                        content = .text(TemplateString(parsing: text, captures: captures))
                    }
                case "json":
                    do {
                        content = .json(Array((try JSONWriter.render(entry.value) + "\n").utf8))
                    } catch {
                        let mark = error.mark ?? entry.value.mark
                        self.error(
                            error.message,
                            at: SourceLocation(file: self.file, line: mark?.line ?? 1, column: mark?.column ?? 1)
                        )
                    }
                case "bytes":
                    content = self.size(entry.value, what: "the number of bytes").map { .bytes($0) }
                case "delay":
                    delay = self.templatedDuration(entry.value, what: "the wait before the item", captures: captures)
                default:
                    break
                }
            }
            if let content { items.append(StreamItemSpec(content: content, delay: delay)) }
        }
        return StreamSpec(content: .items(items))
    }

    /// `keepOpen`, the keys a stream cannot take, and the stream faults on a response without a stream.
    mutating func checkStream(_ response: inout ResponseSpec, entries: [Entry], keepOpen: Entry?) {
        let isStream = entries.contains { $0.key == "events" || $0.key == "stream" }
        if let keepOpen {
            if isStream {
                response.stream?.keepOpen = self.bool(keepOpen.value) ?? false
            } else {
                self.error(
                    "'keepOpen' applies to 'events' or 'stream'; this response has neither.",
                    at: keepOpen.keyNode
                )
            }
        }
        if isStream {
            for (key, why) in Self.notForStreams {
                if let entry = entries.first(where: { $0.key == key }) { self.error(why, at: entry.keyNode) }
            }
        } else if let fault = response.fault, let entry = entries.first(where: { $0.key == "fault" }) {
            let name: String? =
                switch fault {
                case .cutAfter: "cutAfter"
                case .stallAfter: "stallAfter"
                case .resetAfterEvents: "resetAfterEvents"
                default: nil
                }
            if let name {
                self.error(
                    "'\(name)' counts the events of 'events' or the items of 'stream'; this response has neither "
                        + "(for a body, {truncate: N} and {resetAfter: N} count bytes).",
                    at: entry.value
                )
            }
        }
    }

    /// A whole number of at least 0, or a template.
    mutating func templatedCount(_ node: Node, what: String, captures: Set<String>) -> Templated<Int>? {
        let expected = "the number of \(what), a whole number of at least 0"
        guard let text = self.scalar(node, expected: expected) else { return nil }
        if let count = Int(text.trimmingSpaces()), count >= 0 { return .fixed(count) }
        let template = TemplateString(parsing: text, captures: captures)
        if template.isTemplate { return .template(template) }
        self.error("Expected \(expected), found \(self.describe(node)).", at: node)
        return nil
    }
}
