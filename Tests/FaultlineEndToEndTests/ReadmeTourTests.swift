import FaultlineTestSupport
import Foundation
import Testing

/// Runs every shell command of the README's five-minute tour, in order, against a real server, and checks what
/// each one does, so the front page cannot rot. A command added to the tour without an expectation here fails.
///
/// The tour's files (` ```yaml ` blocks whose first line names them) are written to a temporary folder first.
/// `faultline` is the binary under test; the server the tour starts on port 8080 starts on a free port instead
/// (and `8080` in later commands means that port, also through `FAULTLINE_URL` for `faultline ctl`); `kill %1`
/// stops it.
@Suite("README: the five-minute tour", .serialized)
struct ReadmeTourTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// What a command must do.
    struct Expected {
        var exitCode: Int32 = 0
        /// Texts standard output contains.
        var stdout: [String] = []
        /// Texts standard error contains.
        var stderr: [String] = []
        /// The exact number of bytes on standard output.
        var stdoutBytes: Int?
        /// The least time the command takes, in seconds.
        var atLeast: Double = 0
    }

    /// Every command of the tour, as the README writes it (without its comment).
    static let expectations: [String: Expected] = [
        "curl -i http://127.0.0.1:8080/status/503": Expected(stdout: [
            "HTTP/1.1 503 Service Unavailable\r\n", "Retry-After: 1\r\n",
        ]),
        "curl -i http://127.0.0.1:8080/delay/2": Expected(stdout: ["HTTP/1.1 200 OK\r\n"], atLeast: 2),
        "curl -L http://127.0.0.1:8080/redirect/3": Expected(stdout: ["ok"]),
        "curl -s http://127.0.0.1:8080/bytes/1MiB | wc -c": Expected(stdout: ["1048576\n"]),
        "curl -i http://127.0.0.1:8080/status/499": Expected(exitCode: 52, stderr: ["Empty reply from server"]),
        "curl -i http://127.0.0.1:8080/nope": Expected(stdout: ["HTTP/1.1 404 Not Found\r\n"]),
        "curl -r 0-9 http://127.0.0.1:8080/range/100": Expected(stdoutBytes: 10),
        "curl -u user:pass http://127.0.0.1:8080/basic-auth/user/pass": Expected(stdout: [#"{"authenticated":true}"#]),
        "curl http://127.0.0.1:8080/reset": Expected(exitCode: 56, stderr: ["Connection reset by peer"]),
        "curl -s http://127.0.0.1:8080/__faultline/journal": Expected(stdout: [
            #""target":"/status/503""#, #""fault":"reset""#,
        ]),
        "faultline check orders.yaml": Expected(stdout: ["orders.yaml: ok, 3 rules\n"]),
        "faultline ctl load orders.yaml": Expected(stdout: ["loaded orders.yaml: 3 rules\n"]),
        "curl -i http://127.0.0.1:8080/api/orders": Expected(stdout: [
            "HTTP/1.1 503 Service Unavailable\r\n", "Retry-After: 1\r\n",
        ]),
        "faultline ctl enable orders-outage": Expected(stdout: ["enabled orders-outage (1 rule)\n"]),
        "faultline ctl disable orders-outage": Expected(stdout: ["disabled orders-outage (1 rule)\n"]),
        "faultline ctl journal --rule orders": Expected(stdout: [#""rule":"orders""#, #""status":503"#]),
        "faultline ctl expectations": Expected(
            exitCode: 1,
            stdout: ["FAIL orders count: 1 request; expected exactly 4."],
            stderr: ["faultline ctl: an expectation is not met\n"]
        ),
        "faultline run orders.yaml -- sh -c 'curl -s -w \"\\n\" --retry 3 \"$FAULTLINE_URL/api/orders\"'": Expected(
            stdout: [#"{"orders":[]}"# + "\n"],
            stderr: ["faultline: 2 of 2 expectations met\n"],
            atLeast: 3
        ),
    ]

    /// The README's text between `## A five-minute tour` and the next `## ` heading.
    static func tour() throws -> String {
        let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        let start = try #require(readme.range(of: "\n## A five-minute tour\n"), "the README has no five-minute tour")
        let rest = readme[start.upperBound...]
        let end = rest.range(of: "\n## ")?.lowerBound ?? rest.endIndex
        return String(rest[..<end])
    }

    /// The fenced code blocks of `text`, with their language.
    static func blocks(_ text: String) -> [(language: String, lines: [String])] {
        var blocks: [(String, [String])] = []
        var current: (String, [String])?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.hasPrefix("```") {
                if let open = current {
                    blocks.append(open)
                    current = nil
                } else {
                    current = (String(line.dropFirst(3)), [])
                }
            } else if current != nil {
                current?.1.append(line)
            }
        }
        return blocks
    }

    /// A shell line without its trailing comment (` # ...`).
    static func command(_ line: String) -> String {
        var text = line
        if let comment = text.range(of: " # ") { text = String(text[..<comment.lowerBound]) }
        return text.trimmingCharacters(in: .whitespaces)
    }

    @Test func everyCommandOfTheTourHasAnExpectation() throws {
        let commands = Self.blocks(try Self.tour()).filter { $0.language == "sh" }.flatMap(\.lines).map(Self.command)
            .filter { !$0.isEmpty }
        #expect(commands.count >= 15)
        let unknown = commands.filter { Self.expectations[$0] == nil && !$0.hasSuffix("&") && !$0.hasPrefix("kill %") }
        #expect(unknown.isEmpty, "the tour runs commands this test does not check: \(unknown)")
    }

    @Test func theTourRunsAsWritten() throws {
        let folder = try TemporaryFolder()
        let blocks = Self.blocks(try Self.tour())
        for block in blocks where block.language == "yaml" {
            let first = try #require(block.lines.first)
            let name = try #require(
                first.split(separator: ":").first.map { $0.dropFirst(2) },
                "a yaml block names its file"
            )
            try folder.write(String(name), block.lines.joined(separator: "\n") + "\n")
        }
        let binaries = URL(fileURLWithPath: FaultlineProcess.executablePath).deletingLastPathComponent().path
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("FAULTLINE_") }
        environment["PATH"] = binaries + ":" + (environment["PATH"] ?? "/usr/bin:/bin")

        var server: Process?
        defer {
            if let server, server.isRunning {
                server.terminate()
                server.waitUntilExit()
            }
        }
        var port = 8080
        var lastOutput = (stdout: "", stderr: "")
        var ran = 0
        for block in blocks {
            if block.language.isEmpty, !lastOutput.stdout.isEmpty || !lastOutput.stderr.isEmpty {
                // A bare block after a command shows what the terminal shows: every line of it must be on standard
                // output or standard error, in order within each, with any number (a port, a time) allowed to differ.
                var remaining = [lastOutput.stdout[...], lastOutput.stderr[...]]
                for line in block.lines where !line.isEmpty {
                    let pattern = try Regex(Self.patternAllowingOtherNumbers(line))
                    let stream = remaining.indices.first { remaining[$0].firstMatch(of: pattern) != nil }
                    #expect(stream != nil, "the README shows '\(line)' after the command; it printed: \(lastOutput)")
                    if let stream, let match = remaining[stream].firstMatch(of: pattern) {
                        remaining[stream] = remaining[stream][match.range.upperBound...]
                    }
                }
                continue
            }
            guard block.language == "sh" else { continue }
            for line in block.lines {
                let command = Self.command(line)
                if command.isEmpty { continue }
                ran += 1
                if command.hasSuffix("&") {
                    let portFile = folder.path("port")
                    let started = command.dropLast().trimmingCharacters(in: .whitespaces)
                        .replacingOccurrences(of: "--port 8080", with: "--port 0 --port-file \(portFile)")
                    let process = Process()
                    process.executableURL = URL(fileURLWithPath: "/bin/bash")
                    process.arguments = ["-c", "exec \(started)"]
                    process.currentDirectoryURL = folder.url
                    process.environment = environment
                    process.standardOutput = FileHandle.nullDevice
                    process.standardError = FileHandle.nullDevice
                    try process.run()
                    server = process
                    port = try Self.waitForPort(portFile, process: process)
                    environment["FAULTLINE_URL"] = "http://127.0.0.1:\(port)"
                    continue
                }
                if command.hasPrefix("kill %") {
                    let running = try #require(server, "'\(command)' with no server started")
                    running.terminate()
                    running.waitUntilExit()
                    #expect(running.terminationStatus == 0, "SIGTERM stops the server cleanly")
                    environment.removeValue(forKey: "FAULTLINE_URL")
                    continue
                }
                let expected = try #require(Self.expectations[command], "no expectation for '\(command)'")
                let started = Date()
                let result = try Self.shell(
                    command.replacingOccurrences(of: "8080", with: "\(port)"),
                    in: folder.url,
                    environment: environment
                )
                let elapsed = Date().timeIntervalSince(started)
                let stdout = String(decoding: result.stdout, as: UTF8.self)
                let context = "\(command)\nexit \(result.status)\nstdout: \(stdout)\nstderr: \(result.stderr)"
                #expect(result.status == expected.exitCode, "\(context)")
                for text in expected.stdout { #expect(stdout.contains(text), "\(context)") }
                for text in expected.stderr { #expect(result.stderr.contains(text), "\(context)") }
                if let bytes = expected.stdoutBytes { #expect(result.stdout.count == bytes, "\(context)") }
                #expect(elapsed >= expected.atLeast, "\(command) took \(elapsed) s")
                lastOutput = (stdout, result.stderr)
            }
        }
        #expect(ran >= 15)
    }

    /// A regular expression matching `line` exactly, except that each number in it may be another number.
    static func patternAllowingOtherNumbers(_ line: String) -> String {
        var pattern = "(?m)^"
        var digits = false
        for character in line {
            if character.isASCII, character.isNumber {
                if !digits { pattern += "[0-9]+" }
                digits = true
                continue
            }
            digits = false
            // ASCII punctuation is escaped; letters, spaces and anything beyond ASCII stand for themselves.
            let special = character.isASCII && !character.isLetter && !character.isNumber && character != " "
            pattern += special ? "\\" + String(character) : String(character)
        }
        return pattern + "$"
    }

    /// Runs one command line with bash, as a user's shell would, and returns what it printed.
    static func shell(
        _ command: String,
        in folder: URL,
        environment: [String: String]
    ) throws -> (status: Int32, stdout: [UInt8], stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", command]
        process.currentDirectoryURL = folder
        process.environment = environment
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let group = DispatchGroup()
        nonisolated(unsafe) var outData = Data()
        nonisolated(unsafe) var errData = Data()
        group.enter()
        DispatchQueue.global().async {
            outData = output.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        group.enter()
        DispatchQueue.global().async {
            errData = errors.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        if group.wait(timeout: .now() + 120) == .timedOut { process.terminate() }
        process.waitUntilExit()
        return (process.terminationStatus, Array(outData), String(decoding: errData, as: UTF8.self))
    }

    /// Waits until the server has written its port file (it does once it accepts connections).
    static func waitForPort(_ file: String, process: Process) throws -> Int {
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if let text = try? String(contentsOfFile: file, encoding: .utf8),
                let port = Int(text.split(separator: "\n").first ?? "")
            {
                return port
            }
            if !process.isRunning { break }
            Thread.sleep(forTimeInterval: 0.02)
        }
        throw ProcessError(message: "the tour's server did not start")
    }
}
