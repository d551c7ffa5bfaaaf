import Synchronization

/// The record of every exchange, in arrival order, bounded in memory: past `capacity` the oldest entries go first and
/// are counted. Thread-safe; the server's event loops record into one journal.
///
/// An exchange is numbered when its request head arrives (`reserveID()`) and recorded when it ends, so a slow answer
/// is recorded after quicker ones that came later; the journal keeps its entries in id order all the same.
public final class Journal: Sendable {
    /// The most entries kept in memory.
    public let capacity: Int
    private let state: Mutex<State>

    struct State {
        var entries: [JournalEntry] = []
        /// Where the oldest entry is in `entries` once it is full (a ring).
        var start = 0
        var nextID = 1
        var dropped = 0
        /// Goes up with every `clear()`.
        var generation = 0
    }

    public init(capacity: Int = 10_000) {
        self.capacity = max(1, capacity)
        self.state = Mutex(State())
    }

    /// The next id, for an exchange whose request head has just arrived.
    public func reserveID() -> Int {
        self.state.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
    }

    /// Keeps the entry (numbering it now when it has no id yet) and returns it as kept. An entry whose request
    /// arrived before the last `clear()` (its `generation` is older) is not kept: a cleared journal starts clean.
    @discardableResult
    public func record(_ entry: JournalEntry, generation: Int? = nil) -> JournalEntry {
        self.state.withLock { state in
            var entry = entry
            if entry.id == 0 {
                entry.id = state.nextID
                state.nextID += 1
            }
            if let generation, generation != state.generation { return entry }
            let count = state.entries.count
            if count < self.capacity {
                state.entries.append(entry)
            } else {
                state.entries[state.start] = entry
                state.start = (state.start + 1) % self.capacity
                state.dropped += 1
            }
            // Keep id order: an entry that ended after later ones moves back past them (usually no step at all).
            var position = (state.start + state.entries.count - 1) % state.entries.count
            for _ in 1..<state.entries.count {
                let previous = (position + state.entries.count - 1) % state.entries.count
                guard state.entries[previous].id > state.entries[position].id else { break }
                state.entries.swapAt(previous, position)
                position = previous
            }
            return entry
        }
    }

    /// The entries kept, oldest first, optionally only a rule's, only those with an id above `since`, and at most the
    /// last `limit` of them.
    public func entries(rule: String? = nil, since: Int? = nil, limit: Int? = nil) -> [JournalEntry] {
        let all = self.state.withLock { state in
            Array(state.entries[state.start...] + state.entries[..<state.start])
        }
        var selected = all.filter { entry in
            (rule == nil || entry.rule == rule) && (since == nil || entry.id > since ?? 0)
        }
        if let limit, selected.count > limit {
            selected = Array(selected.suffix(max(0, limit)))
        }
        return selected
    }

    /// How many entries were let go because the journal was full.
    public var droppedCount: Int {
        self.state.withLock { $0.dropped }
    }

    /// Forgets every entry, and every exchange in flight now; numbering goes on.
    public func clear() {
        self.state.withLock { state in
            state.entries = []
            state.start = 0
            state.dropped = 0
            state.generation += 1
        }
    }

    /// Which `clear()` the journal is at: an exchange notes it when its request arrives.
    public var generation: Int {
        self.state.withLock { $0.generation }
    }
}
