import FaultlineTestSupport
import Foundation
import Testing

/// Ranges and conditional requests driven by curl's own features, as a user resuming a download would.
@Suite("Ranges and caching through curl", .serialized)
struct CurlHTTPSemanticsTests {
    @Test func curlResumesAPartialDownloadAndTheChecksumMatches() throws {
        let folder = try TemporaryFolder()
        let source = (0..<2_000_000).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ $0 >> 11) }
        try Data(source).write(to: folder.url.appendingPathComponent("big.bin"))
        let scenario = try folder.write(
            "download.yaml",
            "version: 1\nrules:\n  - {path: /big.bin, bodyFile: big.bin}\n"
        )
        let server = try FaultlineProcess(["serve", scenario, "--port", "0"])
        defer {
            server.signal()
            server.waitForExit()
        }
        let url = try #require(try server.waitUntilListening().first)
        let output = folder.path("download.part")
        // The first part only, as if the connection had dropped after 700 000 bytes.
        let first = try Curl.run(["-s", "-r", "0-699999", "-o", output, "\(url)/big.bin"])
        #expect(first.exitCode == 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: output)).count == 700_000)
        let resumed = try Curl.run(["-s", "-C", "-", "-o", output, "-w", "%{http_code}", "\(url)/big.bin"])
        #expect(resumed.exitCode == 0, "\(resumed.stderr)")
        #expect(resumed.stdout == "206")
        let downloaded = try Data(contentsOf: URL(fileURLWithPath: output))
        #expect(downloaded.count == source.count)
        #expect(Array(downloaded) == source)
        let sums = try Curl.run(["-s", "\(url)/big.bin"])
        #expect(Shell.sha256(Array(downloaded)) == Shell.sha256(sums.stdoutBytes))
    }

    @Test func curlTimeConditionsGet304() throws {
        let folder = try TemporaryFolder()
        let scenario = try folder.write(
            "cache.yaml",
            "version: 1\nrules:\n  - {path: /doc, lastModified: 'Wed, 21 Oct 2026 07:28:00 GMT', body: doc}\n"
        )
        let server = try FaultlineProcess(["serve", scenario, "--port", "0"])
        defer {
            server.signal()
            server.waitForExit()
        }
        let url = try #require(try server.waitUntilListening().first)
        let notModified = try Curl.run([
            "-s", "-o", "/dev/null", "-w", "%{http_code}", "-z", "Thu, 22 Oct 2026 00:00:00 GMT", "\(url)/doc",
        ])
        #expect(notModified.stdout == "304")
        let modified = try Curl.run(["-s", "-w", " %{http_code}", "-z", "Tue, 20 Oct 2026 00:00:00 GMT", "\(url)/doc"])
        #expect(modified.stdout == "doc 200")
        let head = try Curl.run(["-s", "-I", "\(url)/doc"])
        let get = try Curl.run(["-s", "-D", "-", "-o", "/dev/null", "\(url)/doc"])
        func headers(_ text: String) -> [String] {
            text.split(separator: "\r\n").dropFirst().filter { !$0.hasPrefix("Date:") }.map(String.init)
        }
        #expect(headers(head.stdout) == headers(get.stdout))
        #expect(headers(head.stdout).contains("Content-Length: 3"))
    }
}

/// Small helpers that shell out to standard tools.
enum Shell {
    /// The SHA-256 of some bytes, computed by `sha256sum`.
    static func sha256(_ bytes: [UInt8]) -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["sha256sum"]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try? process.run()
        input.fileHandleForWriting.write(Data(bytes))
        try? input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).split(separator: " ").first.map(String.init) ?? ""
    }
}
