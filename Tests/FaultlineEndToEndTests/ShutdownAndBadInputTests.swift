import FaultlineTestSupport
import Foundation
import Testing

/// Shutdown and bad input, exactly (docs/security.md): a taken port is said in one line, the grace period running out
/// leaves no error from below, a journal or access-log file that cannot be written is reported with its reason, and
/// auth schemes are case-insensitive. Over real sockets, against the built `faultline`.
@Suite("Shutdown and bad input", .serialized)
struct ShutdownAndBadInputTests {
    /// Waits until `condition` holds, polling, for at most `timeout` seconds.
    func eventually(timeout: Double = 20, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            Thread.sleep(forTimeInterval: 0.01)
        }
        return condition()
    }

    func port(of process: FaultlineProcess) throws -> Int {
        let url = try #require(try process.waitUntilListening().first)
        return try #require(Int(url.split(separator: ":").last ?? ""))
    }

    // MARK: - A port in use

    @Test func aPortInUseIsSaidInOneLineAndNothingElse() throws {
        let first = try FaultlineProcess(["serve", "--port", "0"])
        let port = try self.port(of: first)
        defer {
            first.signal()
            first.waitForExit()
        }
        // The built-in scenario draws a seed; a server that never started says nothing about it.
        for _ in 0..<10 {
            let taken = try FaultlineProcess.run(["serve", "--port", "\(port)"])
            #expect(taken.status == 1)
            #expect(taken.stderr == "faultline: port \(port) is in use; use --port 0 or --free-ports\n")
            #expect(taken.stdout == "")
        }
        let run = try FaultlineProcess.run(["run", "--keep-ports", "--port", "\(port)", "--", "true"])
        #expect(run.status == 1)
        #expect(run.stderr == "faultline: port \(port) is in use; use --port 0 or leave out --keep-ports\n")
    }

    // MARK: - The grace period running out

    @Test func theGracePeriodRunningOutCutsWhatIsLeftWithoutAnErrorFromBelow() throws {
        let folder = try TemporaryFolder()
        let body = String(repeating: "x", count: 2000)
        let scenario = try folder.write(
            "grace.yaml",
            "version: 1\nrules:\n  - {path: /slow, bodyDelay: 30s, body: slow}\n  - {path: /drip, body: \(body), throttle: 100B/s}\n"
        )
        let journal = folder.path("journal.jsonl")
        for _ in 0..<3 {
            try? FileManager.default.removeItem(atPath: journal)
            let server = try FaultlineProcess([
                "serve", scenario, "--port", "0", "--threads", "2", "--grace-period", "300ms", "--journal", journal,
            ])
            let port = try self.port(of: server)
            // Both answers are under way once their status lines have come: one waits before its body, one drips it.
            let slow = try RawHTTPClient(port: port)
            try slow.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try slow.readBytes(count: 12) == Array("HTTP/1.1 200".utf8))
            let drip = try RawHTTPClient(port: port)
            try drip.send("GET /drip HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try drip.readBytes(count: 12) == Array("HTTP/1.1 200".utf8))
            let signalled = Date()
            server.signal()
            #expect(server.waitForExit() == 0)
            #expect(Date().timeIntervalSince(signalled) >= 0.3, "the grace period was waited out")
            #expect(!server.standardError.contains("Cannot schedule tasks"), "\(server.standardError)")
            let lines = server.standardError.split(separator: "\n")
            #expect(lines.count == 1 && lines[0].hasSuffix("stopping"), "\(server.standardError)")
            let entries = try String(contentsOfFile: journal, encoding: .utf8).split(separator: "\n").compactMap {
                try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }
            #expect(Set(entries.compactMap { $0["path"] as? String }) == ["/slow", "/drip"])
            // Cut by the server when its grace period ran out: journaled as the server's own cut.
            #expect(entries.allSatisfy { $0["outcome"] as? String == "dropped" }, "\(entries)")
        }
    }

    // MARK: - Files that cannot be written

    @Test func aJournalFileThatCannotBeWrittenIsReportedOnceWithItsReason() throws {
        let server = try FaultlineProcess(["serve", "--port", "0", "--journal", "/dev/full", "--seed", "1"])
        let port = try self.port(of: server)
        defer {
            server.signal()
            server.waitForExit()
        }
        let message =
            "faultline: cannot write the journal file /dev/full: No space left on device; its entries are not saved\n"
        for _ in 0..<5 {
            #expect(
                try Curl.run(["-s", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(port)/status/200"])
                    .stdout == "200"
            )
            #expect(self.eventually { server.standardError.contains(message) }, "\(server.standardError)")
        }
        #expect(server.standardError == message, "once, and nothing else")
    }

    @Test func anAccessLogWhoseFolderIsRemovedAfterStartIsReportedOnceWithItsReason() throws {
        let folder = try TemporaryFolder()
        let logs = folder.url.appendingPathComponent("logs")
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        let path = logs.appendingPathComponent("access.log").path
        let server = try FaultlineProcess(["serve", "--port", "0", "--access-log", path, "--seed", "1"])
        let port = try self.port(of: server)
        defer {
            server.signal()
            server.waitForExit()
        }
        #expect(try Curl.run(["-s", "http://127.0.0.1:\(port)/status/200"]).exitCode == 0)
        #expect(
            self.eventually {
                ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").contains(
                    "\"GET /status/200 HTTP/1.1\" 200"
                )
            }
        )
        try FileManager.default.removeItem(at: logs)
        let message =
            "faultline: cannot write the access log \(path): it was removed, and making it again failed: "
            + "No such file or directory; its entries are not saved\n"
        for _ in 0..<5 {
            #expect(try Curl.run(["-s", "-o", "/dev/null", "http://127.0.0.1:\(port)/status/201"]).exitCode == 0)
            #expect(self.eventually { server.standardError.contains(message) }, "\(server.standardError)")
        }
        #expect(server.standardError == message, "once, and nothing else")
    }

    @Test func aJournalFileRemovedWhileItsFolderStaysIsMadeAgain() throws {
        let folder = try TemporaryFolder()
        let path = folder.path("journal.jsonl")
        let server = try FaultlineProcess(["serve", "--port", "0", "--journal", path, "--seed", "1"])
        let port = try self.port(of: server)
        defer {
            server.signal()
            server.waitForExit()
        }
        #expect(try Curl.run(["-s", "http://127.0.0.1:\(port)/status/200"]).exitCode == 0)
        #expect(
            self.eventually {
                FileManager.default.fileExists(atPath: path)
                    && ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "") != ""
            }
        )
        try FileManager.default.removeItem(atPath: path)
        #expect(try Curl.run(["-s", "http://127.0.0.1:\(port)/status/202"]).exitCode == 0)
        #expect(
            self.eventually { ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").contains("\"status\":202") }
        )
        #expect(server.standardError == "")
    }

    @Test func aJournalFileInAMissingFolderIsRefusedWithTheRealReason() throws {
        let result = try FaultlineProcess.run([
            "serve", "--port", "0", "--journal", "/nonexistent-folder/journal.jsonl",
        ])
        #expect(result.status == 1)
        #expect(
            result.stderr
                == "faultline: cannot open /nonexistent-folder/journal.jsonl for writing (No such file or directory)\n"
        )
    }

    // MARK: - Auth schemes

    @Test func authSchemesAreCaseInsensitive() throws {
        let folder = try TemporaryFolder()
        let scenario = try folder.write(
            "auth.yaml",
            "version: 1\nrules:\n  - {path: /token, auth: {bearer: t0k}, body: token-ok}\n  - {path: /basic, auth: {basic: \"u:p\"}, body: basic-ok}\n"
        )
        let server = try FaultlineProcess(["serve", scenario, "--port", "0"])
        let port = try self.port(of: server)
        defer {
            server.signal()
            server.waitForExit()
        }
        let basic = Data("u:p".utf8).base64EncodedString()
        for (path, credentials, expected) in [
            ("/token", "Bearer t0k", "token-ok"), ("/token", "bearer t0k", "token-ok"),
            ("/token", "BEARER t0k", "token-ok"),
            ("/basic", "Basic \(basic)", "basic-ok"), ("/basic", "BASIC \(basic)", "basic-ok"),
            ("/basic", "basic \(basic)", "basic-ok"),
        ] {
            let result = try Curl.run(["-s", "-H", "Authorization: \(credentials)", "http://127.0.0.1:\(port)\(path)"])
            #expect(result.stdout == expected, "\(credentials)")
        }
        let wrong = try Curl.run([
            "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Authorization: bearer nope",
            "http://127.0.0.1:\(port)/token",
        ])
        #expect(wrong.stdout == "401")
    }
}
