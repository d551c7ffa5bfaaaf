/// Decides how much of a body may go out now and when the next piece is due: the pace of a throttled body, the
/// size of each piece, and where a cut body stops. Pure: the writer asks it with the time and the count so far.
public struct BodyPacer: Sendable, Equatable {
    /// What the writer does next.
    public enum Next: Sendable, Equatable {
        /// Write at most this many bytes now.
        case write(Int64)
        /// Nothing is due yet: come back after this long.
        case wait(Duration)
        /// The cut is reached: stop writing the body.
        case cut
    }

    /// How often a throttled body gets its next piece.
    public static let tick: Duration = .milliseconds(50)

    /// The largest piece written at once.
    public var pieceSize: Int64
    /// The pace in bytes per second, if any.
    public var bytesPerSecond: Int64?
    /// Body bytes after which the body stops, if any.
    public var cutAfter: Int64?

    public init(pieceSize: Int64, bytesPerSecond: Int64? = nil, cutAfter: Int64? = nil) {
        self.pieceSize = max(1, pieceSize)
        self.bytesPerSecond = bytesPerSecond
        self.cutAfter = cutAfter
    }

    /// The next move, `sent` body bytes having gone out `elapsed` after the body started.
    public func next(sent: Int64, elapsed: Duration) -> Next {
        var limit = self.pieceSize
        if let cutAfter = self.cutAfter {
            let left = cutAfter - sent
            if left <= 0 { return .cut }
            limit = min(limit, left)
        }
        guard let rate = self.bytesPerSecond, rate > 0 else { return .write(limit) }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let piece = max(1, Self.saturating(Double(rate) * Double(Self.tick.components.attoseconds) / 1e18))
        limit = min(limit, piece)
        let due = Self.saturating(Double(rate) * seconds) &- sent
        if due <= 0 {
            // Come back when the next piece is due.
            let dueAt = Double(sent + limit) / Double(rate)
            let wait = min(max(0.001, dueAt - seconds), 3600)
            return .wait(.nanoseconds(Int64(wait * 1e9)))
        }
        return .write(min(limit, due))
    }

    /// `value` as a whole number, held within Int64's range.
    static func saturating(_ value: Double) -> Int64 {
        if value >= 9.2e18 { return Int64.max }
        if value <= -9.2e18 { return Int64.min }
        return Int64(value)
    }
}
