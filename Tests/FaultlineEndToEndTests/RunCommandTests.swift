import FaultlineTestSupport
import Foundation
import Testing

/// `faultline run` around real client scripts (bash and curl), and `--watch`.
@Suite("faultline run and --watch", .serialized)
struct RunCommandTests {
    static func scenario(retryAfter: Int) -> String {
        """
        version: 1
        rules:
          - {name: orders, path: /orders, times: 2, status: 503, retryAfter: \(retryAfter)}
          - {name: orders, path: /orders, json: {orders: []}}
        expect:
          - {rule: orders, count: 3, honorsRetryAfter: true}
        """
    }

    static let scenario = Self.scenario(retryAfter: 1)

    /// A client script: up to five tries, sleeping `pause` seconds after a 503.
    static func client(pause: String) -> String {
        """
        #!/usr/bin/env bash
        for attempt in 1 2 3 4 5; do
            code=$(curl -s -o /dev/null -w '%{http_code}' "$FAULTLINE_URL/orders")
            echo "attempt $attempt: $code"
            [ "$code" = 200 ] && exit 0
            sleep \(pause)
        done
        exit 1
        """
    }

    func script(_ folder: TemporaryFolder, _ name: String, _ text: String) throws -> String {
        let path = try folder.write(name, text)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        return path
    }

    @Test func aClientThatHonoursRetryAfterPasses() throws {
        let folder = try TemporaryFolder()
        let scenario = try folder.write("orders.yaml", Self.scenario)
        let client = try self.script(folder, "patient.sh", Self.client(pause: "1.1"))
        let result = try FaultlineProcess.run(["run", scenario, "--", client])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            result.stdout == "attempt 1: 503\nattempt 2: 503\nattempt 3: 200\n",
            "the command's output is passed through"
        )
        #expect(result.stderr.contains("faultline: 2 of 2 expectations met\n"))
        #expect(
            result.stderr.contains(
                "  ok   orders honorsRetryAfter: Every request waited at least the Retry-After of the answer before it.\n"
            )
        )
    }

    @Test func aClientThatIgnoresRetryAfterFailsWithTheEvidence() throws {
        let folder = try TemporaryFolder()
        // A long Retry-After, so that no slowness of a shared machine can make an impatient client look patient.
        let scenario = try folder.write("orders.yaml", Self.scenario(retryAfter: 30))
        let client = try self.script(folder, "impatient.sh", Self.client(pause: "0.1"))
        let result = try FaultlineProcess.run(["run", scenario, "--", client])
        #expect(result.status == 1, "the command passed but an expectation failed")
        #expect(result.stderr.contains("faultline: 1 of 2 expectations met\n"))
        #expect(result.stderr.contains("  FAIL orders honorsRetryAfter: Request 2 came "))
        #expect(result.stderr.contains(" s after an answer that said Retry-After: 30.000 s (request 1).\n"))
        #expect(result.stderr.contains("requests at 0.000 s 503 (Retry-After 30), "))
    }

    @Test func aFailingCommandsExitCodeIsPassedThrough() throws {
        let folder = try TemporaryFolder()
        let scenario = try folder.write("orders.yaml", Self.scenario)
        let failing = try self.script(folder, "fails.sh", "#!/usr/bin/env bash\nexit 7\n")
        let result = try FaultlineProcess.run(["run", scenario, "--", failing])
        #expect(result.status == 7)
        #expect(result.stderr.contains("faultline: the command exited with 7"))
        let missing = try FaultlineProcess.run(["run", scenario, "--", folder.path("no-such-command")])
        #expect(missing.status == 127)
        let usage = try FaultlineProcess.run(["run", scenario])
        #expect(usage.status != 0)
        #expect(usage.stderr.contains("Give the command to run after --"))
    }

    @Test func theCommandGetsTheURLsAndTheCA() throws {
        let folder = try TemporaryFolder()
        let scenario = try folder.write(
            "tls.yaml",
            "version: 1\nlisteners:\n  - {port: 8080}\n  - {port: 8443, tls: auto}\nrules:\n  - {path: /x, body: hi}\n"
        )
        let client = try self.script(
            folder,
            "env.sh",
            """
            #!/usr/bin/env bash
            echo "url=$FAULTLINE_URL"
            echo "https=$FAULTLINE_HTTPS_URL"
            curl -s --cacert "$FAULTLINE_CA_FILE" "$FAULTLINE_HTTPS_URL/x"
            """
        )
        let result = try FaultlineProcess.run(["run", scenario, "--", client])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 3)
        #expect(lines[0].hasPrefix("url=http://127.0.0.1:") && !lines[0].hasSuffix(":8080") && !lines[0].hasSuffix("/"))
        #expect(lines[1].hasPrefix("https=https://localhost:") && !lines[1].hasSuffix(":8443"))
        #expect(lines[2] == "hi")
        let plain = try FaultlineProcess.run([
            "run", "--", "bash", "-c", "echo ${FAULTLINE_CA_FILE-unset} ${FAULTLINE_HTTPS_URL-unset}",
        ])
        #expect(plain.stdout == "unset unset\n", "no TLS listener, no CA: the variables are not set")
        let kept = try FaultlineProcess.run([
            "run", "--keep-ports", "--port", "0", "--", "bash", "-c", "echo $FAULTLINE_URL",
        ])
        #expect(kept.stdout.hasPrefix("http://127.0.0.1:"))
    }

    @Test func watchPicksUpEditsAndSurvivesBrokenOnes() throws {
        let folder = try TemporaryFolder()
        let scenario = try folder.write("live.yaml", "version: 1\nrules:\n  - {path: /x, body: first}\n")
        let server = try FaultlineProcess(["serve", scenario, "--port", "0", "--watch"])
        defer {
            server.signal()
            server.waitForExit()
        }
        let url = try #require(try server.waitUntilListening().first)
        #expect(try Curl.run(["-s", "\(url)/x"]).stdout == "first")
        func waitFor(_ body: String) throws -> Bool {
            for _ in 0..<50 {
                if try Curl.run(["-s", "\(url)/x"]).stdout == body { return true }
                Thread.sleep(forTimeInterval: 0.1)
            }
            return false
        }
        try "version: 1\nrules:\n  - {path: /x, body: second}\n".write(
            toFile: scenario,
            atomically: true,
            encoding: .utf8
        )
        #expect(try waitFor("second"))
        try "version: 1\nrules:\n  - {path: /x, bdy: third}\n".write(
            toFile: scenario,
            atomically: true,
            encoding: .utf8
        )
        Thread.sleep(forTimeInterval: 1)
        #expect(try Curl.run(["-s", "\(url)/x"]).stdout == "second", "a broken edit keeps the old rules")
        #expect(
            server.standardError.contains("live.yaml:3:16: error: Unknown key 'bdy' in a rule; did you mean 'body'?")
        )
        #expect(server.standardError.contains("the previous rules keep serving"))
        try "version: 1\nrules:\n  - {path: /x, body: fourth}\n".write(
            toFile: scenario,
            atomically: true,
            encoding: .utf8
        )
        #expect(try waitFor("fourth"))
    }
}

/// The CI helper scripts, as a job would call them.
@Suite("scripts/faultline-start and faultline-stop", .serialized)
struct CIScriptTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    func script(
        _ name: String,
        _ arguments: [String],
        in folder: TemporaryFolder
    ) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = Self.root.appendingPathComponent("scripts/\(name)")
        process.arguments = arguments
        process.currentDirectoryURL = folder.url
        var environment = ProcessInfo.processInfo.environment
        environment["FAULTLINE_BIN"] = FaultlineProcess.executablePath
        environment.removeValue(forKey: "GITHUB_ENV")
        process.environment = environment
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
    }

    @Test func startPrintsTheURLAndStopPrintsTheVerdict() throws {
        let folder = try TemporaryFolder()
        try folder.write(
            "s.yaml",
            "version: 1\nrules:\n  - {name: ping, path: /ping, body: pong}\nexpect:\n  - {rule: ping, count: 2}\n"
        )
        let started = try self.script("faultline-start", ["s.yaml"], in: folder)
        #expect(started.status == 0, "\(started.stderr)")
        let url = try #require(
            started.stdout.split(separator: "\n").first { $0.hasPrefix("FAULTLINE_URL=") }?.dropFirst(14)
        )
        #expect(try Curl.run(["-s", "\(url)/ping"]).stdout == "pong")
        let unmet = try self.script("faultline-stop", [], in: folder)
        #expect(unmet.status == 1)
        #expect(unmet.stdout.contains("FAIL ping count: 1 request; expected exactly 2."))

        _ = try self.script("faultline-start", ["s.yaml"], in: folder)
        let env = try String(contentsOfFile: folder.path(".faultline/env"), encoding: .utf8)
        let again = String(env.split(separator: "\n").first { $0.hasPrefix("FAULTLINE_URL=") }?.dropFirst(14) ?? "")
        _ = try Curl.run(["-s", "\(again)/ping"])
        _ = try Curl.run(["-s", "\(again)/ping"])
        let met = try self.script("faultline-stop", [], in: folder)
        #expect(met.status == 0)
        #expect(met.stdout.contains("faultline: 1 of 1 expectation met"))
        #expect(try self.script("faultline-stop", [], in: folder).status == 1, "nothing left to stop")
    }

    @Test func everyPortIsFreeAndTheAdminTokenIsSentAlong() throws {
        let folder = try TemporaryFolder()
        try folder.write(
            "s.yaml",
            "version: 1\nlisteners:\n  - {port: 1}\n  - {port: 2, tls: auto}\nrules:\n  - {name: ping, path: /ping}\nexpect:\n  - {rule: ping, never: true}\n"
        )
        let started = try self.script("faultline-start", ["s.yaml", "--admin-token", "sesame"], in: folder)
        #expect(started.status == 0, "\(started.stderr)")
        let lines = started.stdout.split(separator: "\n")
        let url = try #require(lines.first { $0.hasPrefix("FAULTLINE_URL=") }?.dropFirst(14))
        let https = try #require(lines.first { $0.hasPrefix("FAULTLINE_HTTPS_URL=") }?.dropFirst(20))
        #expect(!url.hasSuffix(":1") && !https.hasSuffix(":2"), "\(url) \(https)")
        let met = try self.script("faultline-stop", [], in: folder)
        #expect(met.status == 0, "\(met.stderr)")
        #expect(met.stdout.contains("faultline: 1 of 1 expectation met"))

        // Without the token there is no verdict, and no verdict is a failure, not a pass.
        _ = try self.script("faultline-start", ["s.yaml", "--admin-token=sesame"], in: folder)
        try FileManager.default.removeItem(atPath: folder.path(".faultline/token"))
        let refused = try self.script("faultline-stop", [], in: folder)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("no verdict that says met"))
    }

    /// Without FAULTLINE_BIN or a faultline on the PATH, faultline-start falls back to a release build of this
    /// checkout, and says so before it starts one. A stand-in `swift` records what it was asked and fails the build.
    @Test func startSaysBeforeItStartsALongReleaseBuild() throws {
        let folder = try TemporaryFolder()
        let tools = folder.path("tools")
        try FileManager.default.createDirectory(atPath: tools, withIntermediateDirectories: true)
        let log = folder.path("swift.log")
        let fakeSwift = try folder.write(
            "tools/swift",
            """
            #!/usr/bin/env bash
            echo "swift $*" >> \(log)
            case "$*" in *--show-bin-path*) echo "\(folder.path("no-build"))" ;; *) echo "building (stand-in)" >&2; exit 3 ;; esac
            """
        )
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: fakeSwift)
        let process = Process()
        process.executableURL = Self.root.appendingPathComponent("scripts/faultline-start")
        process.currentDirectoryURL = folder.url
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("FAULTLINE_") }
        environment.removeValue(forKey: "GITHUB_ENV")
        // No faultline on this PATH: only the stand-in swift and the system's tools.
        environment["PATH"] = "\(tools):/usr/bin:/bin"
        process.environment = environment
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = Pipe()
        try process.run()
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus != 0)
        let warning = try #require(stderr.range(of: "faultline-start: no faultline binary"), "\(stderr)")
        #expect(stderr.contains("which takes many minutes the first time"))
        let building = try #require(stderr.range(of: "building (stand-in)"), "\(stderr)")
        #expect(warning.lowerBound < building.lowerBound, "the warning comes before the build starts")
        let calls = try String(contentsOfFile: log, encoding: .utf8)
        #expect(calls.contains("swift build -c release --product faultline"))
    }

    @Test func startReportsABadScenario() throws {
        let folder = try TemporaryFolder()
        try folder.write("bad.yaml", "version: 1\nrules:\n  - {pth: /x}\n")
        let result = try self.script("faultline-start", ["bad.yaml"], in: folder)
        #expect(result.status == 1)
        #expect(result.stderr.contains("bad.yaml:3:6: error: Unknown key 'pth' in a rule; did you mean 'path'?"))
    }
}
