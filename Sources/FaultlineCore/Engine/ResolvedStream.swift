/// A streamed body with every template filled in: the items in their wire form, ready to be sent one by one.
public struct ResolvedStream: Sendable, Equatable {
    /// What the items are.
    public enum Kind: Sendable, Equatable {
        /// Server-Sent Events: `Last-Event-ID` resumes after an event of this stream.
        case events
        /// Chunks of a `stream:` body.
        case items
    }

    public var kind: Kind
    public var items: [StreamItem]
    /// Hold the connection after the last item until the client leaves.
    public var keepOpen: Bool
    /// The Content-Type Faultline sends unless the rule sets one: `text/event-stream` for events,
    /// `application/x-ndjson` for a stream of JSON items only, else `application/octet-stream`.
    public var contentType: String
    /// A body made piece by piece after the items as the connection takes it (the control API's journal).
    public var produced: ProducedBody?

    public init(
        kind: Kind,
        items: [StreamItem],
        keepOpen: Bool = false,
        contentType: String,
        produced: ProducedBody? = nil
    ) {
        self.kind = kind
        self.items = items
        self.keepOpen = keepOpen
        self.contentType = contentType
        self.produced = produced
    }

    /// The items a request carrying `lastEventID` gets: those after the event with that id when the stream has one
    /// (a faithful SSE server resumes there), else all of them (the stream's own array, not a copy).
    public func items(resumingAfter lastEventID: String?) -> [StreamItem] {
        guard self.kind == .events, let lastEventID,
            let index = self.items.firstIndex(where: { $0.eventID == lastEventID })
        else { return self.items }
        return Array(self.items[(index + 1)...])
    }
}
