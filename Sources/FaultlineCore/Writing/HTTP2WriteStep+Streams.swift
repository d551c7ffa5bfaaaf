extension ResponsePlan {
    /// A streamed body's steps on HTTP/2: the head (with END_STREAM only when nothing can follow), each item after its
    /// pause as DATA frames, then END_STREAM; or the fault that stops it early in its HTTP/2 meaning (DESIGN 6.3 and
    /// 6.7): `cutAfter` and `truncate` end the stream with RST_STREAM INTERNAL_ERROR, `resetAfterEvents` and
    /// `resetAfter` reset the connection (a TCP RST), `stallAfter` and `keepOpen` hold this stream only, `rstStream`
    /// with `afterBytes` sends its own code after those bytes, `goawayAfter` sends GOAWAY before END_STREAM.
    func appendHTTP2StreamSteps(_ stream: StreamedBody, to steps: inout [HTTP2WriteStep]) {
        steps.reserveCapacity(steps.count + 2 * stream.items.count + 4)
        let fault = self.fault
        let ends = self.cut == nil && fault?.streamItemsBefore == nil && !stream.keepOpen
        let nothingFollows =
            stream.items.isEmpty && stream.produced == nil && ends
            && !{ if case .goawayAfter? = fault { true } else { false } }()
        steps.append(.head(over: self.slowHeaders, endStream: nothingFollows))
        if nothingFollows {
            steps.append(.finish(.completed(closeAfter: false)))
            return
        }
        if self.bodyDelay > .zero, !stream.items.isEmpty { steps.append(.bodyDelay(self.bodyDelay)) }
        self.sentItems(of: stream) { item, whole in
            if item.delay > .zero { steps.append(.pause(item.delay)) }
            steps.append(.chunk(item, whole: whole))
        }
        if let produced = stream.produced { steps.append(.pieces(produced)) }
        switch fault {
        case .truncate?:
            steps += [.resetStream(.internalError), .finish(.reset)]
        case .resetAfter?, .resetAfterEvents?:
            steps += [.closeConnection(reset: true), .finish(.reset)]
        case .rstStream(let code, _)?:
            steps += [.resetStream(code), .finish(.reset)]
        case .cutAfter?:
            steps += [.resetStream(.internalError), .finish(.dropped)]
        case .stallAfter?:
            // Held until the client resets the stream or leaves (journaled client-closed); the finish is never reached.
            steps += [.hang(nil), .finish(.dropped)]
        case .goawayAfter(let code)?:
            steps += [.goaway(code, refusesThisStream: false), .endStream, .finish(.completed(closeAfter: false))]
        default:
            if stream.keepOpen {
                steps += [.hang(nil), .finish(.dropped)]
            } else {
                steps += [.endStream, .finish(.completed(closeAfter: false))]
            }
        }
    }
}
