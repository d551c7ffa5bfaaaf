import FaultlineCore
import FaultlineServer
import FaultlineTestSupport
import FaultlineTesting
import Foundation
import Testing

/// `proxy` answers over real sockets, with Faultline itself as the upstream (plain and TLS, its faults and its
/// journal telling what arrived), and a raw client seeing exactly what the proxy sent.
@Suite("Proxy rules over real sockets, Faultline as the upstream", .serialized)
struct ProxyServerTests {
    /// Runs `body` with an upstream serving `upstream` and a front serving `front`, where `UPSTREAM` stands for the
    /// upstream's URL.
    func withProxy(
        upstream: String,
        front: String,
        seed: UInt64? = nil,
        _ body: (_ upstream: RunningFaultline, _ front: RunningFaultline) async throws -> Void
    ) async throws {
        try await withServer(upstream) { upstreamServer in
            let yaml = front.replacingOccurrences(of: "UPSTREAM", with: upstreamServer.url)
            try await withFaultline(scenario: .yaml(yaml), seed: seed, eventLoopThreads: 1) { frontServer in
                try await body(upstreamServer, frontServer)
            }
        }
    }

    /// One request on a fresh connection, read whole (the request closes the connection when `close`).
    func exchange(_ port: Int, _ request: String, bodyExpected: Bool = true) throws -> RawResponse {
        let client = try RawHTTPClient(port: port)
        try client.send(request)
        return try client.readResponse(bodyExpected: bodyExpected)
    }

    static let upstreamScenario = """
        version: 1
        rules:
          - name: hello
            path: /hello
            headers: {X-Up: "1", Connection: X-Hop, X-Hop: secret, Keep-Alive: "timeout=5", Cache-Control: max-age=60}
            body: "hello from upstream\\n"
          - {name: big, path: /big, bodySize: 10KiB}
          - {name: upload, path: /upload, method: POST, status: 201, body: stored}
          - {name: slow, path: /slow, delay: 3s, body: late}
          - {name: broken, path: /broken, bodySize: 10KiB, fault: {truncate: 1000}}
          - {name: chunked, path: /chunked, chunked: true, chunkSize: 7, body: "a chunked answer from upstream"}
          - {name: doc, path: /doc, etag: v1, body: "0123456789abcdef"}
        """

    // MARK: - Pass-through

    @Test func statusHeadersAndBodyPassThroughWithoutHopByHopFieldsEitherWay() async throws {
        try await withProxy(
            upstream: Self.upstreamScenario,
            front: "version: 1\nrules:\n  - {path: /**, proxy: \"UPSTREAM\"}\n"
        ) { upstream, front in
            let direct = try self.exchange(upstream.port, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
            let proxied = try self.exchange(
                front.port,
                "GET /hello?x=1 HTTP/1.1\r\nHost: front.test\r\nConnection: keep-alive, X-Secret\r\nX-Secret: 1\r\nKeep-Alive: 5\r\n"
                    + "TE: trailers\r\nX-Client: 2\r\n\r\n"
            )
            #expect(proxied.statusLine == "HTTP/1.1 200 OK")
            #expect(proxied.text == "hello from upstream\n")
            let dropped: Set<String> = ["connection", "x-hop", "keep-alive"]
            let expected = direct.headers.filter { !dropped.contains($0.name.lowercased()) && $0.name != "Date" }
            #expect(
                proxied.headers.filter { $0.name != "Date" }.map { "\($0.name): \($0.value)" }
                    == expected.map { "\($0.name): \($0.value)" }
            )
            #expect(expected.contains { $0.name == "ETag" } && expected.contains { $0.name == "X-Up" })
            // An exchange is journaled once its last write is done, which may be a moment after the client has it.
            #expect(await eventually { upstream.journal().count == 2 && front.journal().count == 1 })
            let arrived = try #require(upstream.journal().last)
            #expect(arrived.target == "/hello?x=1")
            #expect(arrived.headers.first(named: "Host") == String(upstream.url.dropFirst("http://".count)))
            #expect(arrived.headers.first(named: "X-Client") == "2")
            #expect(
                !arrived.headers.contains(named: "X-Secret") && !arrived.headers.contains(named: "Keep-Alive")
                    && !arrived.headers.contains(named: "TE")
            )
            let entry = try #require(front.journal().last)
            #expect(
                entry.upstream
                    == UpstreamOutcome(
                        url: "\(upstream.url)/hello?x=1",
                        status: 200,
                        milliseconds: entry.upstream?.milliseconds ?? -1
                    )
            )
            #expect(entry.status == 200 && entry.outcome == .completed && entry.bodyBytesSent == 20)
        }
    }

    @Test func bodiesGoBothWaysAndHeadRangesAndConditionalsAreTheUpstreams() async throws {
        try await withProxy(
            upstream: Self.upstreamScenario,
            front: "version: 1\nrules:\n  - {path: /**, proxy: \"UPSTREAM\"}\n"
        ) { upstream, front in
            let payload = String(repeating: "0123456789", count: 10_000)
            let stored = try self.exchange(
                front.port,
                "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: \(payload.utf8.count)\r\n\r\n\(payload)"
            )
            #expect(stored.status == 201)
            #expect(stored.text == "stored")
            #expect(await eventually { upstream.journal().last?.bodyBytes == 100_000 })
            let big = try self.exchange(front.port, "GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(big.body == Array(GeneratedBytes(key: 0x4661_756C_746C_696E).bytes(offset: 0, count: 10_240)))
            let head = try self.exchange(front.port, "HEAD /big HTTP/1.1\r\nHost: x\r\n\r\n", bodyExpected: false)
            #expect(head.header("Content-Length") == "10240")
            let range = try self.exchange(front.port, "GET /doc HTTP/1.1\r\nHost: x\r\nRange: bytes=2-5\r\n\r\n")
            #expect(range.status == 206)
            #expect(range.header("Content-Range") == "bytes 2-5/16")
            #expect(range.text == "2345")
            let notModified = try self.exchange(
                front.port,
                "GET /doc HTTP/1.1\r\nHost: x\r\nIf-None-Match: \"v1\"\r\n\r\n"
            )
            #expect(notModified.status == 304)
            #expect(notModified.header("ETag") == "\"v1\"")
            #expect(notModified.header("Content-Length") == nil && notModified.body.isEmpty)
        }
    }

    @Test func aChunkedUpstreamAnswerStaysChunkedAndHTTP10GetsItUntilTheClose() async throws {
        try await withProxy(
            upstream: Self.upstreamScenario,
            front: "version: 1\nrules:\n  - {path: /**, proxy: \"UPSTREAM\"}\n"
        ) { _, front in
            let client = try RawHTTPClient(port: front.port)
            try client.send("GET /chunked HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            let raw = String(decoding: try client.readToEnd(), as: UTF8.self)
            let parts = raw.components(separatedBy: "\r\n\r\n")
            #expect(parts[0].contains("\r\nTransfer-Encoding: chunked") && !parts[0].contains("Content-Length"))
            #expect(Self.dechunk(parts.dropFirst().joined(separator: "\r\n\r\n")) == "a chunked answer from upstream")
            let old = try RawHTTPClient(port: front.port)
            try old.send("GET /chunked HTTP/1.0\r\n\r\n")
            let oldRaw = String(decoding: try old.readToEnd(), as: UTF8.self)
            #expect(oldRaw.hasPrefix("HTTP/1.1 200 OK\r\n"))
            #expect(oldRaw.contains("\r\nConnection: close\r\n") && !oldRaw.contains("Transfer-Encoding"))
            #expect(oldRaw.hasSuffix("\r\n\r\na chunked answer from upstream"))
        }
    }

    /// The payload of a chunked body (bytes, since a String takes CRLF as one character).
    static func dechunk(_ text: String) -> String {
        var rest = Array(text.utf8)[...]
        var out: [UInt8] = []
        while let lineEnd = rest.firstIndex(of: UInt8(ascii: "\r")),
            let size = Int(String(decoding: rest[..<lineEnd], as: UTF8.self), radix: 16), size > 0
        {
            let start = lineEnd + 2
            out += rest[start..<(start + size)]
            rest = rest[(start + size + 2)...]
        }
        return String(decoding: out, as: UTF8.self)
    }

    // MARK: - The rule on top

    @Test func theRulesFaultsDelaysPaceAndHeadersApplyToTheRealAnswer() async throws {
        try await withProxy(
            upstream: Self.upstreamScenario,
            front: """
                version: 1
                rules:
                  - {name: cut, path: /big, proxy: "UPSTREAM", fault: {truncate: 1000}}
                  - {name: late, path: /hello, proxy: "UPSTREAM", delay: 300ms, bodyDelay: 200ms, headers: {X-Up: overridden, X-Faultline: "on"}}
                  - {name: paced, path: /doc, proxy: "UPSTREAM", throttle: 8B/s}
                  - {name: reset, path: /upload, method: POST, proxy: "UPSTREAM", fault: reset}
                """
        ) { upstream, front in
            let client = try RawHTTPClient(port: front.port)
            try client.send("GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
            let (bytes, _) = client.readUntilEnd()
            let text = String(decoding: bytes, as: UTF8.self)
            #expect(text.contains("\r\nContent-Length: 10240\r\n"), "the true length")
            let head = try #require(text.range(of: "\r\n\r\n"))
            #expect(bytes.count - text.utf8.distance(from: text.utf8.startIndex, to: head.upperBound) == 1000)
            let late = try self.exchange(front.port, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(late.header("X-Up") == "overridden")
            #expect(late.header("X-Faultline") == "on")
            #expect(late.text == "hello from upstream\n")
            let paced = try self.exchange(front.port, "GET /doc HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(paced.text == "0123456789abcdef")
            // A reset after the upstream took the request: the server did the work, the client never heard.
            let reset = try RawHTTPClient(port: front.port)
            try reset.send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nwork")
            #expect(reset.readUntilEnd().error?.isReset == true)
            #expect(await eventually { upstream.journal().contains { $0.rule == "upload" && $0.bodyBytes == 4 } })
            #expect(await eventually { front.journal().count == 4 })
            let byRule = Dictionary(front.journal().map { ($0.rule ?? "", $0) }, uniquingKeysWith: { $1 })
            #expect(
                byRule["cut"]?.fault == "truncate" && byRule["cut"]?.outcome == .dropped
                    && byRule["cut"]?.bodyBytesSent == 1000
            )
            #expect((byRule["late"]?.firstByteMs ?? 0) >= 300)
            #expect((byRule["late"]?.totalMs ?? 0) >= 500)
            #expect((byRule["paced"]?.totalMs ?? 0) >= 1500, "16 bytes at 8 B/s")
            #expect(
                byRule["reset"]?.status == 499 && byRule["reset"]?.outcome == .reset
                    && byRule["reset"]?.upstream?.status == 201
            )
        }
    }

    @Test func aRuleBeforeTheProxyFailsItsShareOfRealCalls() async throws {
        try await withProxy(
            upstream: Self.upstreamScenario,
            front: """
                version: 1
                rules:
                  - {name: outage, path: /hello, probability: 0.2, status: 503, retryAfter: 1}
                  - name: flaky
                    path: /doc
                    sequence:
                      - {status: 503, times: 2}
                      - {proxy: "UPSTREAM"}
                  - {name: real, path: /**, proxy: "UPSTREAM"}
                """,
            seed: 7
        ) { upstream, front in
            var failed = 0
            for _ in 0..<100 {
                let response = try self.exchange(front.port, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
                if response.status == 503 {
                    failed += 1
                    #expect(response.header("Retry-After") == "1")
                } else {
                    #expect(response.text == "hello from upstream\n")
                }
            }
            #expect((10...30).contains(failed), "about a fifth: \(failed) of 100")
            #expect(
                await eventually { upstream.journal().count == 100 - failed },
                "only the calls that passed reached the upstream"
            )
            let statuses = try (0..<4).map { _ in
                try self.exchange(front.port, "GET /doc HTTP/1.1\r\nHost: x\r\n\r\n").status
            }
            #expect(statuses == [503, 503, 200, 200])
        }
    }

    // MARK: - Failures

    @Test func anUpstreamThatCannotAnswerGets502Or504WithItsCause() async throws {
        let closedPort = try LoopbackPort.unused()
        try await withProxy(
            upstream: Self.upstreamScenario,
            front: """
                version: 1
                defaults: {headers: {Server: faultline}}
                rules:
                  - {path: /refused, proxy: "http://127.0.0.1:\(closedPort)"}
                  - {path: /dns, proxy: "http://no-such-host.invalid"}
                  - {path: /slow, proxy: "UPSTREAM", proxyTimeout: 500ms}
                  - {path: /broken, proxy: "UPSTREAM"}
                """
        ) { _, front in
            let refused = try self.exchange(front.port, "GET /refused HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(refused.statusLine == "HTTP/1.1 502 Bad Gateway")
            #expect(refused.text == "Faultline: upstream http://127.0.0.1:\(closedPort): connection refused\n")
            #expect(refused.header("Content-Type") == "text/plain; charset=utf-8")
            #expect(refused.header("Server") == "faultline")
            let dns = try self.exchange(front.port, "GET /dns HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(dns.status == 502)
            #expect(dns.text.hasPrefix("Faultline: upstream http://no-such-host.invalid: DNS: "))
            let started = now()
            let slow = try self.exchange(front.port, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(now() - started >= 0.5)
            #expect(slow.statusLine == "HTTP/1.1 504 Gateway Timeout")
            #expect(slow.text.contains(": timed out after 500 ms waiting for its answer\n"))
            // An upstream that breaks off mid-body: the client gets what came, then the close.
            let client = try RawHTTPClient(port: front.port)
            try client.send("GET /broken HTTP/1.1\r\nHost: x\r\n\r\n")
            let broken = client.readUntilEnd().bytes
            #expect(String(decoding: broken, as: UTF8.self).contains("Content-Length: 10240"))
            #expect(broken.count < 10_240)
            #expect(await eventually { front.journal().count == 4 })
            let journal = front.journal()
            #expect(
                journal[0].upstream?.status == nil
                    && journal[0].upstream?.url == "http://127.0.0.1:\(closedPort)/refused"
            )
            #expect(
                journal[2].status == 504 && journal[2].upstream?.status == nil
                    && (journal[2].upstream?.milliseconds ?? 0) >= 500
            )
            #expect(journal[3].status == 200 && journal[3].outcome == .dropped && journal[3].upstream?.status == 200)
        }
    }

    // MARK: - TLS upstreams

    @Test func tlsUpstreamsAreVerifiedAndRefusedWithTheReason() async throws {
        let folder = try ScratchFolder()
        let upstreamYAML = """
            version: 1
            listeners:
              - {port: 0}
              - {port: 0, tls: auto}
              - {port: 0, tls: {fault: expired}}
              - {port: 0, tls: {fault: wrong-host}}
              - {port: 0, tls: {fault: untrusted}}
            rules:
              - {path: /**, body: "over TLS\\n"}
            """
        try await withServer(upstreamYAML) { upstream in
            let ca = try folder.write("ca.pem", try #require(upstream.caCertificatePEM))
            let ports = upstream.server.listeners.map(\.port)
            let yaml = """
                version: 1
                rules:
                  - {path: /trusted, proxy: "https://localhost:\(ports[1])", proxyCA: "\(ca)"}
                  - {path: /system, proxy: "https://localhost:\(ports[1])"}
                  - {path: /insecure, proxy: "https://localhost:\(ports[4])", proxyInsecure: true}
                  - {path: /expired, proxy: "https://localhost:\(ports[2])", proxyCA: "\(ca)"}
                  - {path: /wrong-host, proxy: "https://localhost:\(ports[3])", proxyCA: "\(ca)"}
                  - {path: /untrusted, proxy: "https://localhost:\(ports[4])", proxyCA: "\(ca)"}
                  - {path: /plain, proxy: "https://localhost:\(ports[0])", proxyCA: "\(ca)"}
                """
            try await withFaultline(scenario: .yaml(yaml), eventLoopThreads: 1) { front in
                func get(_ path: String) throws -> RawResponse {
                    try self.exchange(front.port, "GET \(path) HTTP/1.1\r\nHost: x\r\n\r\n")
                }
                let trusted = try get("/trusted")
                #expect(trusted.status == 200)
                #expect(trusted.text == "over TLS\n")
                #expect(try get("/insecure").text == "over TLS\n")
                let system = try get("/system")
                #expect(system.status == 502)
                #expect(
                    system.text.contains(
                        ": TLS: certificate is signed by an authority the system does not trust (issuer: "
                    ),
                    "\(system.text)"
                )
                let expired = try get("/expired")
                #expect(expired.status == 502)
                #expect(expired.text.contains(": TLS: certificate has expired (on "), "\(expired.text)")
                let wrongHost = try get("/wrong-host")
                #expect(wrongHost.text.contains(": TLS: certificate is for "), "\(wrongHost.text)")
                #expect(wrongHost.text.hasSuffix(", not localhost\n"))
                let untrusted = try get("/untrusted")
                #expect(
                    untrusted.text.contains(
                        ": TLS: certificate is not signed by the CA in ca.pem (issuer: CN=Untrusted Faultline CA"
                    ),
                    "\(untrusted.text)"
                )
                #expect(try get("/plain").text.contains(": TLS: "), "plain HTTP where TLS was expected")
                // The journal also holds the refused handshakes (no path) and the TLS hello the plain listener refused.
                #expect(
                    await eventually {
                        upstream.journal().map(\.path).filter { $0.count > 1 }.sorted() == ["/insecure", "/trusted"]
                    }
                )
            }
        }
    }

    // MARK: - Request bodies

    @Test func expectContinueAndPipelinedUploadsReachTheUpstreamInOrder() async throws {
        try await withProxy(
            upstream: "version: 1\nrules:\n  - {path: /upload, method: POST, body: stored}\n",
            front:
                "version: 1\nlimits: {maxBodySize: 10}\nrules:\n  - {path: /local, method: POST, body: here}\n  - {path: /**, proxy: \"UPSTREAM\"}\n"
        ) { upstream, front in
            let client = try RawHTTPClient(port: front.port)
            try client.send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 20\r\nExpect: 100-continue\r\n\r\n")
            #expect(try client.readResponse(bodyExpected: false).statusLine == "HTTP/1.1 100 Continue")
            try client.send("12345678901234567890")
            #expect(
                try client.readResponse().text == "stored",
                "maxBodySize does not hold for a body forwarded, not kept"
            )
            try client.send(
                "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\none"
                    + "POST /local HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nmine"
                    + "POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nthree\r\n0\r\n\r\n"
            )
            #expect(try client.readResponse().text == "stored")
            #expect(try client.readResponse().text == "here")
            #expect(try client.readResponse().text == "stored")
            #expect(await eventually { upstream.journal().map(\.bodyBytes) == [20, 3, 5] })
            let tooLarge = try self.exchange(
                front.port,
                "POST /local HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n01234567890"
            )
            #expect(tooLarge.status == 413, "a body Faultline answers itself keeps its limit")
        }
    }
}
