import FaultlineCore
import NIOCore
import NIOHTTP2

/// Streamed bodies on HTTP/2 (`events`, `stream`): the `pause` and `chunk` steps. Each item goes out as DATA frames,
/// flushed, as soon as it is due; the pauses keep the stream's schedule on one event-loop timer at a time; an item
/// larger than a frame's worth is written as the stream's flow control lets it. The journal counts an item as an
/// event sent once all of it is on its way, as on HTTP/1.1.
extension HTTP2ResponseWriter {
    /// Waits until the next item is due: `duration` after the item before it was due (after now for the first).
    func pause(_ duration: Duration, _ run: Run) {
        self.context.flush()
        let due = (run.streamDue ?? self.context.eventLoop.now) + .nanoseconds(duration.nanoseconds)
        run.streamDue = due
        run.timer = self.context.eventLoop.assumeIsolated().scheduleTask(deadline: due) {
            run.timer = nil
            guard self.run === run else { return }
            self.advance()
        }
    }

    /// Writes one item as DATA frames and flushes them. Returns false when a large item waits for the stream's window
    /// (the writer goes on from `continueChunk()`).
    func writeChunk(_ item: StreamItem, whole: Bool, _ run: Run) -> Bool {
        if run.streamDue == nil { run.streamDue = self.context.eventLoop.now }
        guard item.length > 0 else {
            if whole { run.record.countSent(item) }
            return true
        }
        run.pendingChunk = HTTP1ResponseWriter.PendingChunk(item: item, whole: whole)
        return self.writePendingChunk(run)
    }

    /// The stream can take more: go on with a large item that waited for it.
    func continueChunk() {
        guard let run = self.run, run.pendingChunk != nil, run.timer == nil else { return }
        if self.writePendingChunk(run) { self.advance() }
    }

    /// Writes the item in flight, a frame's worth at a time, while the stream is writable; true once all of it is
    /// written. The flush may re-enter `continueChunk()`, which then finds the state as left here.
    private func writePendingChunk(_ run: Run) -> Bool {
        while self.context.channel.isWritable, var pending = run.pendingChunk {
            let length = pending.item.length
            let count = min(HTTP1ResponseWriter.streamPieceSize, length - pending.offset)
            var buffer = self.context.channel.allocator.buffer(capacity: Int(count))
            buffer.writeBytes(pending.item.bytes(offset: pending.offset, count: Int(count)))
            pending.offset += count
            let last = pending.offset == length
            run.pendingChunk = last ? nil : pending
            let record = run.record
            if record.firstByteAt == nil { record.firstByteAt = .now() }
            let future = self.context.write(NIOAny(HTTP2Frame.FramePayload.data(.init(data: .byteBuffer(buffer)))))
            let counted = last && pending.whole ? pending.item : nil
            future.assumeIsolated().whenSuccess {
                record.bytesSent += count
                record.bodyBytesSent += count
                if let counted { record.countSent(counted) }
            }
            run.lastWrite = future
        }
        let finished = run.pendingChunk == nil
        self.context.flush()
        return finished
    }
}
