import FaultlineTestSupport
import Foundation
import Testing

/// Faultline in front of a real service: nginx (Debian's, started here with static files, a slow answer, a chunked one
/// and a large file) and Faultline itself over TLS as upstreams; curl and Python requests as clients; `faultline
/// serve --upstream`, `faultline run --upstream` and `faultline record` as a user runs them.
@Suite("Proxy end to end: nginx and Faultline upstreams, curl and requests", .serialized)
struct ProxyEndToEndTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// An nginx upstream with its files, in a scratch folder.
    final class Upstream {
        let folder: ScratchFolder
        let nginx: TestNginx
        /// 4 MiB of random bytes, served at /big.bin.
        let big: Data

        init() throws {
            self.folder = try ScratchFolder(prefix: "faultline-proxy")
            let root = self.folder.path("nginx/root")
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            try "<!doctype html>\n<title>upstream</title>\n<p>Hello from nginx.</p>\n".write(
                toFile: root + "/index.html",
                atomically: true,
                encoding: .utf8
            )
            try #"{"orders": [{"id": 1}, {"id": 2}]}"#.write(
                toFile: root + "/orders.json",
                atomically: true,
                encoding: .utf8
            )
            try "spaces in the name\n".write(toFile: root + "/a b.txt", atomically: true, encoding: .utf8)
            self.big = try ProxyEndToEndTests.randomBytes(4 << 20)
            try self.big.write(to: URL(fileURLWithPath: root + "/big.bin"))
            self.nginx = try TestNginx(in: self.folder.path("nginx"))
        }

        var url: String { self.nginx.url }
    }

    /// `faultline serve ARGUMENTS` until it listens; the caller stops it.
    func serve(_ arguments: [String]) throws -> (FaultlineProcess, String) {
        let server = try FaultlineProcess(["serve", "--port", "0"] + arguments)
        let url = try #require(try server.waitUntilListening().first)
        return (server, url)
    }

    func stop(_ server: FaultlineProcess) {
        server.signal()
        server.waitForExit()
    }

    /// What curl saw of one exchange: the status line's version and code, the header lines (without Date and
    /// Connection, which describe the moment and the connection) and the body. (The reason phrase is left out: the
    /// HTTP client hands Faultline the code, and Faultline sends the standard phrase for it; docs/proxy.md says so.)
    struct Seen: Equatable {
        var status: String
        var headers: [String]
        var body: [UInt8]
    }

    func fetch(_ url: String, _ extra: [String] = []) throws -> Seen {
        // With -I the head goes to standard output too; the body is then nothing.
        let result = try Curl.run(
            ["-s", "-D", "/dev/stderr", url] + extra + (extra.contains("-I") ? ["-o", "/dev/null"] : [])
        )
        let lines = result.stderr.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        let headers = lines.dropFirst().filter { line in
            let name = line.split(separator: ":").first.map { $0.lowercased() } ?? ""
            return name != "date" && name != "connection" && name != "keep-alive"
        }
        return Seen(status: String((lines.first ?? "").prefix(12)), headers: Array(headers), body: result.stdoutBytes)
    }

    /// The process's peak resident memory, in MiB.
    func peakMemory(_ server: FaultlineProcess) -> Double {
        let status =
            (try? String(contentsOfFile: "/proc/\(server.process.processIdentifier)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") } ?? ""
        return Double(line.split(separator: " ").dropFirst().first ?? "0").map { $0 / 1024 } ?? 0
    }

    // MARK: - Pass-through fidelity

    @Test func aProxiedAnswerIsNginxsOwnByteForByte() throws {
        let upstream = try Upstream()
        let (server, url) = try self.serve(["--upstream", upstream.url])
        defer { self.stop(server) }
        let etag = try #require(
            try self.fetch("\(upstream.url)/index.html").headers.first { $0.lowercased().hasPrefix("etag:") }
        )
        let cases: [(String, [String])] = [
            ("/index.html", []), ("/orders.json", []), ("/big.bin", []), ("/a%20b.txt", []), ("/missing", []),
            ("/index.html", ["-I"]), ("/index.html", ["-H", "If-None-Match: \(etag.dropFirst(6))"]),
            ("/big.bin", ["-r", "1000-1999"]), ("/chunked", []),
            ("/index.html?query=1&b=%2F", []), ("/index.html", ["-X", "DELETE"]),
        ]
        for (path, extra) in cases {
            let direct = try self.fetch(upstream.url + path, extra)
            let proxied = try self.fetch(url + path, extra)
            #expect(proxied == direct, "\(path) \(extra)")
        }
        #expect(try self.fetch(url + "/big.bin").body == Array(upstream.big))
        let chunked = try self.fetch(url + "/chunked")
        #expect(chunked.headers.contains("Transfer-Encoding: chunked"))
        #expect(String(decoding: chunked.body, as: UTF8.self) == "first part\nsecond part\n")
        let notModified = try self.fetch(url + "/index.html", ["-H", "If-None-Match: \(etag.dropFirst(6))"])
        #expect(notModified.status == "HTTP/1.1 304")
        // Several ranges: nginx's multipart answer passes through (its boundary is a counter of nginx's own).
        let ranges = try self.fetch(url + "/big.bin", ["-r", "0-9,100-109"])
        #expect(ranges.status == "HTTP/1.1 206")
        #expect(ranges.headers.contains { $0.hasPrefix("Content-Type: multipart/byteranges; boundary=") })
        #expect(String(decoding: ranges.body, as: UTF8.self).contains("Content-Range: bytes 100-109/4194304"))
    }

    @Test func pythonRequestsSeesTheSameAnswersThroughFaultline() throws {
        let upstream = try Upstream()
        let (server, url) = try self.serve(["--upstream", upstream.url])
        defer { self.stop(server) }
        let python = try self.clientPython()
        let script = try upstream.folder.write(
            "client.py",
            """
            import hashlib, json, sys, requests
            base = sys.argv[1]
            out = []
            with requests.Session() as session:
                for method, path, headers in [("GET", "/index.html", {}), ("GET", "/big.bin", {}), ("HEAD", "/orders.json", {}),
                                              ("GET", "/chunked", {}), ("GET", "/missing", {}), ("GET", "/big.bin", {"Range": "bytes=5-14"})]:
                    r = session.request(method, base + path, headers=headers, stream=True)
                    digest = hashlib.sha256()
                    for piece in r.iter_content(65536):
                        digest.update(piece)
                    fields = [[k, v] for k, v in r.headers.items() if k.lower() not in ("date", "connection", "keep-alive")]
                    out.append({"path": path, "status": r.status_code, "reason": r.reason, "headers": fields, "sha": digest.hexdigest()})
                def pieces():
                    for i in range(64):
                        yield bytes([i]) * 16384
                stored = session.put(base + "/upload/python.bin", data=pieces())
                out.append({"path": "PUT", "status": stored.status_code})
            print(json.dumps(out, sort_keys=True))
            """
        )
        func run(_ base: String) throws -> String {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: python)
            process.arguments = [script, base]
            let pipe = Pipe()
            process.standardOutput = pipe
            try process.run()
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return String(decoding: data, as: UTF8.self)
        }
        let direct = try run(upstream.url)
        let stored = try Data(contentsOf: URL(fileURLWithPath: upstream.nginx.root + "/upload/python.bin"))
        try FileManager.default.removeItem(atPath: upstream.nginx.root + "/upload/python.bin")
        let proxied = try run(url)
        #expect(!direct.isEmpty)
        #expect(proxied == direct)
        let proxiedStored = try Data(contentsOf: URL(fileURLWithPath: upstream.nginx.root + "/upload/python.bin"))
        #expect(proxiedStored == stored, "a chunked upload from requests arrives byte for byte")
        #expect(proxiedStored.count == 64 * 16384)
    }

    /// The Python of the clients' virtual environment (made by scripts/test-venv).
    func clientPython() throws -> String {
        try Command.testPython()
    }

    // MARK: - Faults on real answers

    @Test func rulesBreakOnlyWhatTheySayOnTopOfTheRealService() throws {
        let upstream = try Upstream()
        let scenario = try upstream.folder.write(
            "outage.yaml",
            """
            version: 1
            seed: 3
            rules:
              - {name: cut, path: /big.bin, proxy: "\(upstream.url)", fault: {truncate: 1000}}
              - {name: late, path: /index.html, proxy: "\(upstream.url)", delay: 500ms, headers: {X-Faultline: late}}
              - {name: outage, path: /orders.json, probability: 0.2, status: 503, retryAfter: 2}
            """
        )
        let (server, url) = try self.serve([scenario, "--upstream", upstream.url])
        defer { self.stop(server) }
        let cut = try Curl.run(["-s", "-D", "/dev/stderr", url + "/big.bin"])
        #expect(cut.exitCode == 18, "curl: (18) transfer closed with outstanding read data remaining")
        #expect(cut.stdoutBytes == Array(upstream.big.prefix(1000)))
        #expect(cut.stderr.contains("Content-Length: 4194304\r\n"), "the true length")
        let late = try Curl.run([
            "-s", "-D", "/dev/stderr", "-o", "/dev/null", "-w", "%{time_starttransfer}", url + "/index.html",
        ])
        #expect((Double(late.stdout) ?? 0) >= 0.5)
        #expect(late.stderr.contains("X-Faultline: late\r\n") && late.stderr.contains("Server: nginx/"))
        var statuses: [String: Int] = [:]
        for _ in 0..<100 {
            let result = try Curl.run([
                "-s", "-D", "/dev/stderr", "-o", "/dev/null", "-w", "%{http_code}", url + "/orders.json",
            ])
            statuses[result.stdout, default: 0] += 1
            if result.stdout == "503" { #expect(result.stderr.contains("Retry-After: 2\r\n")) }
        }
        #expect(statuses["503", default: 0] + statuses["200", default: 0] == 100)
        #expect((10...30).contains(statuses["503", default: 0]), "about a fifth fail: \(statuses)")
        let reachedNginx = upstream.nginx.loggedRequests().filter { $0.hasPrefix("GET /orders.json ") }.count
        #expect(reachedNginx == statuses["200"], "the failed calls never reached the service")
    }

    @Test func everyFailureModeHasItsAnswerNeverAHang() throws {
        let upstream = try Upstream()
        let tlsFolder = try ScratchFolder(prefix: "faultline-tls-upstream")
        let tlsScenario = try tlsFolder.write(
            "tls.yaml",
            "version: 1\nlisteners:\n  - {port: 0, tls: auto}\n  - {port: 0, tls: {fault: expired}}\nrules:\n  - {path: /**, body: \"secure\\n\"}\n"
        )
        let ca = tlsFolder.path("ca.pem")
        let tlsServer = try FaultlineProcess(["serve", tlsScenario, "--ca-out", ca])
        defer { self.stop(tlsServer) }
        let tlsURLs = try tlsServer.waitUntilListening(count: 2)
        let refusedPort = try LoopbackPort.unused()
        let scenario = try upstream.folder.write(
            "failures.yaml",
            """
            version: 1
            rules:
              - {path: /refused, proxy: "http://127.0.0.1:\(refusedPort)"}
              - {path: /dns, proxy: "http://api.no-such-host.invalid"}
              - {path: /slow, proxy: "\(upstream.url)", proxyTimeout: 1s}
              - {path: /tls, proxy: "\(tlsURLs[0])", proxyCA: "\(ca)"}
              - {path: /expired, proxy: "\(tlsURLs[1])", proxyCA: "\(ca)"}
              - {path: /untrusted, proxy: "\(tlsURLs[0])"}
            """
        )
        let journal = upstream.folder.path("journal.jsonl")
        let (server, url) = try self.serve([scenario, "--journal", journal])
        func get(_ path: String) throws -> (status: String, body: String, seconds: Double) {
            let result = try Curl.run(["-s", "-m", "20", "-w", "\n%{http_code} %{time_total}", url + path])
            let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
            let tail = lines.last?.split(separator: " ") ?? []
            return (String(tail.first ?? ""), lines.dropLast().joined(separator: "\n"), Double(tail.last ?? "0") ?? 0)
        }
        let refused = try get("/refused")
        #expect(refused.status == "502")
        #expect(refused.body == "Faultline: upstream http://127.0.0.1:\(refusedPort): connection refused\n")
        let dns = try get("/dns")
        #expect(dns.status == "502")
        #expect(dns.body.hasPrefix("Faultline: upstream http://api.no-such-host.invalid: DNS: "))
        let slow = try get("/slow")
        #expect(slow.status == "504")
        #expect(slow.body.hasSuffix(": timed out after 1 s waiting for its answer\n"))
        #expect(slow.seconds >= 1 && slow.seconds < 3, "after proxyTimeout, well before nginx's 3 s")
        let tls = try get("/tls")
        #expect(tls.status == "200")
        #expect(tls.body == "secure\n")
        let expired = try get("/expired")
        #expect(expired.status == "502")
        #expect(expired.body.contains(": TLS: certificate has expired"), "\(expired.body)")
        let untrusted = try get("/untrusted")
        #expect(untrusted.status == "502")
        #expect(
            untrusted.body.contains(": TLS: certificate is signed by an authority the system does not trust"),
            "\(untrusted.body)"
        )
        self.stop(server)
        let entries = try String(contentsOfFile: journal, encoding: .utf8).split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        }
        let refusedEntry = try #require(entries.first { $0["path"] as? String == "/refused" })
        let refusedUpstream = try #require(refusedEntry["upstream"] as? [String: Any])
        #expect(refusedUpstream["url"] as? String == "http://127.0.0.1:\(refusedPort)/refused")
        #expect(refusedUpstream["status"] is NSNull)
        #expect(refusedUpstream["ms"] is NSNumber)
        let tlsEntry = try #require(entries.first { $0["path"] as? String == "/tls" })
        #expect((tlsEntry["upstream"] as? [String: Any])?["status"] as? Int == 200)
    }

    // MARK: - Memory and back-pressure

    @Test func aSlowClientHoldsTheUpstreamBackInsteadOfFillingMemory() async throws {
        let upstream = try Upstream()
        let huge = upstream.nginx.root + "/huge.bin"
        try await onOwnThread { try Self.writePattern(to: huge, mebibytes: 256) }
        let (server, url) = try self.serve(["--upstream", upstream.url])
        defer { self.stop(server) }
        // 2 MB/s for 3 s: about 6 MB of 256 MiB.
        let slow = try await onOwnThread {
            try Curl.run([
                "-s", "-o", "/dev/null", "--limit-rate", "2M", "-m", "3", "-w", "%{size_download}", url + "/huge.bin",
            ])
        }
        let received = Double(slow.stdout) ?? 0
        #expect(received > 1_000_000 && received < 20_000_000)
        // nginx logs the request once its connection from Faultline is gone: wait for the line, not for a while.
        var logged: String?
        let deadline = Date().addingTimeInterval(20)
        while logged == nil, Date() < deadline {
            logged = upstream.nginx.loggedRequests().first { $0.hasPrefix("GET /huge.bin ") }
            if logged == nil { try await Task.sleep(for: .milliseconds(50)) }
        }
        let line = try #require(logged)
        let sent = Double(line.split(separator: " ")[4]) ?? .infinity
        print(
            "proxy back-pressure: the client took \(Int(received)) bytes in 3 s, nginx sent \(Int(sent)) of 268435456; peak RSS \(self.peakMemory(server)) MiB"
        )
        #expect(
            sent < received + 40_000_000,
            "nginx sent \(sent) bytes while the client took \(received): only socket buffers between"
        )
        #expect(self.peakMemory(server) < 100, "peak RSS \(self.peakMemory(server)) MiB")
    }

    @Test func aGibibyteEachWayStaysUnder100MiB() async throws {
        let upstream = try Upstream()
        let source = upstream.nginx.root + "/gib.bin"
        try await onOwnThread { try Self.writePattern(to: source, mebibytes: 1024) }
        let (server, url) = try self.serve(["--upstream", upstream.url])
        defer { self.stop(server) }
        let downloaded = upstream.folder.path("downloaded.bin")
        let download = try await onOwnThread {
            try Curl.run(
                [
                    "-s", "-o", downloaded, "-w",
                    "%{http_code} %{size_download} %{speed_download}", url + "/gib.bin",
                ],
                timeout: 300
            )
        }
        #expect(download.stdout.hasPrefix("200 1073741824 "), "\(download.stdout)")
        #expect(try await onOwnThread { FileManager.default.contentsEqual(atPath: source, andPath: downloaded) })
        try FileManager.default.removeItem(atPath: upstream.folder.path("downloaded.bin"))
        let afterDownload = self.peakMemory(server)
        let upload = try await onOwnThread {
            try Curl.run(
                [
                    "-s", "-T", source, "-o", "/dev/null", "-w", "%{http_code} %{size_upload} %{speed_upload}",
                    url + "/upload/gib.bin",
                ],
                timeout: 300
            )
        }
        #expect(upload.stdout.hasPrefix("201 1073741824 "), "\(upload.stdout)")
        let stored = upstream.nginx.root + "/upload/gib.bin"
        #expect(try await onOwnThread { FileManager.default.contentsEqual(atPath: source, andPath: stored) })
        let peak = self.peakMemory(server)
        print(
            "proxy 1 GiB: download \(download.stdout), upload \(upload.stdout); peak RSS \(afterDownload) MiB after the download, \(peak) MiB after the upload"
        )
        #expect(afterDownload < 100 && peak < 100, "peak RSS \(peak) MiB")
    }

    @Test func overHTTP2BodiesAreFlowControlledBothWays() async throws {
        let upstream = try Upstream()
        let source = upstream.nginx.root + "/h2.bin"
        try await onOwnThread { try Self.writePattern(to: source, mebibytes: 128) }
        let (server, url) = try self.serve(["--http2", "--upstream", upstream.url])
        defer { self.stop(server) }
        let downloaded = upstream.folder.path("h2-downloaded.bin")
        let download = try await onOwnThread {
            try Curl.run(
                [
                    "-s", "--http2-prior-knowledge", "-o", downloaded, "-w",
                    "%{http_code} %{http_version} %{size_download}", url + "/h2.bin",
                ],
                timeout: 300
            )
        }
        #expect(download.stdout == "200 2 134217728", "\(download.stdout)")
        #expect(try await onOwnThread { FileManager.default.contentsEqual(atPath: source, andPath: downloaded) })
        try FileManager.default.removeItem(atPath: downloaded)
        let upload = try await onOwnThread {
            try Curl.run(
                [
                    "-s", "--http2-prior-knowledge", "-T", source, "-o", "/dev/null", "-w",
                    "%{http_code} %{http_version} %{size_upload}", url + "/upload/h2.bin",
                ],
                timeout: 300
            )
        }
        #expect(upload.stdout == "201 2 134217728", "\(upload.stdout)")
        let stored = upstream.nginx.root + "/upload/h2.bin"
        let compared = try await onOwnThread { try Command.run(["cmp", "-l", source, stored], timeout: 60) }
        #expect(compared.status == 0, "cmp: \(compared.stdout.prefix(400)) \(compared.stderr.prefix(200))")
        let peak = self.peakMemory(server)
        print("proxy over h2, 128 MiB each way: peak RSS \(peak) MiB")
        #expect(peak < 100, "peak RSS \(peak) MiB")
    }

    /// Writes a file of `mebibytes` MiB: one random MiB over and over, each copy starting with its own number.
    static func writePattern(to path: String, mebibytes: Int) throws {
        var chunk = try Self.randomBytes(1 << 20)
        _ = FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o644])
        let handle = try #require(FileHandle(forWritingAtPath: path))
        defer { try? handle.close() }
        for index in 0..<mebibytes {
            withUnsafeBytes(of: UInt64(index).bigEndian) { chunk.replaceSubrange(0..<8, with: $0) }
            try handle.write(contentsOf: chunk)
        }
    }

    /// `count` random bytes from the system.
    static func randomBytes(_ count: Int) throws -> Data {
        let handle = try #require(FileHandle(forReadingAtPath: "/dev/urandom"))
        defer { try? handle.close() }
        return try #require(try handle.read(upToCount: count))
    }

    // MARK: - Record, edit, replay

    @Test func aRecordingServedGivesTheRecordedAnswers() throws {
        let upstream = try Upstream()
        let out = upstream.folder.path("recorded/api.yaml")
        try FileManager.default.createDirectory(
            atPath: upstream.folder.path("recorded"),
            withIntermediateDirectories: true
        )
        let recorder = try FaultlineProcess(["record", "--upstream", upstream.url, "--out", out, "--port", "0"])
        let url = try #require(try recorder.waitUntilListening().first)
        let paths = ["/index.html", "/orders.json", "/big.bin", "/missing", "/index.html?lang=en", "/chunked"]
        var recorded: [String: Seen] = [:]
        for path in paths { recorded[path] = try self.fetch(url + path) }
        _ = try Curl.run(["-s", "-I", url + "/index.html"])
        recorder.signal(2)
        #expect(recorder.waitForExit() == 0)
        #expect(
            recorder.standardOutput.contains(
                "faultline recorded 7 exchanges as 7 rules in \(out) (bodies in api-bodies/)\n"
            ),
            "\(recorder.standardOutput)"
        )
        let yaml = try String(contentsOfFile: out, encoding: .utf8)
        #expect(yaml.contains("bodyFile: api-bodies/"))
        #expect(
            FileManager.default.contentsEqual(
                atPath: upstream.nginx.root + "/big.bin",
                andPath: upstream.folder.path("recorded/api-bodies/1-get-big-bin.bin")
            )
        )
        let check = try FaultlineProcess.run(["check", out])
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        upstream.nginx.stop()
        let (replay, replayURL) = try self.serve([out])
        defer { self.stop(replay) }
        for path in paths {
            let answer = try self.fetch(replayURL + path)
            let original = try #require(recorded[path])
            #expect(answer.status == original.status, "\(path)")
            #expect(answer.body == original.body, "\(path)")
            // Every header the service sent comes back as it was, framing aside (the replay frames the body itself,
            // and adds validators where the recording had none, so conditionals and ranges work offline).
            let framing = ["content-length:", "transfer-encoding:"]
            for header in original.headers where !framing.contains(where: { header.lowercased().hasPrefix($0) }) {
                #expect(answer.headers.contains(header), "\(path): \(header)")
            }
        }
        // Edit, then replay: the recorded service, broken where the edit says.
        try
            (yaml.replacingOccurrences(
                of: "  path: /orders.json\n",
                with: "  path: /orders.json\n  fault: {truncate: 5}\n"
            ))
            .write(toFile: out, atomically: true, encoding: .utf8)
        let (edited, editedURL) = try self.serve([out])
        defer { self.stop(edited) }
        let cut = try Curl.run(["-s", editedURL + "/orders.json"])
        #expect(cut.exitCode == 18)
        #expect(cut.stdout == "{\"ord")
    }

    // MARK: - faultline run and the example

    @Test func faultlineRunPutsTheScenarioInFrontOfTheUpstream() throws {
        let upstream = try Upstream()
        let scenario = try upstream.folder.write(
            "run.yaml",
            "version: 1\nrules:\n  - {name: down, path: /orders.json, status: 503, times: 1}\nexpect:\n  - {rule: down, count: 1}\n"
        )
        let result = try FaultlineProcess.run([
            "run", scenario, "--upstream", upstream.url, "--",
            "bash", "-c",
            "curl -s -o /dev/null -w '%{http_code} ' \"$FAULTLINE_URL/orders.json\"; curl -s \"$FAULTLINE_URL/orders.json\"; curl -s \"$FAULTLINE_URL/index.html\" | head -c 15",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "503 {\"orders\": [{\"id\": 1}, {\"id\": 2}]}<!doctype html>")
        #expect(result.stderr.contains("faultline: 1 of 1 expectation met\n"))
    }

    @Test func theOutageExampleFailsAFifthWithRetryAfterAndCutsItsExport() throws {
        let upstream = try Upstream()
        let example = try String(
            contentsOf: Self.repository.appendingPathComponent("Scenarios/proxy-outage.yaml"),
            encoding: .utf8
        )
        #expect(example.hasPrefix("# yaml-language-server: $schema=../schema/scenario.schema.json\n"))
        #expect(example.contains("http://127.0.0.1:8081"))
        try FileManager.default.createDirectory(atPath: upstream.nginx.root + "/api", withIntermediateDirectories: true)
        try upstream.big.prefix(64 * 1024).write(to: URL(fileURLWithPath: upstream.nginx.root + "/api/export"))
        let scenario = try upstream.folder.write(
            "proxy-outage.yaml",
            example.replacingOccurrences(of: "http://127.0.0.1:8081", with: upstream.url)
        )
        let (server, url) = try self.serve([scenario])
        defer { self.stop(server) }
        var failed = 0
        for _ in 0..<100 {
            let result = try Curl.run([
                "-s", "-D", "/dev/stderr", "-o", "/dev/null", "-w", "%{http_code}", url + "/index.html",
            ])
            if result.stdout == "503" {
                failed += 1
                #expect(result.stderr.contains("Retry-After: "))
            } else {
                #expect(result.stdout == "200")
            }
        }
        #expect((10...30).contains(failed), "\(failed) of 100")
        // The export, when the outage lets it through, is cut after 1 KiB.
        var export = try Curl.run(["-s", url + "/api/export"])
        for _ in 0..<20 where export.exitCode == 0 && export.stdout.contains("overloaded") {
            export = try Curl.run(["-s", url + "/api/export"])
        }
        #expect(export.exitCode == 18, "curl: (18) transfer closed with outstanding read data remaining")
        #expect(export.stdoutBytes == Array(upstream.big.prefix(1024)))
    }
}
