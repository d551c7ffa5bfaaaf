import Synchronization

/// The record of every exchange, in arrival order, bounded in memory twice over: past `capacity` entries, or past
/// `memoryLimit` bytes of entries (as `JournalEntry.estimatedBytes` counts them), the oldest entries go first and are
/// counted. Each entry keeps at most `headerLimit` bytes of request header text. Thread-safe; the server's event loops
/// record into one journal.
///
/// An exchange is numbered when its request head arrives (`reserveID()`) and recorded when it ends, so a slow answer
/// is recorded after quicker ones that came later; the journal keeps its entries in id order all the same.
public final class Journal: Sendable {
    /// The default of `memoryLimit` (`--journal-memory`): 64 MiB.
    public static let defaultMemoryLimit = 64 << 20
    /// The default of `headerLimit`: 8 KiB of request header names and values per entry.
    public static let defaultHeaderLimit = 8 << 10

    /// The most entries kept in memory.
    public let capacity: Int
    /// The most bytes of entries kept in memory; the newest entry is kept whatever its size.
    public let memoryLimit: Int
    /// The most bytes of request header names and values an entry keeps (`JournalEntry.truncatingHeaders(to:)`).
    public let headerLimit: Int
    private let state: Mutex<State>

    /// An entry as kept: behind one reference, so keeping the slots in id order moves pointers, not entries.
    final class Slot: @unchecked Sendable {
        /// Changed only under the journal's lock (numbered there when the entry had no id), and never after the slot
        /// is kept.
        var entry: JournalEntry
        /// Its estimated bytes, weighed once when it was recorded.
        let size: Int

        init(_ entry: JournalEntry, size: Int) {
            self.entry = entry
            self.size = size
        }
    }

    struct State {
        /// The entries kept, in id order, from `head` on; the slots before `head` were let go and are `nil` until
        /// the next compaction.
        var slots: [Slot?] = []
        /// Each slot's entry id, so the place of a new entry is found without reading the entries (0 for a slot let go).
        var ids: [Int] = []
        var head = 0
        /// The estimated bytes of the entries kept.
        var bytes = 0
        var nextID = 1
        var dropped = 0
        /// Goes up with every `clear()`.
        var generation = 0

        var count: Int { self.slots.count - self.head }

        /// Lets the oldest entry go.
        mutating func dropOldest() {
            self.bytes -= self.slots[self.head]?.size ?? 0
            self.slots[self.head] = nil
            self.ids[self.head] = 0
            self.head += 1
            self.dropped += 1
            // Compacted when the slots let go outnumber those kept: each entry moves at most once per compaction,
            // so dropping stays O(1) amortized and the array never holds more than twice what is kept.
            if self.head >= 64, self.head * 2 >= self.slots.count {
                self.slots.removeFirst(self.head)
                self.ids.removeFirst(self.head)
                self.head = 0
            }
        }
    }

    /// - Parameters:
    ///   - capacity: the most entries kept (`--journal-size`).
    ///   - memoryLimit: the most bytes of entries kept (`--journal-memory`).
    ///   - headerLimit: the most bytes of request header text one entry keeps.
    public init(
        capacity: Int = 10_000,
        memoryLimit: Int = Journal.defaultMemoryLimit,
        headerLimit: Int = Journal.defaultHeaderLimit
    ) {
        self.capacity = max(1, capacity)
        self.memoryLimit = max(1, memoryLimit)
        self.headerLimit = max(0, headerLimit)
        self.state = Mutex(State())
    }

    /// The next id, for an exchange whose request head has just arrived.
    public func reserveID() -> Int {
        self.state.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
    }

    /// Keeps the entry (numbering it now when it has no id yet; its request headers cut to `headerLimit`) and returns
    /// it as kept. An entry whose request arrived before the last `clear()` (its `generation` is older) is not kept: a
    /// cleared journal starts clean.
    @discardableResult
    public func record(_ entry: consuming JournalEntry, generation: Int? = nil) -> JournalEntry {
        self.keep(entry, generation: generation).entry
    }

    /// Keeps the entry as `record` does, without handing a copy of it back.
    public func add(_ entry: consuming JournalEntry, generation: Int? = nil) {
        _ = self.keep(entry, generation: generation)
    }

    /// Keeps the entry and returns its slot. The entry moves into the slot: an entry has some twenty fields to
    /// retain on every copy, and one is recorded for every exchange.
    private func keep(_ entry: consuming JournalEntry, generation: Int?) -> Slot {
        // Cut and weighed before the lock: no other event loop waits on this work.
        entry.truncateHeaders(to: self.headerLimit)
        let size = entry.estimatedBytes
        let slot = Slot(entry, size: size)
        return self.state.withLock { state in
            if slot.entry.id == 0 {
                slot.entry.id = state.nextID
                state.nextID += 1
            }
            if let generation, generation != state.generation { return slot }
            let id = slot.entry.id
            state.bytes += size
            // Kept in id order: an entry that ended after later ones goes in before them. Its place is found by a
            // binary search of the ids (usually the end), and inserting moves pointers, so an exchange that ends late
            // among thousands (a delay, a hang) costs microseconds under the lock, not a copy of each entry it passes.
            if state.ids.last.map({ $0 < id }) ?? true {
                state.slots.append(slot)
                state.ids.append(id)
            } else {
                var low = state.head
                var high = state.ids.count
                while low < high {
                    let middle = (low + high) / 2
                    if state.ids[middle] < id { low = middle + 1 } else { high = middle }
                }
                state.slots.insert(slot, at: low)
                state.ids.insert(id, at: low)
            }
            while state.count > self.capacity || (state.bytes > self.memoryLimit && state.count > 1) {
                state.dropOldest()
            }
            return slot
        }
    }

    /// The entries kept, oldest first, optionally only a rule's, only those with an id above `since`, and at most the
    /// last `limit` of them.
    public func entries(rule: String? = nil, since: Int? = nil, limit: Int? = nil) -> [JournalEntry] {
        let all = self.state.withLock { state in
            state.slots[state.head...].compactMap { $0?.entry }
        }
        var selected = all.filter { entry in
            (rule == nil || entry.rule == rule) && (since == nil || entry.id > since ?? 0)
        }
        if let limit, selected.count > limit {
            selected = Array(selected.suffix(max(0, limit)))
        }
        return selected
    }

    /// The same entries as `entries(rule:since:limit:)` as the JSON array `JournalEntry.jsonArray` writes, in pieces
    /// of at most `maxPieceBytes` UTF-8 bytes each (at least 4, so any character fits), made one at a time as the
    /// sequence is read: a server sends the journal piece by piece instead of building it whole. The pieces joined
    /// are exactly `JournalEntry.jsonArray(entries(rule:since:limit:))`.
    public func jsonPieces(
        rule: String? = nil,
        since: Int? = nil,
        limit: Int? = nil,
        maxPieceBytes: Int = JournalJSONPieces.defaultPieceBytes
    ) -> JournalJSONPieces {
        JournalJSONPieces(self.entries(rule: rule, since: since, limit: limit), maxPieceBytes: maxPieceBytes)
    }

    /// How many entries were let go because the journal was full (in entries or in bytes).
    public var droppedCount: Int {
        self.state.withLock { $0.dropped }
    }

    /// How many entries are kept now.
    public var count: Int {
        self.state.withLock { $0.count }
    }

    /// The estimated bytes of the entries kept now (at most `memoryLimit`, unless the newest entry alone is larger).
    public var estimatedBytes: Int {
        self.state.withLock { $0.bytes }
    }

    /// Forgets every entry, and every exchange in flight now; numbering goes on. The storage is replaced, not
    /// emptied in place, so its memory goes back too.
    public func clear() {
        let old = self.state.withLock { state in
            defer {
                state.slots = []
                state.ids = []
                state.head = 0
                state.bytes = 0
                state.dropped = 0
                state.generation += 1
            }
            return state.slots
        }
        // The old entries are let go here, outside the lock: freeing thousands of strings holds up no event loop.
        _ = consume old
    }

    /// Which `clear()` the journal is at: an exchange notes it when its request arrives.
    public var generation: Int {
        self.state.withLock { $0.generation }
    }

    /// `reserveID()` and `generation` under one lock: what an exchange takes when its request arrives.
    public func reserveIDAndGeneration() -> (id: Int, generation: Int) {
        self.state.withLock { state in
            defer { state.nextID += 1 }
            return (state.nextID, state.generation)
        }
    }
}
