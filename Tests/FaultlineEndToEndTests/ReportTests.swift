import FaultlineTestSupport
import Foundation
import Testing

/// The HTML report from the real command line: `run --report` (also when the run fails), `serve --report` at
/// shutdown, `GET /__faultline/report` live, and the page as headless Chromium shows it.
@Suite("The HTML report, end to end", .serialized)
struct ReportTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Where the browser test leaves its screenshot and the page it checked, for a person (or a CI artifact) to look
    /// at: `$FAULTLINE_TEST_ARTIFACTS`, else `.build/test-artifacts/report` in the checkout.
    static var artifacts: URL {
        if let folder = ProcessInfo.processInfo.environment["FAULTLINE_TEST_ARTIFACTS"] {
            return URL(fileURLWithPath: folder).appendingPathComponent("report")
        }
        return Self.root.appendingPathComponent(".build/test-artifacts/report")
    }

    /// A client that ignores Retry-After: it asks again at once until it gets a 200 (twenty tries at most).
    static let impatientClient = """
        #!/usr/bin/env bash
        for attempt in $(seq 1 20); do
            curl -sf -o /dev/null "$FAULTLINE_URL/api/orders" && exit 0
        done
        exit 1
        """

    func script(_ folder: TemporaryFolder, _ name: String, _ text: String) throws -> String {
        let path = try folder.write(name, text)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        return path
    }

    /// Runs a program to completion and returns its exit status and output.
    func run(_ arguments: [String], timeout: Double = 120) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let folder = try TemporaryFolder()
        let stdoutPath = folder.path("stdout")
        let stderrPath = folder.path("stderr")
        _ = FileManager.default.createFile(atPath: stdoutPath, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: stdoutPath))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline {
            Thread.sleep(forTimeInterval: 0.05)
        }
        if process.isRunning {
            process.terminate()
        }
        process.waitUntilExit()
        return (
            process.terminationStatus,
            (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "",
            (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
        )
    }

    @Test func aClientThatIgnoresRetryAfterLeavesAReportThatABrowserShows() throws {
        let folder = try TemporaryFolder()
        let client = try self.script(folder, "impatient.sh", Self.impatientClient)
        let report = folder.path("report.html")
        let journal = folder.path("journal.jsonl")
        let scenario = Self.root.appendingPathComponent("Scenarios/retry-after-storm.yaml").path
        let result = try FaultlineProcess.run(["run", scenario, "--report", report, "--journal", journal, "--", client])
        #expect(result.status == 1, "the client passed but honorsRetryAfter failed: \(result.stderr)")
        #expect(result.stderr.contains("faultline: report written to \(report)\n"))
        #expect(result.stderr.contains("  FAIL orders honorsRetryAfter: Request 2 came "))
        let html = try String(contentsOfFile: report, encoding: .utf8)
        #expect(html.contains("<p class=\"banner fail\">FAIL: 1 of 2 expectations not met</p>"))

        // The page in a real browser, kept beside the test output with its screenshot.
        try FileManager.default.createDirectory(at: Self.artifacts, withIntermediateDirectories: true)
        let keptReport = Self.artifacts.appendingPathComponent("report.html").path
        let keptJournal = Self.artifacts.appendingPathComponent("journal.jsonl").path
        let screenshot = Self.artifacts.appendingPathComponent("report.png").path
        for (from, to) in [(report, keptReport), (journal, keptJournal)] {
            try? FileManager.default.removeItem(atPath: to)
            try FileManager.default.copyItem(atPath: from, toPath: to)
        }
        try? FileManager.default.removeItem(atPath: screenshot)
        let check = try self.run([
            "python3", Self.root.appendingPathComponent("scripts/report-browser-check").path, keptReport,
            "--journal", keptJournal, "--failing", "honorsRetryAfter", "--single-marks", "--min-early", "3",
            "--screenshot", screenshot,
        ])
        #expect(check.status == 0, "\(check.stderr)\(check.stdout)")
        #expect(FileManager.default.fileExists(atPath: screenshot))
        print("report browser test: page and screenshot in \(Self.artifacts.path)")
    }

    @Test func twelveHundredRequestsAreBinnedAndPagedInTheBrowser() throws {
        let folder = try TemporaryFolder()
        let scenario = try folder.write(
            "busy.yaml",
            """
            version: 1
            name: busy
            seed: 7
            rules:
              - {name: orders, path: /orders, probability: 0.1, status: 503, retryAfter: 1}
              - {name: orders, path: /orders, body: ok}
              - {name: flaky, path: /flaky, probability: 0.3, fault: drop}
              - {name: flaky, path: /flaky, body: ok}
            expect:
              - {rule: orders, honorsRetryAfter: true}
            """
        )
        // curl's URL globbing: 900 and 300 requests back to back, ignoring every Retry-After.
        let client = try self.script(
            folder,
            "burst.sh",
            """
            #!/usr/bin/env bash
            curl -s -o /dev/null "$FAULTLINE_URL/orders?n=[1-900]"
            curl -s -o /dev/null "$FAULTLINE_URL/flaky?n=[1-300]"
            exit 0
            """
        )
        let report = folder.path("report.html")
        let journal = folder.path("journal.jsonl")
        let result = try FaultlineProcess.run(
            ["run", scenario, "--report", report, "--journal", journal, "--", client],
            timeout: 120
        )
        #expect(result.status == 1, "\(result.stderr)")
        // curl sends a request again when the server dropped a connection it reused: 1,200 or a few more.
        let entries = try String(contentsOfFile: journal, encoding: .utf8).split(separator: "\n")
        #expect(entries.count >= 1_200)

        try FileManager.default.createDirectory(at: Self.artifacts, withIntermediateDirectories: true)
        let screenshot = Self.artifacts.appendingPathComponent("report-1200.png").path
        try? FileManager.default.removeItem(atPath: screenshot)
        let check = try self.run([
            "python3", Self.root.appendingPathComponent("scripts/report-browser-check").path, report,
            "--journal", journal, "--failing", "honorsRetryAfter", "--min-early", "1", "--screenshot", screenshot,
            "--max-height", "1600",
        ])
        #expect(check.status == 0, "\(check.stderr)\(check.stdout)")
        #expect(
            check.stdout.contains("\"ids\": \(entries.count),"),
            "every request in a mark: \(check.stdout.prefix(300))"
        )
        #expect(check.stdout.contains("\"pages\": 3,"), "three pages of rows: \(check.stdout.prefix(300))")
        #expect(!check.stdout.hasPrefix("{\"marks\": \(entries.count),"), "binned")
    }

    @Test func aFailingCommandStillLeavesItsReport() throws {
        let folder = try TemporaryFolder()
        let report = folder.path("report.html")
        let scenario = Self.root.appendingPathComponent("Scenarios/retry-after-storm.yaml").path
        let result = try FaultlineProcess.run(["run", scenario, "--report", report, "--", "false"])
        #expect(result.status == 1, "the command's own code")
        #expect(result.stderr.contains("faultline: the command exited with 1"))
        let html = try String(contentsOfFile: report, encoding: .utf8)
        #expect(html.contains("<p class=\"banner fail\">FAIL: 1 of 2 expectations not met</p>"))
        #expect(html.contains("0 requests; expected 4 to 6."))
    }

    @Test func aReportThatCannotBeWrittenStopsTheRunBeforeTheCommand() throws {
        let folder = try TemporaryFolder()
        let marker = folder.path("ran")
        let scenario = Self.root.appendingPathComponent("Scenarios/retry-after-storm.yaml").path
        let result = try FaultlineProcess.run([
            "run", scenario, "--report", folder.path("missing/report.html"), "--", "touch", marker,
        ])
        #expect(result.status == 1)
        #expect(result.stderr.contains("faultline: cannot write the report to \(folder.path("missing/report.html"))"))
        #expect(!FileManager.default.fileExists(atPath: marker), "the command never ran")
    }

    @Test func serveServesTheReportLiveAndWritesItAtShutdown() throws {
        let folder = try TemporaryFolder()
        let report = folder.path("report.html")
        let scenario = try folder.write(
            "s.yaml",
            """
            version: 1
            name: live
            rules:
              - {name: busy, path: /busy, status: 503, retryAfter: 1}
            expect:
              - {rule: busy, honorsRetryAfter: true}
            """
        )
        let server = try FaultlineProcess(["serve", scenario, "--port", "0", "--report", report])
        let url = try #require(try server.waitUntilListening().first)
        #expect(try Curl.run(["-s", "-o", "/dev/null", "\(url)/busy"]).exitCode == 0)
        #expect(try Curl.run(["-s", "-o", "/dev/null", "\(url)/busy"]).exitCode == 0)
        #expect(try Curl.run(["-s", "-o", "/dev/null", "\(url)/nothing-here"]).exitCode == 0)

        // An exchange is journaled just after its last byte: ask until the third is there.
        var live = try Curl.run(["-s", "-D", "-", "\(url)/__faultline/report"])
        let deadline = Date().addingTimeInterval(20)
        while !live.stdout.contains("data-id=\"3\""), Date() < deadline {
            Thread.sleep(forTimeInterval: 0.05)
            live = try Curl.run(["-s", "-D", "-", "\(url)/__faultline/report"])
        }
        #expect(live.stdout.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(live.stdout.contains("\r\nContent-Type: text/html; charset=utf-8\r\n"))
        #expect(live.stdout.contains("<title>FAIL · Faultline report: live</title>"))
        #expect(live.stdout.contains("data-id=\"1\""))
        #expect(live.stdout.contains("data-id=\"3\""))
        #expect(live.stdout.contains(">no rule (unmatched)<"))
        #expect(!live.stdout.contains("data-id=\"4\""), "control API requests are not journaled")
        let refused = try Curl.run(["-s", "-D", "-", "-o", "/dev/null", "-X", "POST", "\(url)/__faultline/report"])
        #expect(refused.stdout.hasPrefix("HTTP/1.1 405 Method Not Allowed\r\n"))
        #expect(refused.stdout.contains("\r\nAllow: GET, HEAD\r\n"))

        server.signal()
        #expect(server.waitForExit() == 0)
        #expect(server.standardError.contains("faultline: report written to \(report)\n"))
        let written = try String(contentsOfFile: report, encoding: .utf8)
        #expect(written.contains("<title>FAIL · Faultline report: live</title>"))
        #expect(written.contains("data-id=\"3\""))
    }
}
