/// The journal as a JSON array (`JournalEntry.jsonArray`), produced in pieces of at most `maxPieceBytes` UTF-8 bytes
/// as it is read: each entry's JSON is made only when its turn comes, so sending the journal holds one piece and one
/// entry's text, never the whole answer. The pieces joined are byte for byte `JournalEntry.jsonArray(entries)`.
public struct JournalJSONPieces: Sequence, Sendable {
    /// The default bound of a piece: 64 KiB, a comfortable socket write.
    public static let defaultPieceBytes = 64 << 10

    /// The entries the array holds, oldest first.
    public let entries: [JournalEntry]
    /// The most UTF-8 bytes in one piece (at least 4, so any character fits).
    public let maxPieceBytes: Int

    public init(_ entries: [JournalEntry], maxPieceBytes: Int = Self.defaultPieceBytes) {
        self.entries = entries
        self.maxPieceBytes = Swift.max(4, maxPieceBytes)
    }

    public func makeIterator() -> Iterator {
        Iterator(entries: self.entries, maxPieceBytes: self.maxPieceBytes)
    }

    /// Makes the pieces one at a time.
    public struct Iterator: IteratorProtocol, Sendable {
        private let entries: [JournalEntry]
        private let maxPieceBytes: Int
        /// The next entry whose JSON has not been made yet.
        private var nextEntry = 0
        /// Where the text is: the array's opening, the entries, the closing, or done.
        private var stage = Stage.opening
        /// Text made but not yet handed out, from `pendingStart` on.
        private var pending = ""
        private var pendingStart: String.Index

        private enum Stage {
            case opening, entries, closing, done
        }

        init(entries: [JournalEntry], maxPieceBytes: Int) {
            self.entries = entries
            self.maxPieceBytes = maxPieceBytes
            self.pendingStart = self.pending.utf8.startIndex
        }

        public mutating func next() -> String? {
            var piece = ""
            while true {
                if self.pendingStart < self.pending.utf8.endIndex {
                    let room = self.maxPieceBytes - piece.utf8.count
                    let utf8 = self.pending.utf8
                    var end = utf8.index(self.pendingStart, offsetBy: room, limitedBy: utf8.endIndex) ?? utf8.endIndex
                    // Never end inside a character's bytes.
                    while end < utf8.endIndex, end > self.pendingStart, UTF8.isContinuation(utf8[end]) {
                        end = utf8.index(before: end)
                    }
                    piece += String(decoding: utf8[self.pendingStart..<end], as: UTF8.self)
                    self.pendingStart = end
                    if end < utf8.endIndex { return piece }
                    continue
                }
                guard self.refill() else { return piece.isEmpty ? nil : piece }
            }
        }

        /// Makes the next stretch of text; `false` when there is none.
        private mutating func refill() -> Bool {
            switch self.stage {
            case .opening:
                self.stage = self.entries.isEmpty ? .done : .entries
                self.setPending(self.entries.isEmpty ? "[]\n" : "[\n")
            case .entries:
                let entry = self.entries[self.nextEntry]
                self.setPending(self.nextEntry == 0 ? entry.json : ",\n" + entry.json)
                self.nextEntry += 1
                if self.nextEntry == self.entries.count { self.stage = .closing }
            case .closing:
                self.stage = .done
                self.setPending("\n]\n")
            case .done:
                return false
            }
            return true
        }

        private mutating func setPending(_ text: String) {
            self.pending = text
            self.pendingStart = self.pending.utf8.startIndex
        }
    }
}
