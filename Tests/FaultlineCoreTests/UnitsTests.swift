import FaultlineCore
import Testing

@Suite("Durations, sizes and HTTP dates")
struct UnitsTests {
    @Test(arguments: [
        ("1500ms", Duration.milliseconds(1500)),
        ("2s", .seconds(2)),
        ("1.5s", .milliseconds(1500)),
        ("1m", .seconds(60)),
        ("250us", .microseconds(250)),
        ("0", .zero),
    ])
    func parsesDurations(text: String, expected: Duration) {
        #expect(DurationSyntax.parse(text) == expected)
    }

    @Test(arguments: ["2", "abc", "-1s", "1e3ms", "s", "", "1.2.3s", "2 parsecs"])
    func refusesDurationsWithoutAUnitOrNumber(text: String) {
        #expect(DurationSyntax.parse(text) == nil)
    }

    @Test func acceptsBareSecondsWhenAsked() {
        #expect(DurationSyntax.parse("2", allowBareSeconds: true) == .seconds(2))
        #expect(DurationSyntax.parse("0.25", allowBareSeconds: true) == .milliseconds(250))
    }

    @Test(arguments: [
        ("512", Int64(512)),
        ("16KiB", 16_384),
        ("10MiB", 10_485_760),
        ("1GiB", 1_073_741_824),
        ("2KB", 2000),
        ("3MB", 3_000_000),
        ("7B", 7),
        ("1.5KiB", 1536),
    ])
    func parsesSizes(text: String, expected: Int64) {
        #expect(ByteCount.parse(text) == expected)
    }

    @Test(arguments: ["ten", "-5", "1.5", "5 apples", "KiB", ""])
    func refusesBadSizes(text: String) {
        #expect(ByteCount.parse(text) == nil)
    }

    @Test func formatsAndParsesHTTPDates() {
        #expect(HTTPDate.format(secondsSince1970: 784_111_777) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(HTTPDate.format(secondsSince1970: 0) == "Thu, 01 Jan 1970 00:00:00 GMT")
        #expect(HTTPDate.format(secondsSince1970: 1_795_000_000) == "Wed, 18 Nov 2026 11:06:40 GMT")
        #expect(HTTPDate.parse("Sun, 06 Nov 1994 08:49:37 GMT") == 784_111_777)
        #expect(HTTPDate.parse("Sunday, 06-Nov-94 08:49:37 GMT") == 784_111_777)
        #expect(HTTPDate.parse("Sun Nov  6 08:49:37 1994") == 784_111_777)
        #expect(HTTPDate.parse("yesterday") == nil)
        #expect(HTTPDate.parse("Sun, 32 Nov 1994 08:49:37 GMT") == nil)
    }

    @Test func generatedBytesAreTheSameWhateverTheOffset() {
        let bytes = GeneratedBytes(key: 7)
        let whole = bytes.bytes(offset: 0, count: 1000)
        #expect(bytes.bytes(offset: 0, count: 1000) == whole)
        #expect(Array(whole[13..<503]) == bytes.bytes(offset: 13, count: 490))
        #expect(GeneratedBytes(key: 8).bytes(offset: 0, count: 1000) != whole)
        #expect(Set(whole).count > 200, "bytes should look random, not repeat a short pattern")
    }
}
