import FaultlineCore
import Testing

@Suite("Ranges, preconditions, entity tags and media types")
struct HTTPSemanticsTests {
    @Test(arguments: [
        ("bytes=0-9", RangeRequest.Outcome.ranges([0...9])),
        ("bytes=90-", .ranges([90...99])),
        ("bytes=-10", .ranges([90...99])),
        ("bytes=-500", .ranges([0...99])),
        ("bytes=95-200", .ranges([95...99])),
        ("bytes=0-0,-1", .ranges([0...0, 99...99])),
        ("bytes=50-59, 10-19", .ranges([50...59, 10...19])),
        ("bytes=0-49,40-59,70-79", .ranges([0...59, 70...79])),
        ("bytes=0-9,10-19", .ranges([0...9, 10...19])),
        ("BYTES = 5-6", .ranges([5...6])),
        ("bytes=100-", .unsatisfiable),
        ("bytes=-0", .unsatisfiable),
        ("bytes=200-300,150-", .unsatisfiable),
        ("bytes=100-,0-1", .ranges([0...1])),
        ("bytes=9-1", .ignore),
        ("bytes=a-b", .ignore),
        ("bytes=", .ignore),
        ("items=0-9", .ignore),
        ("bytes 0-9", .ignore),
        ("bytes=0-9;x", .ignore),
    ])
    func resolvesRanges(header: String, expected: RangeRequest.Outcome) {
        #expect(RangeRequest.resolve(header, length: 100) == expected)
    }

    @Test func refusesTooManyRangesByAnsweringInFull() {
        let many = "bytes=" + (0..<101).map { "\($0 * 2)-\($0 * 2)" }.joined(separator: ",")
        #expect(RangeRequest.resolve(many, length: 1000) == .ignore)
        #expect(RangeRequest.resolve("bytes=0-0", length: 0) == .unsatisfiable)
    }

    @Test func parsesEntityTagLists() {
        #expect(EntityTag.list([#""a", W/"b",  "c,d""#]) == [#""a""#, #"W/"b""#, #""c,d""#])
        #expect(EntityTag.list(["*"]) == nil)
        #expect(EntityTag.list([#""a""#, #""b""#]) == [#""a""#, #""b""#])
        #expect(EntityTag.weaklyEqual(#"W/"x""#, #""x""#))
        #expect(!EntityTag.stronglyEqual(#"W/"x""#, #""x""#))
        #expect(EntityTag.stronglyEqual(#""x""#, #""x""#))
        #expect(EntityTag.quoted("v1") == #""v1""#)
        #expect(EntityTag.quoted(#"W/"v1""#) == #"W/"v1""#)
        #expect(EntityTag.isWellFormed(#""v1""#))
        #expect(!EntityTag.isWellFormed(#""v"1""#))
    }

    func request(_ method: String = "GET", _ headers: [(String, String)]) -> IncomingRequest {
        IncomingRequest(method: method, target: "/", headers: headers.map { HeaderField($0.0, $0.1) })
    }

    @Test func evaluatesEachPrecondition() {
        let etag = #""abc""#
        let modified: Int64 = 1_000_000
        let before = HTTPDate.format(secondsSince1970: modified - 10)
        let same = HTTPDate.format(secondsSince1970: modified)
        let after = HTTPDate.format(secondsSince1970: modified + 10)
        func outcome(_ headers: [(String, String)], method: String = "GET") -> Preconditions.Outcome {
            Preconditions.evaluate(self.request(method, headers), etag: etag, lastModified: modified)
        }
        #expect(outcome([]) == .proceed)
        #expect(outcome([("If-None-Match", etag)]) == .notModified)
        #expect(outcome([("If-None-Match", #"W/"abc""#)]) == .notModified, "weak comparison")
        #expect(outcome([("If-None-Match", #""x", "abc""#)]) == .notModified)
        #expect(outcome([("If-None-Match", #""x""#)]) == .proceed)
        #expect(outcome([("If-None-Match", "*")]) == .notModified)
        #expect(outcome([("If-None-Match", etag)], method: "HEAD") == .notModified)
        #expect(outcome([("If-None-Match", etag)], method: "POST") == .failed)
        #expect(outcome([("If-Modified-Since", same)]) == .notModified)
        #expect(outcome([("If-Modified-Since", after)]) == .notModified)
        #expect(outcome([("If-Modified-Since", before)]) == .proceed)
        #expect(outcome([("If-Modified-Since", "not a date")]) == .proceed)
        #expect(outcome([("If-Modified-Since", after)], method: "POST") == .proceed)
        #expect(outcome([("If-Match", etag)]) == .proceed)
        #expect(outcome([("If-Match", #"W/"abc""#)]) == .failed, "If-Match compares strongly")
        #expect(outcome([("If-Match", #""x""#)]) == .failed)
        #expect(outcome([("If-Match", "*")]) == .proceed)
        #expect(outcome([("If-Unmodified-Since", before)]) == .failed)
        #expect(outcome([("If-Unmodified-Since", same)]) == .proceed)
    }

    @Test func followsThePrecedenceOfSection13_2_2() {
        let etag = #""abc""#
        let modified: Int64 = 1_000_000
        let before = HTTPDate.format(secondsSince1970: modified - 10)
        let after = HTTPDate.format(secondsSince1970: modified + 10)
        func outcome(_ headers: [(String, String)]) -> Preconditions.Outcome {
            Preconditions.evaluate(self.request("GET", headers), etag: etag, lastModified: modified)
        }
        // If-Match decides and If-Unmodified-Since is not evaluated.
        #expect(outcome([("If-Match", etag), ("If-Unmodified-Since", before)]) == .proceed)
        // If-Match fails before If-None-Match is looked at.
        #expect(outcome([("If-Match", #""x""#), ("If-None-Match", etag)]) == .failed)
        // If-None-Match wins over If-Modified-Since, in both directions.
        #expect(outcome([("If-None-Match", #""x""#), ("If-Modified-Since", after)]) == .proceed)
        #expect(outcome([("If-None-Match", etag), ("If-Modified-Since", before)]) == .notModified)
        // A failed If-Unmodified-Since comes before a matching If-None-Match.
        #expect(outcome([("If-Unmodified-Since", before), ("If-None-Match", etag)]) == .failed)
    }

    @Test func checksIfRange() {
        #expect(Preconditions.ifRangeHolds(#""abc""#, etag: #""abc""#, lastModified: nil))
        #expect(!Preconditions.ifRangeHolds(#"W/"abc""#, etag: #"W/"abc""#, lastModified: nil))
        #expect(!Preconditions.ifRangeHolds(#""x""#, etag: #""abc""#, lastModified: nil))
        let date = HTTPDate.format(secondsSince1970: 5000)
        #expect(Preconditions.ifRangeHolds(date, etag: nil, lastModified: 5000))
        #expect(!Preconditions.ifRangeHolds(date, etag: nil, lastModified: 5001))
    }

    @Test func matchesMediaRanges() {
        #expect(MediaRange.accepts([], anyOf: ["application/json"]))
        #expect(MediaRange.accepts(["application/json"], anyOf: ["application/json"]))
        #expect(MediaRange.accepts(["text/html, application/*;q=0.5"], anyOf: ["application/json"]))
        #expect(MediaRange.accepts(["*/*"], anyOf: ["application/json"]))
        #expect(!MediaRange.accepts(["text/html"], anyOf: ["application/json"]))
        #expect(!MediaRange.accepts(["application/json;q=0, */*"], anyOf: ["application/json"]))
        #expect(MediaRange.accepts(["application/json;q=0, */*"], anyOf: ["application/json", "text/plain"]))
        #expect(MediaRange("text/plain; charset=UTF-8")?.parameters == ["charset": "utf-8"])
        #expect(MediaRange("nonsense") == nil)
    }
}
