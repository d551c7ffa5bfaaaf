import FaultlineCore
import Foundation
import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
import NIOPosix
import Testing

@testable import FaultlineServer

/// Handler tests on an `EmbeddedChannel`: raw bytes in, raw bytes out, time moved by hand. No sockets, no sleeps.
@Suite("Exchange handler on an embedded channel")
struct HTTPExchangeHandlerTests {
    /// A channel with the server's pipeline serving `yaml`.
    func makeChannel(_ yaml: String, statistics: ServerStatistics = ServerStatistics()) throws -> EmbeddedChannel {
        let scenario = try ScenarioLoader.load(yaml: yaml, name: "<test>", baseDirectory: "/tmp")
        let channel = EmbeddedChannel()
        try FaultlineServer.configurePipeline(
            channel,
            environment: ConnectionEnvironment(
                control: ServerControl(
                    live: LiveScenario(RuleEngine(scenario: scenario)),
                    source: .init(yaml: yaml, baseDirectory: "/tmp")
                ),
                threadPool: .singleton,
                statistics: statistics,
                logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
            ),
            limits: scenario.limits
        )
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return channel
    }

    /// Everything the channel wrote, as text.
    func written(_ channel: EmbeddedChannel) throws -> String {
        var text = ""
        while let part = try channel.readOutbound(as: IOData.self) {
            if case .byteBuffer(let buffer) = part { text += String(buffer: buffer) }
        }
        return text
    }

    @Test func theDelayIsATimerNotABlockedThread() throws {
        let statistics = ServerStatistics()
        let channel = try self.makeChannel(
            "version: 1\nrules:\n  - {path: /d, delay: 2s, body: late}\n",
            statistics: statistics
        )
        try channel.writeInbound(ByteBuffer(string: "GET /d HTTP/1.1\r\nHost: x\r\n\r\n"))
        #expect(try self.written(channel) == "")
        #expect(statistics.pendingDelays == 1)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1999))
        #expect(try self.written(channel) == "")
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1))
        let response = try self.written(channel)
        #expect(response.hasPrefix("HTTP/1.1 200 OK\r\nDate: "))
        #expect(response.contains("\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 4\r\n"))
        #expect(response.hasSuffix("\r\n\r\nlate"))
        #expect(statistics.pendingDelays == 0)
        _ = try channel.finish()
    }

    @Test func closingDuringADelayCancelsIt() throws {
        let statistics = ServerStatistics()
        let channel = try self.makeChannel("version: 1\nrules:\n  - {path: /d, delay: 2s}\n", statistics: statistics)
        try channel.writeInbound(ByteBuffer(string: "GET /d HTTP/1.1\r\nHost: x\r\n\r\n"))
        #expect(statistics.pendingDelays == 1)
        try channel.close().wait()
        #expect(statistics.pendingDelays == 0)
        channel.embeddedEventLoop.advanceTime(by: .seconds(5))
        #expect(try self.written(channel) == "")
    }

    @Test func pipelinedRequestsWaitForTheDelayedOneBeforeThem() throws {
        let channel = try self.makeChannel(
            "version: 1\nrules:\n  - {path: /slow, delay: 1s, body: a}\n  - {path: /fast, body: b}\n"
        )
        try channel.writeInbound(
            ByteBuffer(string: "GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /fast HTTP/1.1\r\nHost: x\r\n\r\n")
        )
        #expect(try self.written(channel) == "")
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        let text = try self.written(channel)
        #expect(text.components(separatedBy: "HTTP/1.1 200 OK").count == 3)
        #expect(text.hasSuffix("\r\n\r\nb"))
        #expect(text.contains("\r\n\r\naHTTP/1.1 200 OK"))
        _ = try channel.finish()
    }
}
