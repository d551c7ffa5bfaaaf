import FaultlineCore
import NIOCore

/// Streamed bodies (`events`, `stream`): the `pause`, `chunk` and `endOfBody` steps. Each piece goes out, flushed, as
/// soon as it is due (one chunk when the body is chunked); the pauses keep the stream's schedule on one event-loop
/// timer at a time; a piece larger than a buffer is written as the channel takes it. The journal counts a piece as
/// an event sent once the socket has taken all of it.
extension HTTP1ResponseWriter {
    /// A piece up to this size goes out in one buffer with its chunk framing; a larger one in pieces of this size.
    static let streamPieceSize: Int64 = 64 * 1024

    /// A large piece part-way written.
    struct PendingChunk {
        let item: StreamItem
        let whole: Bool
        var offset: Int64 = 0
    }

    /// Waits until the next piece is due: `duration` after the piece before it was due (after now for the first).
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

    /// Writes one piece of the stream and flushes it. Returns false when a large piece waits for the channel to take
    /// more (the writer goes on from `continueChunk()`).
    func writeChunk(_ item: StreamItem, whole: Bool, _ run: Run) -> Bool {
        if run.streamDue == nil { run.streamDue = self.context.eventLoop.now }
        let length = item.length
        guard length > 0 else {
            // An empty chunk would be the body's last: nothing goes out, and the empty item counts as sent.
            if whole { run.record.countSent(item) }
            return true
        }
        let chunked = run.plan.isChunked
        if length > Self.streamPieceSize {
            if chunked {
                self.writeCounted(ByteBuffer(string: String(length, radix: 16) + "\r\n"), bodyBytes: 0, item: nil, run)
            }
            run.pendingChunk = PendingChunk(item: item, whole: whole)
            return self.writePendingChunk(run)
        }
        var buffer = self.context.channel.allocator.buffer(capacity: Int(length) + 12)
        if chunked { buffer.writeString(String(length, radix: 16) + "\r\n") }
        self.append(item, offset: 0, count: Int(length), to: &buffer)
        if chunked { buffer.writeString("\r\n") }
        self.writeCounted(buffer, bodyBytes: length, item: whole ? item : nil, run)
        self.context.flush()
        return true
    }

    /// The channel can take more: go on with a large piece that waited for it.
    func continueChunk() {
        guard let run = self.run, run.pendingChunk != nil, run.timer == nil else { return }
        if self.writePendingChunk(run) { self.advance() }
    }

    /// The channel can take more: go on with a produced body that waited for it.
    func continuePieces() {
        guard let run = self.run, run.awaitsWritable, run.pendingChunk == nil, run.timer == nil else { return }
        run.awaitsWritable = false
        self.advance()
    }

    /// The end of a streamed body: the last chunk when it is chunked (a body delimited by the close has none).
    func writeEndOfBody(_ run: Run) {
        guard run.plan.isChunked else { return }
        self.writeCounted(ByteBuffer(string: "0\r\n\r\n"), bodyBytes: 0, item: nil, run)
    }

    /// Writes the large piece in flight while the channel is writable; true once all of it is written. The flush at
    /// the end may make the channel writable again and re-enter `continueChunk()`, which then finds the state as left
    /// here: the rest of the piece, or none.
    private func writePendingChunk(_ run: Run) -> Bool {
        while self.context.channel.isWritable, var pending = run.pendingChunk {
            let length = pending.item.length
            let count = min(Self.streamPieceSize, length - pending.offset)
            var buffer = self.context.channel.allocator.buffer(capacity: Int(count) + 2)
            self.append(pending.item, offset: pending.offset, count: Int(count), to: &buffer)
            pending.offset += count
            let last = pending.offset == length
            if last, run.plan.isChunked { buffer.writeString("\r\n") }
            run.pendingChunk = last ? nil : pending
            self.writeCounted(buffer, bodyBytes: count, item: last && pending.whole ? pending.item : nil, run)
        }
        let finished = run.pendingChunk == nil
        self.context.flush()
        return finished
    }

    private func append(_ item: StreamItem, offset: Int64, count: Int, to buffer: inout ByteBuffer) {
        switch item.payload {
        case .bytes(let bytes):
            buffer.writeBytes(bytes[Int(offset)..<Int(offset) + count])
        case .generated(let generator, _):
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { pointer in
                generator.write(offset: offset, count: count, into: pointer)
                return count
            }
        }
    }

    /// Writes `buffer`, of which `bodyBytes` are body (the rest chunk framing), and counts it into the record once
    /// the socket has taken it, with the item as an event sent when it is the last write of a whole item.
    private func writeCounted(_ buffer: ByteBuffer, bodyBytes: Int64, item: StreamItem?, _ run: Run) {
        let record = run.record
        let total = Int64(buffer.readableBytes)
        if record.firstByteAt == nil, total > 0 { record.firstByteAt = .now() }
        let future = self.context.write(NIOAny(IOData.byteBuffer(buffer)))
        future.assumeIsolated().whenSuccess {
            record.bytesSent += total
            record.bodyBytesSent += bodyBytes
            if let item { record.countSent(item) }
        }
        run.lastWrite = future
    }
}
