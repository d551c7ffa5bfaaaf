import FaultlineCore
import Foundation
import Testing

/// The journal is bounded in bytes as well as in entries, keeps a bounded amount of each request's headers, and is
/// read out in bounded pieces (docs/security.md, "Limits and timeouts").
@Suite("The journal's memory")
struct JournalMemoryTests {
    func entry(
        headers: [HeaderField] = [HeaderField("User-Agent", "curl/8")],
        target: String = "/a?b=1"
    ) -> JournalEntry {
        JournalEntry(
            connection: 1,
            listener: "127.0.0.1:8080",
            client: "127.0.0.1",
            receivedAt: 1_795_000_000.25,
            method: "GET",
            target: target,
            path: "/a",
            version: "HTTP/1.1",
            headers: headers,
            bodyBytes: 0,
            rule: "r",
            step: nil,
            status: 200,
            responseHeaders: [HeaderField("Content-Length", "2")],
            fault: nil,
            outcome: .completed,
            bytesSent: 80,
            bodyBytesSent: 2,
            firstByteMs: 1.5,
            totalMs: 2.25
        )
    }

    // MARK: - Bounded in bytes

    @Test func theJournalLetsTheOldestEntriesGoPastItsMemoryLimit() {
        let big = self.entry(headers: [HeaderField("Cookie", String(repeating: "c", count: 4000))])
        let size = big.estimatedBytes
        let journal = Journal(capacity: 1000, memoryLimit: size * 10)
        for _ in 0..<25 { journal.record(big) }
        #expect(journal.count == 10)
        #expect(journal.droppedCount == 15, "counted as journalDropped")
        #expect(journal.estimatedBytes == size * 10)
        #expect(journal.entries().map(\.id) == Array(16...25), "the newest are kept, oldest first")
        // The entry count still bounds small entries.
        let counted = Journal(capacity: 3, memoryLimit: 1 << 30)
        for _ in 0..<5 { counted.record(self.entry()) }
        #expect(counted.entries().map(\.id) == [3, 4, 5])
        #expect(counted.droppedCount == 2)
    }

    @Test func theNewestEntryIsKeptEvenWhenItAloneIsOverTheLimit() {
        let journal = Journal(capacity: 10, memoryLimit: 100)
        journal.record(self.entry())
        journal.record(self.entry(target: String(repeating: "x", count: 500)))
        #expect(journal.entries().map(\.id) == [2])
        #expect(journal.droppedCount == 1)
    }

    @Test func anEntryIsWeighedByItsTextPlusAFixedOverhead() {
        let entry = self.entry()
        var text = 0
        for part in ["127.0.0.1:8080", "127.0.0.1", "GET", "/a?b=1", "/a", "HTTP/1.1", "r"] { text += part.utf8.count }
        text += "User-Agent".utf8.count + "curl/8".utf8.count + "Content-Length".utf8.count + "2".utf8.count
        #expect(
            entry.estimatedBytes == JournalEntry.fixedOverheadBytes + 2 * JournalEntry.perHeaderOverheadBytes + text
        )
        // At least what the entry's own fields take inline.
        #expect(entry.estimatedBytes > MemoryLayout<JournalEntry>.size)
    }

    @Test func aLongRunOfEntriesKeepsTheJournalWithinBothBounds() {
        let journal = Journal(capacity: 500, memoryLimit: 200_000)
        for index in 0..<20_000 {
            let padding = String(repeating: "p", count: index % 3000)
            journal.record(self.entry(headers: [HeaderField("X-Pad", padding)]))
            #expect(journal.estimatedBytes <= 200_000 || journal.count == 1)
        }
        #expect(journal.count <= 500)
        #expect(journal.count + journal.droppedCount == 20_000)
        let ids = journal.entries().map(\.id)
        #expect(ids == Array((20_001 - ids.count)...20_000))
    }

    @Test func entriesThatEndOutOfOrderAreKeptInArrivalOrderAndTheEarliestGoFirst() {
        // 10,000 delayed exchanges ending in an order of their own (as on several event loops), the journal full.
        let journal = Journal(capacity: 4000, memoryLimit: 1 << 30)
        let ids = (1...10_000).map { _ in journal.reserveID() }
        var generator = SystemRandomNumberGenerator()
        var order = ids
        // Late by up to 3,000 places, as a busy loop's exchanges are behind another's.
        for index in order.indices {
            let other = min(order.count - 1, index + Int.random(in: 0..<3000, using: &generator))
            order.swapAt(index, other)
        }
        for id in order {
            var entry = self.entry()
            entry.id = id
            journal.record(entry)
        }
        let kept = journal.entries().map(\.id)
        #expect(kept == kept.sorted(), "kept in id (arrival) order")
        #expect(kept.count == 4000)
        #expect(journal.droppedCount == 6000)
        #expect(kept.last == 10_000)
    }

    @Test func clearingGivesTheStorageBack() {
        let journal = Journal(capacity: 100, memoryLimit: 1 << 30)
        for _ in 0..<50 { journal.record(self.entry()) }
        journal.clear()
        #expect(journal.count == 0)
        #expect(journal.estimatedBytes == 0)
        #expect(journal.droppedCount == 0)
        #expect(journal.record(self.entry()).id == 51)
    }

    // MARK: - Headers cut per entry

    @Test func requestHeadersPastTheLimitAreCutAndTheEntrySaysSo() {
        let journal = Journal(headerLimit: 100)
        let headers = [
            HeaderField("Host", "example"),  // 11 bytes
            HeaderField("Cookie", String(repeating: "a", count: 200)),  // cut to fit
            HeaderField("Accept", "*/*"),  // left out
        ]
        let kept = journal.record(self.entry(headers: headers))
        #expect(
            kept.headers == [HeaderField("Host", "example"), HeaderField("Cookie", String(repeating: "a", count: 83))]
        )
        #expect(kept.headersTruncated == 11 + 206 + 9 - 100)
        #expect(kept.json.contains(#","headersTruncated":126,"bodyBytes":0,"#))
        #expect(journal.entries()[0].headers == kept.headers, "stored cut")
    }

    @Test func headersWithinTheLimitAreKeptWholeAndTheJSONIsUnchanged() {
        let entry = self.entry()
        let kept = Journal().record(entry)
        #expect(kept.headers == entry.headers)
        #expect(kept.headersTruncated == 0)
        #expect(!kept.json.contains("headersTruncated"))
        #expect(Journal.defaultHeaderLimit == 8192)
    }

    @Test func aHeaderIsNeverCutInsideACharacter() {
        var entry = self.entry(headers: [HeaderField("X", String(repeating: "é", count: 10))])  // 1 + 20 bytes
        entry.truncateHeaders(to: 6)
        #expect(entry.headers == [HeaderField("X", "éé")])
        #expect(entry.headersTruncated == 21 - 5)
    }

    // MARK: - Read in pieces

    @Test func theJournalsPiecesJoinToTheSameJSONAndNoneIsOverTheBound() {
        let journal = Journal()
        #expect(journal.jsonPieces().joined() == "[]\n")
        for index in 0..<40 {
            journal.record(self.entry(headers: [HeaderField("X-Text", String(repeating: "ü€𝄞\"\n", count: index * 7))]))
        }
        let whole = JournalEntry.jsonArray(journal.entries())
        for bound in [4, 5, 7, 64, 1000, 1 << 20] {
            let pieces = Array(journal.jsonPieces(maxPieceBytes: bound))
            #expect(pieces.joined() == whole, "bound \(bound)")
            #expect(pieces.allSatisfy { $0.utf8.count <= bound && !$0.isEmpty }, "bound \(bound)")
        }
        #expect(Array(journal.jsonPieces(maxPieceBytes: 1 << 20)).count == 1, "a small journal is one piece")
        let filtered = journal.jsonPieces(since: 30, limit: 5, maxPieceBytes: 100)
        #expect(filtered.joined() == JournalEntry.jsonArray(journal.entries(since: 30, limit: 5)))
    }

    @Test func piecesAreMadeAsTheyAreRead() {
        let journal = Journal()
        for _ in 0..<1000 { journal.record(self.entry()) }
        var iterator = journal.jsonPieces(maxPieceBytes: 1024).makeIterator()
        let first = iterator.next() ?? ""
        #expect(first.utf8.count > 1000 && first.utf8.count <= 1024)
        #expect(first.hasPrefix("[\n{\"id\":1,"))
    }
}
