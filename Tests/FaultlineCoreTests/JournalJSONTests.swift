import Foundation
import Testing

@testable import FaultlineCore

/// The `--journal` line of an entry, byte for byte: it is built from bytes for speed, so its exact form is pinned here.
@Suite("Journal entries as JSON")
struct JournalJSONTests {
    func entry(
        headers: [HeaderField] = [HeaderField("Host", "localhost:8080")],
        receivedAt: Double = 1_764_892_800.25,
        target: String = "/api/orders?page=2"
    ) -> JournalEntry {
        var entry = JournalEntry(
            connection: 7,
            listener: "http://127.0.0.1:8080",
            client: "127.0.0.1:50312",
            receivedAt: receivedAt,
            method: "GET",
            target: target,
            path: "/api/orders",
            version: "HTTP/1.1",
            headers: headers,
            bodyBytes: 0,
            rule: "orders",
            step: nil,
            status: 503,
            responseHeaders: [HeaderField("Retry-After", "1"), HeaderField("Content-Length", "0")],
            fault: nil,
            outcome: .completed,
            bytesSent: 97,
            bodyBytesSent: 0,
            firstByteMs: 1.5,
            totalMs: 12.0
        )
        entry.id = 42
        return entry
    }

    @Test func anEntryIsOneLineWithItsKeysInOrder() {
        #expect(
            self.entry().json
                == #"{"id":42,"connection":7,"listener":"http://127.0.0.1:8080","client":"127.0.0.1:50312","#
                + #""receivedAt":"2025-12-05T00:00:00.250Z","method":"GET","target":"/api/orders?page=2","#
                + #""path":"/api/orders","version":"HTTP/1.1","tls":null,"headers":[["Host","localhost:8080"]],"#
                + #""bodyBytes":0,"rule":"orders","step":null,"status":503,"#
                + #""responseHeaders":[["Retry-After","1"],["Content-Length","0"]],"fault":null,"outcome":"completed","#
                + #""bytesSent":97,"bodyBytesSent":0,"firstByteMs":1.5,"totalMs":12}"#
        )
    }

    @Test func optionalKeysAppearWhenSet() {
        var entry = self.entry(headers: [])
        entry.step = 3
        entry.tls = "TLSv1.3"
        entry.fault = "truncate"
        entry.headersTruncated = 120
        entry.stream = 5
        entry.eventsSent = 0
        entry.upstream = UpstreamOutcome(url: "http://up:9000/x", status: nil, milliseconds: 0.1234)
        entry.regexGaveUp = ["a", "rules[2]"]
        let json = entry.json
        #expect(json.contains(#""tls":"TLSv1.3","headers":[],"headersTruncated":120,"bodyBytes":0"#))
        #expect(json.contains(#""step":3,"#))
        #expect(json.contains(#""fault":"truncate","#))
        #expect(json.contains(#""stream":5,"eventsSent":0,"lastEventId":null,"retryMs":null"#))
        #expect(json.contains(#""upstream":{"url":"http://up:9000/x","status":null,"ms":0.123}"#))
        #expect(json.hasSuffix(#","regexGaveUp":["a","rules[2]"]}"#))
    }

    @Test func textIsEscapedAsJSONAndReadsBackTheSame() throws {
        let awkward = "quote \" backslash \\ newline \n cr \r tab \t bell \u{7} del \u{7F} é 🚀 \u{1F}"
        let entry = self.entry(
            headers: [HeaderField("X-Awkward", awkward), HeaderField("", "")],
            receivedAt: -1.5,
            target: "/ü?q=\"x\""
        )
        let json = entry.json
        #expect(json.contains(#"["X-Awkward","quote \" backslash \\ newline \n cr \r tab \t bell \u0007 del "#))
        #expect(json.contains(#" \u001f"],["",""]]"#))
        #expect(json.contains(#""receivedAt":"1969-12-31T23:59:58.500Z""#))
        #expect(Array(json.utf8) == entry.jsonBytes)
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        )
        let headers = try #require(object["headers"] as? [[String]])
        #expect(headers == [["X-Awkward", awkward], ["", ""]])
        #expect(object["target"] as? String == "/ü?q=\"x\"")
    }

    @Test func theDateAHeadWentOutWithStandsForThePlannedOne() {
        var entry = self.entry()
        entry.responseHeaders = [
            HeaderField("Date", "Thu, 01 Jan 1970 00:00:00 GMT"), HeaderField("Content-Length", "0"),
            HeaderField("Date", "second"),
        ]
        entry.dateResponse("Sat, 05 Dec 2026 01:00:00 GMT")
        let sent = [
            HeaderField("Date", "Sat, 05 Dec 2026 01:00:00 GMT"), HeaderField("Content-Length", "0"),
            HeaderField("Date", "second"),
        ]
        #expect(entry.responseHeaders == sent)
        #expect(
            entry.json.contains(
                #""responseHeaders":[["Date","Sat, 05 Dec 2026 01:00:00 GMT"],["Content-Length","0"],["Date","second"]]"#
            )
        )
        // Equal to an entry given the same fields as sent.
        var same = self.entry()
        same.responseHeaders = sent
        #expect(same == entry)
        same.responseHeaders[1] = HeaderField("Content-Length", "1")
        #expect(same != entry)
    }

    @Test func timestampsKeepTheirWidths() {
        #expect(Timestamps.rfc3339(0) == "1970-01-01T00:00:00.000Z")
        #expect(Timestamps.rfc3339(1_764_892_800.007) == "2025-12-05T00:00:00.007Z")
        #expect(Timestamps.rfc3339(253_402_300_799.999) == "9999-12-31T23:59:59.999Z")
    }
}

/// The eight-bytes-at-a-time scan that decides whether a string is copied whole.
@Suite("JSON escape scan")
struct JSONEscapeScanTests {
    func needsNoEscape(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBufferPointer { JSONBytes.needsNoEscape($0) }
    }

    @Test func findsEveryByteThatNeedsAnEscapeAtEveryPlace() {
        let special: [UInt8] = Array(0..<0x20) + [UInt8(ascii: "\""), UInt8(ascii: "\\")]
        for length in [1, 7, 8, 9, 15, 16, 17, 40] {
            #expect(self.needsNoEscape(Array(repeating: UInt8(ascii: "a"), count: length)))
            for place in 0..<length {
                for byte in special {
                    var bytes = Array(repeating: UInt8(ascii: "a"), count: length)
                    bytes[place] = byte
                    #expect(!self.needsNoEscape(bytes), "byte \(byte) at \(place) of \(length)")
                }
            }
        }
    }

    @Test func letsEverythingElseThrough() {
        // Every byte from 0x20 up but `"` and `\`, UTF-8's high bytes included, side by side in words.
        let plain = (0x20...0xFF).map(UInt8.init).filter { $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }
        #expect(self.needsNoEscape(plain))
        #expect(self.needsNoEscape(Array("héllo wörld 🚀 ~!#$%&'()*+,-./:;<=>?@[]^_`{|}".utf8)))
        #expect(self.needsNoEscape([]))
    }
}

/// The journal's millisecond figures, written from integers, read exactly as `String(Double)` wrote them.
@Suite("Journal milliseconds")
struct JournalMillisecondsTests {
    func written(_ value: Double) -> String {
        var out = JSONBytes(capacity: 32)
        JournalEntry.appendMilliseconds(value, to: &out)
        return String(decoding: out.bytes, as: UTF8.self)
    }

    @Test func matchTheShortestDecimal() {
        var generator = SeededGenerator(seed: 7)
        var values: [Double] = [
            0, 1, 12, 1.5, 0.001, 0.0004, 0.0005, 0.123, 12.34, 999.9995, 1000, 1_234_567.891, -0.5,
        ]
        for _ in 0..<20_000 {
            values.append(Double(generator.next() % 10_000_000) / Double(1 + generator.next() % 100_000))
        }
        for value in values {
            #expect(self.written(value) == JournalEntry.milliseconds(value), "\(value)")
        }
    }
}
