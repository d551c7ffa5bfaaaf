import FaultlineCore

/// Walks a plan's body segments in chunks, so the handler can write a body piece by piece with back-pressure.
struct BodyCursor {
    /// A piece of the body to write next.
    enum Chunk: Equatable {
        /// Bytes made by the planner (multipart boundaries).
        case bytes(ArraySlice<UInt8>)
        /// Bytes `offset..<offset+length` of the plan's source.
        case source(offset: Int64, length: Int64)
    }

    private let segments: [ResponsePlan.BodySegment]
    private var index = 0
    /// How far into the current segment the cursor is.
    private var position: Int64 = 0
    /// Bytes handed out so far.
    private(set) var sent: Int64 = 0

    init(_ segments: [ResponsePlan.BodySegment]) {
        self.segments = segments
    }

    var isFinished: Bool { self.index >= self.segments.count }

    /// The next piece, at most `limit` bytes, or `nil` at the end.
    mutating func next(limit: Int64) -> Chunk? {
        while self.index < self.segments.count {
            let segment = self.segments[self.index]
            let remaining: Int64
            switch segment {
            case .bytes(let bytes): remaining = Int64(bytes.count) - self.position
            case .slice(_, let length): remaining = length - self.position
            }
            guard remaining > 0 else {
                self.index += 1
                self.position = 0
                continue
            }
            let take = min(remaining, max(1, limit))
            let chunk: Chunk
            switch segment {
            case .bytes(let bytes):
                let start = Int(self.position)
                chunk = .bytes(bytes[start..<(start + Int(take))])
            case .slice(let offset, _):
                chunk = .source(offset: offset + self.position, length: take)
            }
            self.position += take
            self.sent += take
            return chunk
        }
        return nil
    }
}
