import FaultlineTestSupport
import Foundation
import Testing

/// Memory has a bound in bytes, not only in entries (docs/security.md, "Limits and timeouts"), seen from outside: the
/// built `faultline` serving real sockets, its resident memory read from /proc.
@Suite("Resource limits", .serialized)
struct ResourceLimitTests {
    /// A running `faultline serve` and its port.
    struct Server {
        let process: FaultlineProcess
        let port: Int

        init(_ arguments: [String]) throws {
            self.process = try FaultlineProcess(["serve", "--port", "0"] + arguments)
            let url = try #require(try self.process.waitUntilListening().first)
            self.port = try #require(Int(url.split(separator: ":").last ?? ""))
        }

        func call(
            _ method: String,
            _ path: String,
            body: String = "",
            client: RawHTTPClient? = nil
        ) throws -> RawResponse {
            let client = try client ?? RawHTTPClient(port: self.port)
            try client.send(
                "\(method) \(path) HTTP/1.1\r\nHost: localhost\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
            )
            return try client.readResponse(bodyExpected: method != "HEAD")
        }

        func json(_ path: String) throws -> Any {
            try JSONSerialization.jsonObject(with: Data(try self.call("GET", path).body))
        }

        /// The process's resident memory now and at its peak, in KiB (VmRSS, VmHWM).
        func memory() throws -> (resident: Int, peak: Int) {
            let status = try String(
                contentsOfFile: "/proc/\(self.process.process.processIdentifier)/status",
                encoding: .utf8
            )
            func field(_ name: String) -> Int {
                let line = status.split(separator: "\n").first { $0.hasPrefix(name + ":") } ?? ""
                return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
            }
            return (field("VmRSS"), field("VmHWM"))
        }

        func stop() {
            self.process.signal()
            self.process.waitForExit()
        }
    }

    @Test func theJournalStaysWithinJournalMemoryAndCutsHugeRequestHeaders() throws {
        let server = try Server(["--journal-memory", "128KiB"])
        defer { server.stop() }
        let client = try RawHTTPClient(port: server.port)
        let cookie = String(repeating: "c", count: 30_000)
        for _ in 0..<60 {
            try client.send("GET /status/200 HTTP/1.1\r\nHost: x\r\nCookie: \(cookie)\r\nX-After: 1\r\n\r\n")
            #expect(try client.readResponse().status == 200)
        }
        let entries = try #require(try server.json("/__faultline/journal") as? [[String: Any]])
        let health = try #require(try server.json("/__faultline/health") as? [String: Any])
        let dropped = try #require(health["journalDropped"] as? Int)
        #expect(entries.count + dropped == 60)
        #expect(entries.count >= 5 && entries.count <= 14, "128 KiB holds about 13 entries of 8 KiB headers")
        for entry in entries {
            let headers = try #require(entry["headers"] as? [[String]])
            // Host (5 bytes of name and value), then the Cookie cut to what is left of 8 KiB; X-After left out.
            #expect(headers == [["Host", "x"], ["Cookie", String(repeating: "c", count: 8192 - 5 - 6)]])
            #expect(entry["headersTruncated"] as? Int == 5 + 30_006 + 8 - 8192)
        }
    }

    @Test func deletingTheJournalGivesItsMemoryBack() throws {
        let server = try Server(["--journal-size", "100000", "--journal-memory", "1GiB"])
        defer { server.stop() }
        let client = try RawHTTPClient(port: server.port)
        let header = String(repeating: "h", count: 8000)
        func fill(_ count: Int) throws {
            for _ in 0..<count {
                try client.send("GET /status/204 HTTP/1.1\r\nHost: x\r\nX-Pad: \(header)\r\n\r\n")
                _ = try client.readResponse()
            }
        }
        // Warmed up first, so that what the server allocates once is in the baseline.
        try fill(200)
        #expect(try server.call("DELETE", "/__faultline/journal", client: client).status == 204)
        let baseline = try server.memory().resident
        try fill(5000)
        let full = try server.memory().resident
        #expect(full - baseline > 30_000, "5,000 entries of 8 KB headers take over 30 MiB: \(baseline) -> \(full) KiB")
        #expect(try server.call("DELETE", "/__faultline/journal", client: client).status == 204)
        let after = try server.memory().resident
        print("resident KiB: baseline \(baseline), journal full \(full), after DELETE \(after)")
        #expect(
            after - baseline < (full - baseline) / 2,
            "most of it is given back: \(baseline) -> \(full) -> \(after) KiB"
        )
    }

    @Test func readingAHugeJournalStreamsItInsteadOfBuildingItWhole() throws {
        let server = try Server(["--journal-size", "100000", "--journal-memory", "1GiB"])
        defer { server.stop() }
        let client = try RawHTTPClient(port: server.port)
        let header = String(repeating: "h", count: 8000)
        for _ in 0..<5000 {
            try client.send("GET /status/204 HTTP/1.1\r\nHost: x\r\nX-Pad: \(header)\r\n\r\n")
            _ = try client.readResponse()
        }
        let before = try server.memory()
        let answer = try server.call("GET", "/__faultline/journal", client: client)
        let after = try server.memory()
        #expect(answer.status == 200)
        #expect(
            answer.header("Transfer-Encoding") == "chunked" && answer.header("Content-Length") == nil,
            "\(answer.head)"
        )
        #expect(answer.header("Content-Type") == "application/json")
        let entries = try #require(try JSONSerialization.jsonObject(with: Data(answer.body)) as? [[String: Any]])
        #expect(entries.count == 5000)
        #expect(entries.map { $0["id"] as? Int } == Array(1...5000))
        print(
            "journal of \(answer.body.count) bytes; resident KiB \(before.resident) -> \(after.resident), peak \(before.peak) -> \(after.peak)"
        )
        // Built whole, the answer alone (over 40 MB) would raise the peak by more than its size.
        #expect(answer.body.count > 40_000_000)
        #expect(
            after.peak - max(before.peak, before.resident) < 16_384,
            "the peak grows by far less than the answer's size"
        )
        // The connection carries on after the last chunk.
        #expect(try server.call("GET", "/__faultline/health", client: client).status == 200)
    }

    @Test func aScenarioOf350000RulesIsRefusedFastAndTheOldOneKeepsServing() throws {
        let folder = try TemporaryFolder()
        let scenario = try folder.write("s.yaml", "version: 1\nrules:\n  - {path: /still, body: here}\n")
        let server = try Server([scenario])
        defer { server.stop() }
        var yaml = "version: 1\nrules:\n"
        for index in 0..<350_000 { yaml += "- {path: /r\(index), body: x}\n" }
        #expect(yaml.utf8.count <= 10 << 20, "within the default 10 MiB body limit")
        let started = Date()
        let refused = try server.call("PUT", "/__faultline/scenario", body: yaml)
        let seconds = Date().timeIntervalSince(started)
        print("a 350,000-rule PUT (\(yaml.utf8.count) bytes) refused in \(seconds) s")
        #expect(refused.status == 400)
        #expect(
            refused.text
                == "<control-api>:2:1: error: The scenario has 350000 rules; a scenario may have at most 10000 (write rules "
                + "that differ only in their path as one rule with a glob or a pathRegex and templates).\n"
        )
        // It took 17 s and 978 MB before the limit; the text is scanned, not parsed.
        #expect(seconds < 5)
        #expect(try server.memory().peak < 400_000, "no rule was built: the peak stays far below the 978 MB of before")
        #expect(try server.call("GET", "/still").text == "here", "the old scenario keeps serving")
    }

    @Test func journalMemoryTakesASize() throws {
        for value in ["0", "lots"] {
            let result = try FaultlineProcess.run(["serve", "--port", "0", "--journal-memory", value])
            #expect(result.status == 64)
            #expect(result.stderr.contains("--journal-memory takes a size larger than zero, such as 64MiB."))
        }
    }
}
