import Synchronization

/// Where a produced body's pieces come from, one at a time.
public protocol BodyPieceSource: Sendable {
    /// The next piece of the body, or `nil` once it is all out.
    mutating func nextPiece() -> [UInt8]?
}

/// A body made piece by piece as the socket takes it, never built whole (the control API's journal): the writer asks
/// for the next piece only when the connection can take more. Read from one event loop; the lock is never contended.
public final class ProducedBody: Sendable, Equatable {
    private let source: Mutex<any BodyPieceSource>

    public init(_ source: some BodyPieceSource) {
        self.source = Mutex(source)
    }

    /// The next piece, or `nil` once the body is all out.
    public func next() -> [UInt8]? {
        self.source.withLock { $0.nextPiece() }
    }

    public static func == (lhs: ProducedBody, rhs: ProducedBody) -> Bool {
        lhs === rhs
    }
}

extension JournalJSONPieces.Iterator: BodyPieceSource {
    /// The next piece of the JSON array, as UTF-8.
    public mutating func nextPiece() -> [UInt8]? {
        self.next().map { Array($0.utf8) }
    }
}
