import FaultlineCore
import NIOCore

// MARK: - A body that streams in (a proxied answer's)

extension HTTP1ResponseWriter {
    /// Writes as much of a streamed body as the client, the pace and any cut allow: a piece is taken from the stream
    /// only when the channel is writable, so a slow client leaves the rest with the stream, whose upstream then waits
    /// too. When the stream has nothing yet, the writer waits for it, and flushes what it wrote at the end of the
    /// event loop's turn: a piece that arrived in the same read as the head goes out with it, in one write. When the
    /// stream ends, the body ends (with the chunked terminator when chunked); when it breaks off, the connection
    /// closes (the client sees a short body).
    func pumpIncoming(_ stream: any IncomingBody, _ run: Run) {
        while self.context.channel.isWritable {
            let elapsed = Duration.nanoseconds((NIODeadline.now() - run.bodyStartedAt).nanoseconds)
            switch run.pacer.next(sent: run.incomingSent, elapsed: elapsed) {
            case .cut:
                run.cut = true
                self.endBody(run)
                return
            case .wait(let duration):
                self.context.flush()
                self.schedule(duration, run) { self.pump() }
                return
            case .write(let limit):
                switch stream.read(upTo: Int(clamping: limit)) {
                case .bytes(let piece):
                    run.incomingSent += Int64(piece.readableBytes)
                    self.writeBody(.byteBuffer(piece), run)
                case .wait:
                    stream.whenReadable { [weak self] in
                        guard let self, self.run === run else { return }
                        self.pump()
                    }
                    self.flushAtEndOfTurn(stream, run)
                    return
                case .end:
                    self.endBody(run)
                    return
                case .failed:
                    // The upstream broke off: what was written goes out, then the connection closes short.
                    // Out of the body for good: a writability change while the last write drains must not end
                    // the body as if it were complete (a chunked terminator would tell the client it was).
                    run.incoming = nil
                    run.inBody = false
                    self.finish(.dropped, run)
                    return
                }
            }
        }
        self.context.flush()
    }

    /// Flushes once the event loop has handled what else arrived with the last read, and tells the stream if the
    /// writer is still waiting then.
    private func flushAtEndOfTurn(_ stream: any IncomingBody, _ run: Run) {
        guard !run.flushScheduled else { return }
        run.flushScheduled = true
        self.context.eventLoop.assumeIsolated().execute {
            run.flushScheduled = false
            guard self.run === run else { return }
            self.context.flush()
            if run.inBody, run.incoming != nil { stream.stillWaiting() }
        }
    }
}
