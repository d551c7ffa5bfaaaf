import Synchronization

/// The record of every exchange, oldest first, bounded in memory: past `capacity` the oldest entries go first and
/// are counted. Thread-safe; the server's event loops record into one journal.
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

    /// Numbers the entry, keeps it, and returns it as kept. An entry whose request arrived before the last
    /// `clear()` (its `generation` is older) is numbered but not kept: a cleared journal starts clean.
    @discardableResult
    public func record(_ entry: JournalEntry, generation: Int? = nil) -> JournalEntry {
        self.state.withLock { state in
            var entry = entry
            entry.id = state.nextID
            state.nextID += 1
            if let generation, generation != state.generation { return entry }
            if state.entries.count < self.capacity {
                state.entries.append(entry)
            } else {
                state.entries[state.start] = entry
                state.start = (state.start + 1) % self.capacity
                state.dropped += 1
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
