import FaultlineTestSupport
import Foundation
import Testing

/// `proxy` answers to HTTP/2 clients: the upstream speaks HTTP/1.1 (Faultline itself here), the client h2 (curl by
/// prior knowledge, nghttp for the frames). The upstream's answer goes out as HEADERS and DATA frames without
/// connection-specific fields, a request body goes up as it arrives, and the rule's faults keep their HTTP/2
/// meaning on the real body.
@Suite("Proxy rules over HTTP/2", .serialized)
final class ProxyHTTP2Tests {
    static let upstreamScenario = """
        version: 1
        rules:
          - {name: hello, path: /hello, headers: {X-Up: "1", Keep-Alive: "timeout=5"}, body: "hello from upstream\\n"}
          - {name: big, path: /big, bodySize: 200KiB}
          - {name: large, path: /large, bodySize: 200KiB}
          - {name: upload, path: /upload, method: POST, status: 201, body: stored}
          - {name: put, path: /put, method: PUT, status: 201, body: stored}
          - {name: broken, path: /broken, bodySize: 100KiB, fault: {truncate: 5000}}
        """

    let folder: TemporaryFolder
    let upstream: FaultlineProcess
    let front: FaultlineProcess
    let upstreamURL: String
    let frontURL: String

    init() throws {
        self.folder = try TemporaryFolder()
        self.upstream = try FaultlineProcess([
            "serve", try self.folder.write("upstream.yaml", Self.upstreamScenario), "--port", "0",
        ])
        self.upstreamURL = try #require(try self.upstream.waitUntilListening().first)
        let front = """
            version: 1
            listeners:
              - {port: 0, http2: true}
            rules:
              - {name: cut, path: /big, proxy: "\(self.upstreamURL)", fault: {truncate: 1000}}
              - {name: down, path: /down, proxy: "http://127.0.0.1:1"}
              - {name: through, path: /**, proxy: "\(self.upstreamURL)"}
            """
        self.front = try FaultlineProcess(["serve", try self.folder.write("front.yaml", front)])
        self.frontURL = try #require(try self.front.waitUntilListening().first)
    }

    deinit {
        self.front.signal()
        self.front.waitForExit()
        self.upstream.signal()
        self.upstream.waitForExit()
    }

    func journal(_ base: String) throws -> [[String: Any]] {
        let result = try Curl.run(["-s", base + "/__faultline/journal"])
        return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
    }

    /// The last entry of `base`'s journal for `rule`, once it is there (an exchange is journaled once its last write
    /// is done, which may be a moment after the client has it).
    func lastEntry(_ base: String, rule: String) throws -> [String: Any] {
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if let entry = try self.journal(base).last(where: { $0["rule"] as? String == rule }) { return entry }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return try #require(try self.journal(base).last { $0["rule"] as? String == rule })
    }

    @Test func theUpstreamsAnswerGoesOutAsFramesWithoutConnectionFields() throws {
        let result = try Curl.run(["-s", "-i", "--http2-prior-knowledge", self.frontURL + "/hello?x=1"])
        let (head, body) = try #require(
            result.stdout.split(separator: "\r\n\r\n", maxSplits: 1).map(String.init).pairOrNil
        )
        let lines = head.split(separator: "\r\n").map(String.init)
        #expect(lines.first == "HTTP/2 200 ")
        #expect(lines.contains("x-up: 1"))
        #expect(
            !lines.contains {
                $0.hasPrefix("keep-alive") || $0.hasPrefix("connection") || $0.hasPrefix("transfer-encoding")
            }
        )
        #expect(body == "hello from upstream\n")
        let entry = try self.lastEntry(self.frontURL, rule: "through")
        #expect(entry["version"] as? String == "HTTP/2")
        #expect(entry["outcome"] as? String == "completed")
        let upstream = try #require(entry["upstream"] as? [String: Any])
        #expect(upstream["url"] as? String == self.upstreamURL + "/hello?x=1")
        #expect(upstream["status"] as? Int == 200)
        let arrived = try self.lastEntry(self.upstreamURL, rule: "hello")
        #expect(arrived["version"] as? String == "HTTP/1.1")
    }

    @Test func aLargeBodyStreamsBothWays() throws {
        let payload = String(repeating: "0123456789abcdef", count: 65_536)  // 1 MiB
        let file = try self.folder.write("payload.bin", payload)
        let upload = try Curl.run([
            "-s", "-o", "/dev/null", "-w", "%{http_code} %{http_version}", "--http2-prior-knowledge", "--data-binary",
            "@" + file, self.frontURL + "/upload",
        ])
        #expect(upload.stdout == "201 2")
        let arrived = try self.lastEntry(self.upstreamURL, rule: "upload")
        #expect(arrived["bodyBytes"] as? Int == 1_048_576)
        let download = try Curl.run([
            "-s", "-o", "/dev/null", "-w", "%{http_code} %{size_download}", "--http2-prior-knowledge",
            self.frontURL + "/large",
        ])
        #expect(download.stdout == "200 204800")
    }

    @Test func aBodyWithoutContentLengthGoesUpChunked() throws {
        // HTTP/2 has no chunked framing: a body of unknown length is DATA frames without `content-length`, as curl
        // sends from standard input. The upstream gets it whole, chunked.
        let file = try self.folder.write("stdin.bin", String(repeating: "fedcba9876543210", count: 20_000))
        let upload = try Command.run(
            [
                "bash", "-c",
                "cat '\(file)' | curl -s -o /dev/null -w '%{http_code} %{http_version}' --http2-prior-knowledge -T - "
                    + "'\(self.frontURL)/put'",
            ],
            timeout: 60
        )
        #expect(upload.stdout == "201 2")
        let arrived = try self.lastEntry(self.upstreamURL, rule: "put")
        #expect(arrived["bodyBytes"] as? Int == 320_000)
        let headers = try #require(arrived["headers"] as? [[String]])
        #expect(headers.contains { $0.first?.lowercased() == "transfer-encoding" && $0.last == "chunked" })
    }

    @Test func aFaultOnTheRuleCutsTheRealBodyWithItsHTTP2Meaning() throws {
        let result = try Command.run("nghttp", ["-nv", self.frontURL + "/big"], timeout: 20)
        let frames = result.stdout + result.stderr
        // truncate on HTTP/2: the first 1,000 bytes of the upstream's body, then RST_STREAM INTERNAL_ERROR.
        #expect(frames.contains("recv RST_STREAM frame"))
        #expect(frames.contains("error_code=INTERNAL_ERROR(0x02)"))
        let entry = try self.lastEntry(self.frontURL, rule: "cut")
        #expect(entry["bodyBytesSent"] as? Int == 1000)
        #expect(entry["outcome"] as? String == "reset")
    }

    @Test func anUpstreamThatBreaksOffResetsTheStream() throws {
        let result = try Command.run("nghttp", ["-nv", self.frontURL + "/broken"], timeout: 20)
        let frames = result.stdout + result.stderr
        #expect(frames.contains("error_code=INTERNAL_ERROR(0x02)"))
        let entry = try self.lastEntry(self.frontURL, rule: "through")
        #expect(entry["outcome"] as? String == "dropped")
        #expect(entry["bodyBytesSent"] as? Int == 5000)
    }

    @Test func anUpstreamThatCannotBeReachedIsA502() throws {
        let result = try Curl.run(["-s", "-i", "--http2-prior-knowledge", self.frontURL + "/down"])
        #expect(result.stdout.hasPrefix("HTTP/2 502 \r\n"))
        #expect(result.stdout.contains("connection refused"))
        let entry = try self.lastEntry(self.frontURL, rule: "down")
        let upstream = try #require(entry["upstream"] as? [String: Any])
        #expect(upstream["status"] is NSNull)
    }
}

extension Array where Element == String {
    /// The two elements of a two-element array.
    fileprivate var pairOrNil: (String, String)? {
        self.count == 2 ? (self[0], self[1]) : nil
    }
}
