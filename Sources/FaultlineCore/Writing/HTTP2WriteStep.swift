/// One step of putting a response on an HTTP/2 stream: the same plan as on HTTP/1.1, carried as frames. Every
/// HTTP/1.1 fault has its HTTP/2 meaning (DESIGN 6.2), and the faults only HTTP/2 has (`rstStream`, `goaway`,
/// `goawayAfter`) are steps too.
public enum HTTP2WriteStep: Sendable, Equatable {
    /// Wait before the first frame (the rule's `delay`); this stream only.
    case delay(Duration)
    /// Informational responses as HEADERS frames before the final one.
    case interim([InterimResponse])
    /// The final HEADERS frame, with END_STREAM when nothing follows; with `over`, its bytes spread over that duration.
    case head(over: Duration?, endStream: Bool)
    /// Wait between the head and the body (`bodyDelay`).
    case bodyDelay(Duration)
    /// The body as DATA frames, paced and cut as `BodyWrite` says (chunked framing does not apply).
    case body(BodyWrite)
    /// END_STREAM, when the last DATA frame could not carry it.
    case endStream
    /// RST_STREAM with this code: the stream ends without (the rest of) its response.
    case resetStream(HTTP2ErrorName)
    /// GOAWAY with this code; `refusesThisStream` puts the last-stream-id below this stream (the request was not
    /// processed), else at it. The connection closes once the streams at or below the last-stream-id are done.
    case goaway(HTTP2ErrorName, refusesThisStream: Bool)
    /// The whole connection ends: a FIN, or with `reset` a TCP RST.
    case closeConnection(reset: Bool)
    /// These bytes where the next frame belongs (`garbage`); the connection then closes.
    case garbage([UInt8])
    /// A HEADERS frame whose `:status` is not three digits (`bad-status`), ending the stream.
    case badStatusHead
    /// A DATA frame on this stream after its END_STREAM (`bad-chunk`).
    case dataAfterEndStream
    /// Hold the stream without writing; go on after the duration, or until the client resets it.
    case hang(Duration?)
    /// A stream's wait before its next item, counted from when the item before it was due (as on HTTP/1.1).
    case pause(Duration)
    /// One item of a stream as DATA frames, flushed at once; `whole` as on HTTP/1.1 (only whole items count as sent).
    case chunk(StreamItem, whole: Bool)
    /// The pieces of a produced body as DATA frames, each asked for only when the stream can take more.
    case pieces(ProducedBody)
    /// The exchange is over, with this ending for the journal.
    case finish(WriteStep.Finish)
}

extension ResponsePlan {
    /// The steps that put this plan on an HTTP/2 stream, in order.
    public var http2Steps: [HTTP2WriteStep] {
        var steps: [HTTP2WriteStep] = []
        steps.reserveCapacity(4)
        if self.delay > .zero { steps.append(.delay(self.delay)) }
        switch (self.action, self.fault) {
        case (.drop, _):
            // The whole connection, as a real server's drop would.
            steps += [.closeConnection(reset: false), .finish(.dropped)]
        case (.reset, _):
            steps += [.closeConnection(reset: true), .finish(.reset)]
        case (.hang(let duration), _):
            // This stream only; a timed hang ends with RST_STREAM CANCEL.
            steps += [.hang(duration), .resetStream(.cancel), .finish(.timedOut)]
        case (.raw(let bytes), .garbage?):
            steps += [.garbage(bytes), .finish(.dropped)]
        case (.raw, .badStatus?):
            steps += [.badStatusHead, .finish(.dropped)]
        case (.raw, .badChunk?):
            steps += [
                .head(over: nil, endStream: false), .body(BodyWrite()), .endStream, .dataAfterEndStream,
                .finish(.dropped),
            ]
        case (.raw(let bytes), _):
            steps += [.garbage(bytes), .finish(.dropped)]
        case (.respond, .rstStream(let code, nil)?):
            steps += [.resetStream(code), .finish(.reset)]
        case (.respond, .goaway(let code)?):
            steps += [.goaway(code, refusesThisStream: true), .finish(.dropped)]
        case (.respond, let fault):
            if !self.interim.isEmpty { steps.append(.interim(self.interim)) }
            if let stream = self.stream {
                self.appendHTTP2StreamSteps(stream, to: &steps)
                return steps
            }
            let hasBody = !self.segments.isEmpty || self.upstreamBody != nil
            let goawayAfter = if case .goawayAfter? = fault { true } else { false }
            steps.append(.head(over: self.slowHeaders, endStream: !hasBody && self.cut == nil && !goawayAfter))
            if hasBody {
                if self.bodyDelay > .zero { steps.append(.bodyDelay(self.bodyDelay)) }
                steps.append(
                    .body(
                        BodyWrite(
                            pieceSize: self.chunkSize,
                            bytesPerSecond: self.bytesPerSecond,
                            cutAfter: self.cut?.after
                        )
                    )
                )
            }
            switch fault {
            case .truncate?:
                steps += [.resetStream(.internalError), .finish(.reset)]
            case .resetAfter?:
                steps += [.closeConnection(reset: true), .finish(.reset)]
            case .rstStream(let code, _)?:
                steps += [.resetStream(code), .finish(.reset)]
            case .goawayAfter(let code)?:
                // The GOAWAY goes before the stream's END_STREAM, so a client that closes at once still reads it.
                steps += [.goaway(code, refusesThisStream: false), .endStream, .finish(.completed(closeAfter: false))]
            default:
                if hasBody { steps.append(.endStream) }
                steps.append(.finish(.completed(closeAfter: false)))
            }
        }
        return steps
    }
}
