import FaultlineTestSupport
import Foundation
import Testing

/// HTTP/2 through real clients: curl (prior knowledge, `Upgrade: h2c`, ALPN), nghttp (which shows the frames) and
/// Python httpx with h2. Every fault of DESIGN 6.2 is looked at on the wire, and the journal says what happened.
@Suite("HTTP/2 through curl, nghttp and httpx", .serialized)
final class HTTP2Tests {
    static let scenario = """
        version: 1
        listeners:
          - {port: 0, http2: {maxConcurrentStreams: 2, initialWindowSize: 128KiB, maxFrameSize: 32KiB}}
          - {port: 0, tls: auto, http2: true}
        rules:
          - {name: hello, path: /hello, body: "hello h2\\n"}
          - {name: busy, path: /busy, status: 503, retryAfter: 2, headers: {Connection: keep-alive, X-Kept: yes}}
          - {name: slow, path: /slow, delay: 1s, body: slow}
          - {name: refused, path: /refused, fault: {rstStream: REFUSED_STREAM}}
          - {name: rst-after, path: /rst-after, bodySize: 100000, fault: {rstStream: INTERNAL_ERROR, afterBytes: 1000}}
          - {name: goaway, path: /goaway, fault: {goaway: NO_ERROR}}
          - {name: goaway-after, path: /goaway-after, body: bye, fault: {goawayAfter: NO_ERROR}}
          - {name: truncate, path: /truncate, bodySize: 5000, fault: {truncate: 100}}
          - {name: bad-status, path: /bad-status, fault: bad-status}
          - {name: hang, path: /hang, fault: hang}
          - {name: once, path: /once, times: 1, fault: {goaway: NO_ERROR}}
          - {name: once, path: /once, body: "second time\\n"}
        """

    let folder: TemporaryFolder
    let server: FaultlineProcess
    /// The plaintext listener (prior knowledge and h2c) and the TLS one (ALPN).
    let plain: String
    let tls: String
    let caFile: String

    init() throws {
        self.folder = try TemporaryFolder()
        let file = try self.folder.write("h2.yaml", Self.scenario)
        self.caFile = self.folder.path("ca.pem")
        self.server = try FaultlineProcess([
            "serve", file, "--ca-out", self.caFile, "--access-log", self.folder.path("access.log"),
        ])
        let urls = try self.server.waitUntilListening(count: 2)
        self.plain = urls[0]
        self.tls = urls[1]
    }

    deinit {
        self.server.signal()
        self.server.waitForExit()
    }

    func nghttp(_ paths: [String], _ extra: [String] = []) throws -> String {
        let result = try Command.run("nghttp", ["-nv"] + extra + paths.map { self.plain + $0 }, timeout: 20)
        return result.stdout + result.stderr
    }

    /// The journal, as the control API serves it.
    func journal() throws -> [[String: Any]] {
        let result = try Curl.run(["-s", self.plain + "/__faultline/journal"])
        return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
    }

    func entries(rule: String) throws -> [[String: Any]] {
        try self.journal().filter { $0["rule"] as? String == rule }
    }

    // MARK: - The three ways in

    @Test func curlSpeaksH2ByPriorKnowledgeByUpgradeAndByALPN() throws {
        let prior = try Curl.run(["-s", "-i", "--http2-prior-knowledge", self.plain + "/hello"])
        #expect(prior.stdout.hasPrefix("HTTP/2 200 \r\n"), "\(prior.stdout)")
        #expect(prior.stdout.hasSuffix("\r\n\r\nhello h2\n"))
        let upgraded = try Curl.run(["-s", "-i", "--http2", self.plain + "/hello"])
        #expect(
            upgraded.stdout.hasPrefix(
                "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\nHTTP/2 200 \r\n"
            ),
            "\(upgraded.stdout)"
        )
        #expect(upgraded.stdout.hasSuffix("hello h2\n"))
        let negotiated = try Curl.run(["-s", "-i", "--cacert", self.caFile, self.tls + "/hello"])
        #expect(negotiated.stdout.hasPrefix("HTTP/2 200 \r\n"), "\(negotiated.stdout)")
        // HTTP/1.1 stays on the same ports.
        #expect(try Curl.run(["-s", "-i", self.plain + "/hello"]).stdout.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(
            try Curl.run(["-s", "-i", "--http1.1", "--cacert", self.caFile, self.tls + "/hello"]).stdout.hasPrefix(
                "HTTP/1.1 200 OK\r\n"
            )
        )
    }

    @Test func statusesAndHeadersAreTheSameAndNoHopByHopHeaderGoesOut() throws {
        let busy = try Curl.run(["-s", "-i", "--http2-prior-knowledge", self.plain + "/busy"])
        #expect(busy.stdout.hasPrefix("HTTP/2 503 \r\n"))
        #expect(busy.stdout.contains("\r\nretry-after: 2\r\n"))
        #expect(busy.stdout.contains("\r\nx-kept: yes\r\n"))
        #expect(
            !busy.stdout.lowercased().contains("\r\nconnection:"),
            "a rule's Connection header never goes out on HTTP/2"
        )
        // The journal tells the headers as they went out: lower case, no Connection.
        let row = try #require(try self.entries(rule: "busy").last)
        let sent = try #require(row["responseHeaders"] as? [[String]])
        #expect(sent.contains(["retry-after", "2"]) && sent.contains(["x-kept", "yes"]), "\(sent)")
        #expect(!sent.contains { $0.first?.lowercased() == "connection" }, "\(sent)")
        let health = try Curl.run(["-s", "--http2-prior-knowledge", self.plain + "/__faultline/health"])
        #expect(health.stdout.hasPrefix("{\"status\":\"ok\""), "the control API answers over HTTP/2 too")
        let journal = try Curl.run(["-s", "--http2-prior-knowledge", self.plain + "/__faultline/journal"])
        let rows = try JSONSerialization.jsonObject(with: Data(journal.stdout.utf8)) as? [[String: Any]]
        #expect(rows?.contains { $0["rule"] as? String == "busy" } == true, "the journal streams over HTTP/2 too")
    }

    @Test func theSettingsAreAdvertisedAsConfigured() throws {
        let frames = try self.nghttp(["/hello"])
        #expect(frames.contains("[SETTINGS_MAX_CONCURRENT_STREAMS(0x03):2]"), "\(frames)")
        #expect(frames.contains("[SETTINGS_INITIAL_WINDOW_SIZE(0x04):131072]"))
        #expect(frames.contains("[SETTINGS_MAX_FRAME_SIZE(0x05):32768]"))
    }

    // MARK: - Faults on the wire

    @Test func streamFaultsAreVisibleOnTheWire() throws {
        let refused = try self.nghttp(["/refused"])
        #expect(
            refused.contains(
                "recv RST_STREAM frame <length=4, flags=0x00, stream_id=13>\n          (error_code=REFUSED_STREAM(0x07))"
            ),
            "\(refused)"
        )

        let cut = try self.nghttp(["/rst-after"])
        #expect(cut.contains("recv DATA frame <length=1000, flags=0x00, stream_id=13>"), "\(cut)")
        #expect(
            cut.contains(
                "recv RST_STREAM frame <length=4, flags=0x00, stream_id=13>\n          (error_code=INTERNAL_ERROR(0x02))"
            )
        )

        let truncated = try self.nghttp(["/truncate"])
        #expect(truncated.contains("recv DATA frame <length=100, flags=0x00, stream_id=13>"), "\(truncated)")
        #expect(truncated.contains("(error_code=INTERNAL_ERROR(0x02))"))

        let goaway = try self.nghttp(["/goaway"])
        #expect(
            goaway.contains(
                "recv GOAWAY frame <length=8, flags=0x00, stream_id=0>\n          (last_stream_id=11, error_code=NO_ERROR(0x00)"
            ),
            "\(goaway)"
        )

        let after = try self.nghttp(["/goaway-after"])
        #expect(
            after.contains(
                "recv GOAWAY frame <length=8, flags=0x00, stream_id=0>\n          (last_stream_id=13, error_code=NO_ERROR(0x00)"
            ),
            "\(after)"
        )
        #expect(
            after.contains("recv DATA frame <length=0, flags=0x01, stream_id=13>"),
            "the stream is answered to its end"
        )

        let badStatus = try self.nghttp(["/bad-status"])
        #expect(
            badStatus.contains(
                "Invalid HTTP header field was received: frame type: 1, stream: 13, name: [:status], value: [OK]"
            ),
            "\(badStatus)"
        )
    }

    @Test func aStreamBeyondMaxConcurrentStreamsIsRefused() throws {
        let frames = try self.nghttp(["/slow", "/slow?b", "/slow?c"])
        #expect(
            frames.contains(
                "recv RST_STREAM frame <length=4, flags=0x00, stream_id=17>\n          (error_code=REFUSED_STREAM(0x07))"
            ),
            "\(frames)"
        )
        // Refused before any rule saw it: no rule, status 499, dropped.
        let refused = try self.journal().filter {
            ($0["target"] as? String)?.hasPrefix("/slow?") == true && $0["status"] as? Int == 499
        }
        #expect(refused.count == 1)
        #expect(refused.first?["rule"] is NSNull)
        #expect(refused.first?["outcome"] as? String == "dropped")
        #expect(refused.first?["fault"] is NSNull)
        #expect(refused.first?["stream"] as? Int == 17)
    }

    @Test func aDelayHoldsOnlyItsOwnStream() throws {
        _ = try self.nghttp(["/slow?alone", "/hello?beside"])
        let journal = try self.journal()
        let slow = try #require(journal.first { $0["target"] as? String == "/slow?alone" })
        let hello = try #require(journal.first { $0["target"] as? String == "/hello?beside" })
        #expect(slow["connection"] as? Int == hello["connection"] as? Int, "one connection, two streams")
        let slowMs = try #require(slow["totalMs"] as? Double)
        let helloMs = try #require(hello["totalMs"] as? Double)
        #expect(slowMs >= 1000)
        #expect(helloMs < slowMs, "the answer beside the delayed one came first: \(helloMs) ms against \(slowMs) ms")
    }

    @Test func theJournalRecordsStreamsVersionsAndOutcomes() throws {
        _ = try self.nghttp(["/hello?j"])
        _ = try self.nghttp(["/refused?j"])
        _ = try self.nghttp(["/truncate?j"])
        _ = try self.nghttp(["/goaway?j"])
        _ = try self.nghttp(["/goaway-after?j"])
        _ = try Command.run("nghttp", ["-nv", "--timeout=1", self.plain + "/hang?j"], timeout: 20)
        let journal = try self.journal()
        func entry(_ target: String) throws -> [String: Any] {
            try #require(journal.first { $0["target"] as? String == target })
        }
        func row(_ target: String) throws -> [String] {
            let e = try entry(target)
            return [
                "\(e["status"] ?? "")", "\(e["outcome"] ?? "")", (e["fault"] as? String) ?? "null",
                "\(e["version"] ?? "")", "\(e["stream"] ?? "")",
            ]
        }
        #expect(try row("/hello?j") == ["200", "completed", "null", "HTTP/2", "13"])
        #expect(try row("/refused?j") == ["499", "reset", "rstStream", "HTTP/2", "13"])
        #expect(try row("/truncate?j") == ["200", "reset", "truncate", "HTTP/2", "13"])
        #expect(try row("/goaway?j") == ["499", "dropped", "goaway", "HTTP/2", "13"])
        #expect(try row("/goaway-after?j") == ["200", "completed", "goawayAfter", "HTTP/2", "13"])
        #expect(try row("/hang?j") == ["499", "client-closed", "hang", "HTTP/2", "13"])
        let log = try String(contentsOfFile: self.folder.path("access.log"), encoding: .utf8)
        #expect(log.contains("\"GET /hello?j HTTP/2.0\" 200 9 "), "\(log)")
    }

    // MARK: - Python httpx with h2

    @Test func httpxRetriesAGoawayRefusedRequestOnANewConnection() throws {
        let script = """
            import sys, httpx
            with httpx.Client(http1=False, http2=True) as client:
                first = client.get(sys.argv[1] + "/hello")
                # The second request on the connection meets GOAWAY (last-stream-id 1): not processed, so httpx
                # opens a new connection and sends it again there.
                second = client.get(sys.argv[1] + "/once")
                print(first.http_version, first.status_code, second.http_version, second.status_code, second.text.strip())
            """
        let result = try Command.run(try Command.testPython(), ["-c", script, self.plain], timeout: 30)
        #expect(result.stdout == "HTTP/2 200 HTTP/2 200 second time\n", "\(result.stderr)")
        let once = try self.entries(rule: "once")
        #expect(once.map { $0["status"] as? Int } == [499, 200])
        #expect(once.first?["outcome"] as? String == "dropped")
        #expect(once.first?["fault"] as? String == "goaway")
        #expect(once.first?["stream"] as? Int == 3)
        #expect(once[0]["connection"] as? Int != once[1]["connection"] as? Int, "the retry came on a new connection")
    }

    @Test func httpxNegotiatesH2OverTLSWithTheGeneratedCA() throws {
        let script = """
            import sys, httpx
            with httpx.Client(http2=True, verify=sys.argv[2]) as client:
                response = client.get(sys.argv[1] + "/hello")
                print(response.http_version, response.status_code, response.text.strip())
            """
        let result = try Command.run(try Command.testPython(), ["-c", script, self.tls, self.caFile], timeout: 30)
        #expect(result.stdout == "HTTP/2 200 hello h2\n", "\(result.stderr)")
    }
}

/// The built-in scenario over HTTP/2 (`serve --http2`), and bad input answered as HTTP/2 says.
@Suite("HTTP/2: the built-in scenario and bad input", .serialized)
final class HTTP2BuiltInAndBadInputTests {
    let folder: TemporaryFolder
    let server: FaultlineProcess
    let plain: String
    let tls: String
    let caFile: String

    init() throws {
        self.folder = try TemporaryFolder()
        self.caFile = self.folder.path("ca.pem")
        self.server = try FaultlineProcess([
            "serve", "--port", "0", "--tls-port", "0", "--http2", "--ca-out", self.caFile,
        ])
        let urls = try self.server.waitUntilListening(count: 2)
        self.plain = urls[0]
        self.tls = urls[1]
    }

    deinit {
        self.server.signal()
        self.server.waitForExit()
    }

    @Test func theBuiltInScenarioAnswersOverH2AndH2C() throws {
        for (arguments, url) in [
            (["--http2-prior-knowledge"], self.plain), (["--http2"], self.plain),
            (["--cacert", self.caFile], self.tls),
        ] {
            let busy = try Curl.run(
                ["-s", "-o", "/dev/null", "-w", "%{http_version} %{http_code}", "-D", "-"] + arguments + [
                    url + "/status/503"
                ]
            )
            #expect(busy.stdout.hasSuffix("2 503"), "\(arguments): \(busy.stdout)")
            #expect(busy.stdout.contains("\r\nretry-after: 1\r\n"))
            let bytes = try Curl.run(["-s"] + arguments + [url + "/bytes/100000"])
            #expect(bytes.stdoutBytes.count == 100_000)
            let range = try Curl.run(["-s", "-i", "-r", "10-19"] + arguments + [url + "/range/100"])
            #expect(range.stdout.contains("HTTP/2 206 \r\n"))
            #expect(range.stdout.contains("\r\ncontent-range: bytes 10-19/100\r\n"))
            let reset = try Curl.run(["-sS", "-o", "/dev/null"] + arguments + [url + "/reset"])
            // Whether curl was sending or receiving when the RST came: 55 or 56, "Connection reset by peer" either way.
            #expect([55, 56].contains(reset.exitCode), "reset closes the whole connection with an RST")
            #expect(reset.stderr.contains("Connection reset by peer"), "\(reset.stderr)")
        }
    }

    @Test func badInputGetsHTTP2sAnswerAndTheServerGoesOn() throws {
        let script = """
            import socket, sys, h2.connection, h2.config, h2.events
            host, port = sys.argv[1], int(sys.argv[2])
            PREFACE = b"PRI * HTTP/2.0\\r\\n\\r\\nSM\\r\\n\\r\\n"

            def goaway_code(payload):
                s = socket.create_connection((host, port), timeout=10)
                s.sendall(payload)
                data = b""
                try:
                    while True:
                        chunk = s.recv(65536)
                        if not chunk: break
                        data += chunk
                except socket.timeout:
                    pass
                s.close()
                # Walk the frames for a GOAWAY (type 7): its error code is the last 4 of its first 8 payload bytes.
                i = 0
                while i + 9 <= len(data):
                    length = int.from_bytes(data[i:i+3], "big"); kind = data[i+3]
                    if kind == 7: return int.from_bytes(data[i+13:i+17], "big")
                    i += 9 + length
                return None

            # A SETTINGS frame whose length is not a multiple of 6: FRAME_SIZE_ERROR (6).
            print("bad-settings", goaway_code(PREFACE + b"\\x00\\x00\\x05\\x04\\x00\\x00\\x00\\x00\\x00" + b"\\x00" * 5))
            # HEADERS on stream 0: PROTOCOL_ERROR (1).
            print("stream-zero", goaway_code(PREFACE + b"\\x00\\x00\\x00\\x04\\x00\\x00\\x00\\x00\\x00" + b"\\x00\\x00\\x01\\x01\\x05\\x00\\x00\\x00\\x00\\x82"))

            # Rapid reset (CVE-2023-44487): streams opened and reset at once, thousands of them.
            s = socket.create_connection((host, port), timeout=10)
            conn = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=True))
            conn.initiate_connection()
            s.sendall(conn.data_to_send())
            code = None
            try:
                for n in range(3000):
                    sid = conn.get_next_available_stream_id()
                    conn.send_headers(sid, [(":method", "GET"), (":path", "/hello"), (":scheme", "http"), (":authority", "x")])
                    conn.reset_stream(sid)
                    s.sendall(conn.data_to_send())
                s.settimeout(5)
                while code is None:
                    data = s.recv(65536)
                    if not data: break
                    for event in conn.receive_data(data):
                        if isinstance(event, h2.events.ConnectionTerminated): code = int(event.error_code)
            except Exception:
                pass
            print("rapid-reset", "closed" if code is None else code)
            """
        let port = String(self.plain.split(separator: ":").last ?? "")
        let result = try Command.run(try Command.testPython(), ["-c", script, "127.0.0.1", port], timeout: 60)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "bad-settings 6", "\(result.stdout) \(result.stderr)")
        #expect(lines.dropFirst().first == "stream-zero 1")
        let rapid = lines.dropFirst(2).first ?? ""
        // NIO's own answer to a flood: GOAWAY ENHANCE_YOUR_CALM (11), or the connection closed.
        #expect(rapid == "rapid-reset 11" || rapid == "rapid-reset closed", "\(rapid)")
        // The server goes on.
        #expect(try Curl.run(["-s", "--http2-prior-knowledge", self.plain + "/get"]).stdout == "ok\n")
    }
}
