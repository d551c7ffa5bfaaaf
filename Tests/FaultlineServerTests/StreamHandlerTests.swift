import FaultlineCore
import NIOCore
import NIOEmbedded
import Testing

@testable import FaultlineServer

/// A stream's schedule on an embedded channel: each event exactly when due, time moved by hand.
@Suite("Streams on an embedded channel")
struct StreamHandlerTests {
    @Test func eachEventGoesOutWhenItIsDueAndNotBefore() throws {
        let handler = HTTP1ConnectionHandlerTests()
        let (channel, control) = try handler.makeChannel(
            """
            version: 1
            rules:
              - path: /s
                events: [{data: a}, {data: b, delay: 1s}, {data: c, delay: 500ms}, {data: d}]
            """
        )
        try channel.writeInbound(ByteBuffer(string: "GET /s HTTP/1.1\r\nHost: x\r\n\r\n"))
        let first = try handler.written(channel)
        #expect(first.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(first.hasSuffix("\r\n\r\n9\r\ndata: a\n\n\r\n"), "the head and the first event at once")
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(999))
        #expect(try handler.written(channel) == "", "the second event is due after a second")
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1))
        #expect(try handler.written(channel) == "9\r\ndata: b\n\n\r\n")
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(499))
        #expect(try handler.written(channel) == "")
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1))
        #expect(
            try handler.written(channel) == "9\r\ndata: c\n\n\r\n9\r\ndata: d\n\n\r\n0\r\n\r\n",
            "an event without delay follows at once"
        )
        _ = try channel.finish()
        #expect(control.recorder.journal.entries().first?.eventsSent == 4)
    }
}
