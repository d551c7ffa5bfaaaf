import FaultlineTestSupport
import Foundation
import Testing

/// Faults as curl reports them, the journal and access log files, and reproducible runs of the executable.
@Suite("Faults through curl and the executable", .serialized)
struct CurlFaultTests {
    @Test func curlSeesEachFaultAsAUserWould() throws {
        let server = try FaultlineProcess(["serve", "--port", "0"])
        defer {
            server.signal()
            server.waitForExit()
        }
        let url = try #require(try server.waitUntilListening().first)
        #expect(try Curl.run(["-s", "\(url)/drop"]).exitCode == 52, "curl: (52) Empty reply from server")
        #expect(
            try Curl.run(["-s", "\(url)/reset"]).exitCode == 56,
            "curl: (56) Recv failure: Connection reset by peer"
        )
        #expect(
            try Curl.run(["-s", "\(url)/truncate/100", "-o", "/dev/null"]).exitCode == 18,
            "curl: (18) transfer closed with outstanding read data remaining"
        )
        #expect(try Curl.run(["-s", "-m", "1", "\(url)/hang"]).exitCode == 28, "curl: (28) Operation timed out")
        #expect(try Curl.run(["-s", "\(url)/garbage", "-o", "/dev/null"]).exitCode != 0)
        let drip = try Curl.run([
            "-s", "-o", "/dev/null", "-w", "%{http_code} %{size_download} %{time_total}",
            "\(url)/drip?duration=1&numbytes=5&delay=0.5",
        ])
        let parts = drip.stdout.split(separator: " ")
        #expect(parts.prefix(2) == ["200", "5"])
        let seconds = try #require(Double(parts.last ?? ""))
        #expect(seconds >= 1.4 && seconds < 5, "drip took \(seconds) s")
    }

    @Test func theJournalFileAndTheAccessLogRecordEveryExchange() throws {
        let folder = try TemporaryFolder()
        let journal = folder.path("journal.jsonl")
        let access = folder.path("access.log")
        let server = try FaultlineProcess(["serve", "--port", "0", "--journal", journal, "--access-log", access])
        let url = try #require(try server.waitUntilListening().first)
        _ = try Curl.run(["-s", "-A", "test-agent", "\(url)/status/201"])
        _ = try Curl.run(["-s", "\(url)/drop"])
        server.signal()
        #expect(server.waitForExit() == 0)
        let lines = try String(contentsOfFile: journal, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2)
        let first = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(first["status"] as? Int == 201)
        #expect(first["rule"] as? String == "status")
        let second = try #require(try JSONSerialization.jsonObject(with: Data(lines[1].utf8)) as? [String: Any])
        #expect(second["fault"] as? String == "drop")
        #expect(second["outcome"] as? String == "dropped")
        let log = try String(contentsOfFile: access, encoding: .utf8).split(separator: "\n")
        #expect(log.count == 2)
        #expect(log[0].hasPrefix("127.0.0.1 - - ["))
        #expect(log[0].hasSuffix("] \"GET /status/201 HTTP/1.1\" 201 0 \"-\" \"test-agent\""))
        #expect(log[1].contains("\"GET /drop HTTP/1.1\" 499 0 "))
    }

    @Test func theAccessLogCanGoToStandardOutput() throws {
        let server = try FaultlineProcess(["serve", "--port", "0", "--access-log"])
        let url = try #require(try server.waitUntilListening().first)
        _ = try Curl.run(["-s", "\(url)/get"])
        Thread.sleep(forTimeInterval: 0.3)
        server.signal()
        #expect(server.waitForExit() == 0)
        #expect(server.standardOutput.contains("\"GET /get HTTP/1.1\" 200 3 "))
    }

    @Test func aDrawnSeedIsPrintedAndAGivenSeedReplaysTheRun() throws {
        let folder = try TemporaryFolder()
        let scenario = try folder.write(
            "flaky.yaml",
            "version: 1\nrules:\n  - {path: /f, probability: 0.5, status: 500}\n  - {path: /f}\n"
        )
        func run(_ extra: [String]) throws -> (statuses: String, stderr: String) {
            let server = try FaultlineProcess(["serve", scenario, "--port", "0"] + extra)
            guard let url = try server.waitUntilListening().first else { throw ProcessError(message: "no URL") }
            var statuses = ""
            for _ in 0..<30 {
                statuses += try Curl.run(["-s", "-o", "/dev/null", "-w", "%{http_code} ", "\(url)/f"]).stdout
            }
            server.signal()
            server.waitForExit()
            return (statuses, server.standardError)
        }
        let drawn = try run([])
        let line = try #require(drawn.stderr.split(separator: "\n").first { $0.contains("no seed was given") })
        let lastWord = line.split(separator: " ").last.map(String.init) ?? ""
        let seed = lastWord.filter { $0.isNumber }
        #expect(!seed.isEmpty)
        #expect(try run(["--seed", String(seed)]).statuses == drawn.statuses, "the printed seed replays the run")
        let fixed = try run(["--seed", "1"])
        #expect(try run(["--seed", "1"]).statuses == fixed.statuses)
        #expect(try run(["--seed", "2"]).statuses != fixed.statuses)
        #expect(!fixed.stderr.contains("no seed was given"))
    }

    @Test func anOutageWindowOpensAndClosesOnTime() throws {
        let folder = try TemporaryFolder()
        let scenario = try folder.write(
            "outage.yaml",
            "version: 1\nrules:\n  - {path: /pay, active: {after: 1s, for: 1s}, status: 503}\n  - {path: /pay}\n"
        )
        let server = try FaultlineProcess(["serve", scenario, "--port", "0"])
        defer {
            server.signal()
            server.waitForExit()
        }
        let url = try #require(try server.waitUntilListening().first)
        let start = Date()
        func status(at seconds: Double) throws -> String {
            let wait = seconds - Date().timeIntervalSince(start)
            if wait > 0 { Thread.sleep(forTimeInterval: wait) }
            return try Curl.run(["-s", "-o", "/dev/null", "-w", "%{http_code}", "\(url)/pay"]).stdout
        }
        #expect(try status(at: 0.2) == "200")
        #expect(try status(at: 1.5) == "503")
        #expect(try status(at: 2.6) == "200")
    }
}
