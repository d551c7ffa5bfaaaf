/// One step of putting a response on an HTTP/1.1 connection. A response plan becomes a short list of these
/// (`ResponsePlan.http1Steps`), and the server's writer carries them out in order: every delay, every part of the
/// message and every fault is a step, so a fault is a way of writing, not a special case of the connection.
public enum WriteStep: Sendable, Equatable {
    /// Wait before the first byte (the rule's `delay`). A client that leaves meanwhile has given up.
    case delay(Duration)
    /// The informational responses (`103 Early Hints`) sent before the final head.
    case interim([InterimResponse])
    /// The final head, dated when written; with `over`, a few bytes at a time spread evenly over that duration
    /// (`slowHeaders`: the first byte at once, the last when the duration is up).
    case head(over: Duration?)
    /// Wait between the head and the body (`bodyDelay`).
    case bodyDelay(Duration)
    /// The body: the plan's segments, in pieces, paced and cut as `BodyWrite` says.
    case body(BodyWrite)
    /// Bytes sent instead of a proper response (`garbage`, `bad-status`, `bad-chunk`); `status` is the status line
    /// they carry, when they carry a readable one.
    case raw([UInt8], status: Int?)
    /// Write nothing; go on after the duration, or wait for the client to leave when there is none.
    case hang(Duration?)
    /// Wait in the middle of a body before its next piece (the next event of a stream): the duration counts from
    /// when the piece before it was due, so a stream keeps its schedule however long each write takes.
    case pause(Duration)
    /// One piece of a body produced as it goes (an event, an item of a stream), written and flushed at once: one
    /// chunk when the body is chunked. `whole` is false for a piece a byte cut (`truncate`) shortened; only whole
    /// pieces count as sent events.
    case chunk(StreamItem, whole: Bool)
    /// The pieces of a produced body, each asked for only when the connection can take more, each written as a
    /// chunk like `chunk`'s; the step is done when the body is all out.
    case pieces(ProducedBody)
    /// The end of a body written piece by piece: the last chunk (`0 CRLF CRLF`) when it is chunked.
    case endOfBody
    /// The exchange is over; how the connection ends.
    case finish(Finish)

    /// How an exchange ends, for the connection and the journal.
    public enum Finish: Sendable, Equatable {
        /// The whole response went out; the connection closes after it when `closeAfter`, else it stays open.
        case completed(closeAfter: Bool)
        /// The server closed the connection early (a FIN): `drop`, `truncate`, `garbage`, `bad-status`, `bad-chunk`.
        case dropped
        /// The server reset the connection (an RST): `reset`, `resetAfter`.
        case reset
        /// A timed hang ran out: the connection closes (a FIN) and the exchange ends in a timeout.
        case timedOut
    }
}

/// How a body goes out.
public struct BodyWrite: Sendable, Equatable {
    /// Framed as chunks (`size CRLF data CRLF`, then `0 CRLF CRLF`), because the head says `chunked`.
    public var chunked: Bool
    /// The largest piece written at once (each piece one chunk when chunked); `nil` for the writer's own size.
    public var pieceSize: Int64?
    /// The pace, in bytes per second (`throttle`, go-httpbin's `drip`).
    public var bytesPerSecond: Int64?
    /// Stop after this many body bytes (`truncate`, `resetAfter`); the finish step says how the connection ends.
    public var cutAfter: Int64?

    public init(chunked: Bool = false, pieceSize: Int64? = nil, bytesPerSecond: Int64? = nil, cutAfter: Int64? = nil) {
        self.chunked = chunked
        self.pieceSize = pieceSize
        self.bytesPerSecond = bytesPerSecond
        self.cutAfter = cutAfter
    }
}

extension ResponsePlan {
    /// The steps that put this plan on an HTTP/1.1 connection, in order.
    public var http1Steps: [WriteStep] {
        var steps: [WriteStep] = []
        steps.reserveCapacity(4)
        if self.delay > .zero { steps.append(.delay(self.delay)) }
        switch self.action {
        case .drop:
            steps.append(.finish(.dropped))
        case .reset:
            steps.append(.finish(.reset))
        case .hang(let duration):
            steps.append(.hang(duration))
            steps.append(.finish(.timedOut))
        case .raw(let bytes):
            steps.append(.raw(bytes, status: self.status == 499 ? nil : self.status))
            steps.append(.finish(.dropped))
        case .respond:
            if !self.interim.isEmpty { steps.append(.interim(self.interim)) }
            steps.append(.head(over: self.slowHeaders))
            if let stream = self.stream {
                self.appendStreamSteps(stream, to: &steps)
                return steps
            }
            if !self.segments.isEmpty || self.isChunked || self.upstreamBody != nil {
                if self.bodyDelay > .zero { steps.append(.bodyDelay(self.bodyDelay)) }
                steps.append(
                    .body(
                        BodyWrite(
                            chunked: self.isChunked,
                            pieceSize: self.chunkSize,
                            bytesPerSecond: self.bytesPerSecond,
                            cutAfter: self.cut?.after
                        )
                    )
                )
            }
            switch self.cut {
            case .some(let cut): steps.append(.finish(cut.reset ? .reset : .dropped))
            case .none: steps.append(.finish(.completed(closeAfter: self.closeAfter)))
            }
        }
        return steps
    }
}

extension ResponsePlan {
    /// A streamed body's steps: each item after its pause, as one chunk; then its end, or the fault that stops it
    /// early (`cutAfter`: a close without the last chunk; `stallAfter`: nothing more until the client leaves;
    /// `resetAfterEvents`: an RST; `truncate` and `resetAfter` count the stream's bytes), or `keepOpen`'s wait.
    /// Calls `send` with each item of a streamed body that goes out, in order, before any fault stops it: up to the
    /// fault's count of items (`cutAfter`, `stallAfter`, `resetAfterEvents`), and the items' bytes up to a byte cut
    /// (`truncate`, `resetAfter`, `rstStream` with `afterBytes`), the last one cut short (`whole` false) where the
    /// cut falls inside it. HTTP/1.1's steps and HTTP/2's are made from the same items.
    func sentItems(of stream: StreamedBody, _ send: (_ item: StreamItem, _ whole: Bool) -> Void) {
        let itemLimit = self.fault?.streamItemsBefore ?? Int.max
        var bytesLeft = self.cut?.after ?? Int64.max
        for (index, item) in stream.items.enumerated() {
            guard index < itemLimit, bytesLeft > 0 else { break }
            if item.length > bytesLeft {
                send(item.prefix(bytesLeft), false)
                return
            }
            bytesLeft -= item.length
            send(item, true)
        }
    }

    func appendStreamSteps(_ stream: StreamedBody, to steps: inout [WriteStep]) {
        steps.reserveCapacity(steps.count + 2 * stream.items.count + 3)
        if self.bodyDelay > .zero { steps.append(.bodyDelay(self.bodyDelay)) }
        self.sentItems(of: stream) { item, whole in
            if item.delay > .zero { steps.append(.pause(item.delay)) }
            steps.append(.chunk(item, whole: whole))
        }
        if let produced = stream.produced { steps.append(.pieces(produced)) }
        if let cut = self.cut {
            steps.append(.finish(cut.reset ? .reset : .dropped))
            return
        }
        switch self.fault {
        case .cutAfter?:
            steps.append(.finish(.dropped))
        case .resetAfterEvents?:
            steps.append(.finish(.reset))
        case .stallAfter?:
            // Held until the client leaves (journaled client-closed); the finish is never reached.
            steps.append(.hang(nil))
            steps.append(.finish(.dropped))
        default:
            if stream.keepOpen {
                steps.append(.hang(nil))
                steps.append(.finish(.dropped))
            } else {
                if self.isChunked { steps.append(.endOfBody) }
                steps.append(.finish(.completed(closeAfter: self.closeAfter)))
            }
        }
    }
}
