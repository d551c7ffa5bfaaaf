import FaultlineCore
import Foundation
import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
import NIOPosix
import Testing

@testable import FaultlineServer

/// The connection handler on an `EmbeddedChannel`: raw bytes in, raw bytes out, time moved by hand.
@Suite("HTTP/1.1 connection handler on an embedded channel")
struct HTTP1ConnectionHandlerTests {
    func makeChannel(
        _ yaml: String,
        limits configure: (inout Limits) -> Void = { _ in }
    ) throws -> (EmbeddedChannel, ServerControl) {
        let scenario = try ScenarioLoader.load(yaml: yaml, name: "<test>", baseDirectory: "/tmp")
        let control = ServerControl(
            live: LiveScenario(RuleEngine(scenario: scenario)),
            source: .init(yaml: yaml, baseDirectory: "/tmp")
        )
        var limits = scenario.limits
        configure(&limits)
        let channel = EmbeddedChannel()
        try FaultlineServer.configurePipeline(
            channel,
            environment: ConnectionEnvironment(
                control: control,
                threadPool: .singleton,
                statistics: ServerStatistics(),
                logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
            ),
            limits: limits
        )
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return (channel, control)
    }

    func written(_ channel: EmbeddedChannel) throws -> String {
        var text = ""
        while let part = try channel.readOutbound(as: IOData.self) {
            if case .byteBuffer(let buffer) = part { text += String(buffer: buffer) }
        }
        return text
    }

    @Test func aSlowHeadTakesExactlyItsDuration() throws {
        let (channel, _) = try self.makeChannel(
            "version: 1\nrules:\n  - {path: /s, body: ok, fault: {slowHeaders: 3s}}\n"
        )
        try channel.writeInbound(ByteBuffer(string: "GET /s HTTP/1.1\r\nHost: x\r\n\r\n"))
        var head = try self.written(channel)
        #expect(head.hasPrefix("HTTP"), "the first bytes go out at once")
        #expect(!head.hasSuffix("\r\n\r\n"))
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(2950))
        head += try self.written(channel)
        #expect(!head.contains("\r\n\r\n"), "the head is not whole before its three seconds")
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(50))
        head += try self.written(channel)
        #expect(head.hasSuffix("\r\n\r\nok"), "and whole at three seconds, the body right after")
        _ = try channel.finish()
    }

    @Test func aStalledBodyGets408AndTheConnectionCloses() throws {
        let (channel, control) = try self.makeChannel("version: 1\nrules:\n  - {path: /up, method: POST}\n") {
            $0.requestTimeout = .seconds(5)
        }
        try channel.writeInbound(ByteBuffer(string: "POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123"))
        channel.embeddedEventLoop.advanceTime(by: .seconds(4))
        try channel.writeInbound(ByteBuffer(string: "45"))
        channel.embeddedEventLoop.advanceTime(by: .seconds(4))
        #expect(try self.written(channel) == "", "each part of the body moves the deadline")
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        let refusal = try self.written(channel)
        #expect(refusal.hasPrefix("HTTP/1.1 408 Request Timeout\r\n"))
        #expect(refusal.contains("\r\nConnection: close\r\n"))
        #expect(refusal.hasSuffix("Faultline: the request body stalled: nothing arrived for 5s.\n"))
        let entry = try #require(control.recorder.journal.entries().last)
        #expect(entry.status == 408)
        #expect(entry.outcome == .timeout)
        #expect(entry.bodyBytes == 6)
        _ = try? channel.finish()
    }

    @Test func expectContinueGetsItsInterimAnswerBeforeTheBody() throws {
        let (channel, _) = try self.makeChannel(
            "version: 1\nrules:\n  - {path: /up, method: POST, status: 201, body: stored}\n"
        )
        try channel.writeInbound(
            ByteBuffer(string: "POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        )
        #expect(try self.written(channel) == "HTTP/1.1 100 Continue\r\n\r\n")
        try channel.writeInbound(ByteBuffer(string: "hello"))
        let answer = try self.written(channel)
        #expect(answer.hasPrefix("HTTP/1.1 201 Created\r\n"))
        #expect(answer.hasSuffix("\r\n\r\nstored"))
        _ = try channel.finish()
    }

    @Test func bareLineFeedsAre400AndAnotherVersionIs505() throws {
        let (bare, _) = try self.makeChannel("version: 1\nrules: []\n")
        _ = try? bare.writeInbound(ByteBuffer(string: "GET / HTTP/1.1\nHost: x\n\n"))
        #expect(try self.written(bare).hasPrefix("HTTP/1.1 400 Bad Request\r\n"))
        let (other, _) = try self.makeChannel("version: 1\nrules: []\n")
        _ = try? other.writeInbound(ByteBuffer(string: "GET / HTTP/2.0\r\nHost: x\r\n\r\n"))
        #expect(try self.written(other).hasPrefix("HTTP/1.1 505 HTTP Version Not Supported\r\n"))
        let (hostless, _) = try self.makeChannel("version: 1\nrules: []\n")
        try hostless.writeInbound(ByteBuffer(string: "GET / HTTP/1.1\r\n\r\n"))
        let refused = try self.written(hostless)
        #expect(refused.hasPrefix("HTTP/1.1 400 Bad Request\r\n"))
        #expect(refused.hasSuffix("Faultline: an HTTP/1.1 request needs a Host header.\n"))
    }

    @Test func journalIdsFollowArrivalNotCompletion() throws {
        let (channel, control) = try self.makeChannel(
            "version: 1\nrules:\n  - {path: /slow, delay: 1s}\n  - {path: /fast}\n"
        )
        let (other, _) = try self.makeChannel("version: 1\nrules: []\n")
        _ = other
        try channel.writeInbound(ByteBuffer(string: "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"))
        // A second connection of the same server answers at once, after the slow request arrived.
        let fast = EmbeddedChannel()
        try FaultlineServer.configurePipeline(
            fast,
            environment: ConnectionEnvironment(
                control: control,
                threadPool: .singleton,
                statistics: ServerStatistics(),
                logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
            ),
            limits: Limits()
        )
        try fast.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 2)).wait()
        try fast.writeInbound(ByteBuffer(string: "GET /fast HTTP/1.1\r\nHost: x\r\n\r\n"))
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        let entries = control.recorder.journal.entries()
        #expect(entries.map(\.target) == ["/slow", "/fast"], "oldest arrival first")
        #expect(entries.map(\.id) == [1, 2])
        _ = try channel.finish()
        _ = try fast.finish()
    }
}
