import FaultlineTestSupport
import Foundation
import Testing

/// A temporary folder removed when the test ends.
final class TemporaryFolder {
    let url: URL

    init() throws {
        self.url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "faultline-e2e-\(UInt64.random(in: 0...UInt64.max))"
        )
        try FileManager.default.createDirectory(at: self.url, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: self.url)
    }

    /// Writes `text` to `name` in the folder and returns its path.
    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        let path = self.url.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func path(_ name: String) -> String { self.url.appendingPathComponent(name).path }
}

/// The `faultline` executable driven as a user drives it: readiness line, port file, exit codes, signals.
@Suite("faultline command line", .serialized)
struct CommandLineTests {
    @Test func serveWithoutAFileUsesTheBuiltInScenarioAndPrintsTheReadinessLine() throws {
        let folder = try TemporaryFolder()
        let portFile = folder.path("ports")
        let server = try FaultlineProcess(["serve", "--port", "0", "--port-file", portFile])
        let urls = try server.waitUntilListening()
        let url = try #require(urls.first)
        #expect(url.hasPrefix("http://127.0.0.1:"))
        let port = try #require(Int(url.split(separator: ":").last ?? ""))
        #expect(port > 0)
        let portFileText = try String(contentsOfFile: portFile, encoding: .utf8)
        #expect(portFileText == "\(port)\n")

        let status = try Curl.run(["-s", "-o", "/dev/null", "-w", "%{http_code}", "\(url)/status/418"])
        #expect(status.stdout == "418")
        let index = try Curl.run(["-s", "\(url)/"])
        #expect(index.stdout.contains("/status/{code}"))
        server.signal(SIGTERM)
        #expect(server.waitForExit() == 0)
    }

    @Test func sigtermLetsAResponseInFlightFinishThenExitsZero() throws {
        let folder = try TemporaryFolder()
        let scenario = try folder.write("slow.yaml", "version: 1\nrules:\n  - {path: /slow, delay: 1s, body: done}\n")
        let server = try FaultlineProcess(["serve", scenario, "--port", "0"])
        let url = try #require(try server.waitUntilListening().first)
        let client = try RawHTTPClient(port: Int(url.split(separator: ":").last ?? "") ?? 0)
        try client.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        Thread.sleep(forTimeInterval: 0.2)
        server.signal(SIGTERM)
        let response = try client.readResponse()
        #expect(response.text == "done")
        #expect(server.waitForExit() == 0)
        // No new connections once it has stopped.
        #expect(throws: (any Error).self) { try RawHTTPClient(port: Int(url.split(separator: ":").last ?? "") ?? 0) }
    }

    @Test func sigintAlsoStopsCleanly() throws {
        let server = try FaultlineProcess(["serve", "--port", "0"])
        _ = try server.waitUntilListening()
        server.signal(SIGINT)
        #expect(server.waitForExit() == 0)
    }

    @Test func aBadScenarioStopsServeBeforeItBindsAnything() throws {
        let folder = try TemporaryFolder()
        let scenario = try folder.write("bad.yaml", "version: 1\nrules:\n  - path: /x\n    stauts: 200\n")
        let portFile = folder.path("ports")
        let result = try FaultlineProcess.run(["serve", scenario, "--port", "0", "--port-file", portFile])
        #expect(result.status == 1)
        #expect(result.stderr == "\(scenario):4:5: error: Unknown key 'stauts' in a rule; did you mean 'status'?\n")
        #expect(!result.stdout.contains("listening"))
        #expect(!FileManager.default.fileExists(atPath: portFile))
    }

    @Test func checkPrintsEveryErrorOrASummary() throws {
        let folder = try TemporaryFolder()
        let good = try folder.write(
            "good.yaml",
            "version: 1\nname: demo\nseed: 3\nrules:\n  - {path: /a}\n  - {path: /b}\n"
        )
        let bad = try folder.write(
            "bad.yaml",
            "version: 1\nrules:\n  - {path: /a, status: 700}\n  - {path: /b, delay: fast}\n"
        )
        let ok = try FaultlineProcess.run(["check", good])
        #expect(ok.status == 0)
        #expect(ok.stdout == "\(good): ok, 'demo', 2 rules, seed 3\n")
        let failed = try FaultlineProcess.run(["check", good, bad])
        #expect(failed.status == 1)
        #expect(failed.stdout == "\(good): ok, 'demo', 2 rules, seed 3\n")
        let lines = failed.stderr.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines[0] == "\(bad):3:24: error: Expected a status code from 100 to 599, found 700.")
        #expect(lines[1].hasPrefix("\(bad):4:23: error: Expected a delay"))
    }

    @Test func severalFilesMergeTheirRulesInOrder() throws {
        let folder = try TemporaryFolder()
        let first = try folder.write("a.yaml", "version: 1\nrules:\n  - {path: /x, body: from-a, times: 1}\n")
        let second = try folder.write("b.yaml", "version: 1\nrules:\n  - {path: /x, body: from-b}\n")
        let server = try FaultlineProcess(["serve", first, second, "--port", "0"])
        let url = try #require(try server.waitUntilListening().first)
        #expect(try Curl.run(["-s", "\(url)/x"]).stdout == "from-a")
        #expect(try Curl.run(["-s", "\(url)/x"]).stdout == "from-b")
        server.signal()
        #expect(server.waitForExit() == 0)
    }

    @Test func listenersFromTheScenarioAndPortOverride() throws {
        let folder = try TemporaryFolder()
        let scenario = try folder.write(
            "two.yaml",
            "version: 1\nlisteners:\n  - port: 0\n  - port: 0\nrules:\n  - {path: /x, body: hi}\n"
        )
        let portFile = folder.path("ports")
        let server = try FaultlineProcess(["serve", scenario, "--port-file", portFile])
        let urls = try server.waitUntilListening(count: 2)
        #expect(urls.count == 2)
        let ports = try String(contentsOfFile: portFile, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(ports.count == 2)
        #expect(urls.map { String($0.split(separator: ":").last ?? "") } == ports)
        for url in urls {
            #expect(try Curl.run(["-s", "\(url)/x"]).stdout == "hi")
        }
        server.signal()
        #expect(server.waitForExit() == 0)
    }

    @Test func tlsPortOptionsLeaveATLSFaultListenerAlone() throws {
        let folder = try TemporaryFolder()
        let scenario = try folder.write(
            "tls.yaml",
            "version: 1\nlisteners:\n  - {port: 0, tls: {fault: expired}}\nrules:\n  - {path: /x, body: hi}\n"
        )
        let server = try FaultlineProcess([
            "serve", scenario, "--free-ports", "--tls-port", "0", "--ca-out", folder.path("ca.pem"),
        ])
        let urls = try server.waitUntilListening(count: 2)
        #expect(urls.count == 2, "the fault listener, and a TLS listener added for --tls-port")
        let fault = try #require(urls.first)
        let added = try #require(urls.last)
        #expect(try Curl.run(["-s", "--cacert", folder.path("ca.pem"), "\(fault)/x"]).exitCode == 60, "still expired")
        #expect(try Curl.run(["-s", "--cacert", folder.path("ca.pem"), "\(added)/x"]).stdout == "hi")
        server.signal()
        #expect(server.waitForExit() == 0)
    }

    @Test func aLogFileThatCannotBeOpenedIsNamed() throws {
        let folder = try TemporaryFolder()
        let result = try FaultlineProcess.run(
            ["serve", "--port", "0", "--journal", folder.path("ok.jsonl"), "--access-log", "/nonexistent/access.log"]
        )
        #expect(result.status == 1)
        #expect(result.stderr.contains("cannot open /nonexistent/access.log for writing"), "\(result.stderr)")
    }

    @Test func aPortInUseIsAClearError() throws {
        let holder = try FaultlineProcess(["serve", "--port", "0"])
        let url = try #require(try holder.waitUntilListening().first)
        let port = String(url.split(separator: ":").last ?? "")
        let result = try FaultlineProcess.run(["serve", "--port", port])
        #expect(result.status == 1)
        #expect(result.stderr == "faultline: port \(port) is in use; use --port 0 or --free-ports\n")
        holder.signal()
        holder.waitForExit()
    }

    @Test func versionHelpAndTheDefaultScenario() throws {
        let version = try FaultlineProcess.run(["--version"])
        #expect(version.status == 0)
        #expect(version.stdout.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ".").count == 3)
        let help = try FaultlineProcess.run(["--help"])
        #expect(help.status == 0)
        for command in ["serve", "check", "default-scenario"] {
            #expect(help.stdout.contains(command))
        }
        let serveHelp = try FaultlineProcess.run(["serve", "--help"])
        #expect(serveHelp.stdout.contains("--port-file"))
        let printed = try FaultlineProcess.run(["default-scenario"])
        let folder = try TemporaryFolder()
        let copy = try folder.write("copy.yaml", printed.stdout)
        #expect(try FaultlineProcess.run(["check", copy]).status == 0)
    }

    @Test func runHelpShowsTheCommandAfterTheDoubleDash() throws {
        let result = try FaultlineProcess.run(["run", "--help"])
        #expect(result.status == 0)
        #expect(
            result.stdout.contains(
                "USAGE: faultline run [<files> ...] [serve options] [--keep-ports] -- <command> [<arguments> ...]\n"
            )
        )
        #expect(result.stdout.contains("Example: faultline run orders.yaml -- swift test\n"))
    }

    /// The help's prose is wrapped by the argument parser alone: no line breaks of our own inside a paragraph,
    /// which made short lines and gaps of spaces in the middle of a sentence.
    @Test(arguments: ["run", "certs", "serve", "ctl"])
    func helpTextWrapsCleanly(_ command: String) throws {
        let result = try FaultlineProcess.run([command, "--help"])
        #expect(result.status == 0)
        let prose = result.stdout.components(separatedBy: "\nUSAGE:").first ?? ""
        for line in prose.split(separator: "\n") where !line.hasPrefix("  ") {
            #expect(!line.contains("  "), "a gap inside a line of `\(command) --help`: '\(line)'")
            #expect(line.count <= 80, "`\(command) --help` has a line over 80 columns: '\(line)'")
        }
    }

    @Test func serveHelpSaysEachDefaultOnceAndWhichListenerPortMoves() throws {
        let result = try FaultlineProcess.run(["serve", "--help"])
        #expect(result.status == 0)
        #expect(
            result.stdout.components(separatedBy: "10000").count == 2,
            "the journal size's default, once: \(result.stdout)"
        )
        #expect(result.stdout.contains("The port of the first plaintext listener; 0 picks a"))
    }

    @Test func badOptionsAreRefused() throws {
        let result = try FaultlineProcess.run(["serve", "--port", "70000"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("--port must be from 0 to 65535"))
    }

    /// `serve` is parsed on its own (a quicker start); what it refuses is still refused by the whole tool, with the
    /// whole tool's usage line.
    @Test func serveArgumentsItCannotTakeGetTheToolsOwnMessages() throws {
        let notANumber = try FaultlineProcess.run(["serve", "--port", "abc"])
        #expect(notANumber.status == 64)
        #expect(notANumber.stderr.contains("Error: The value 'abc' is invalid for '--port <port>'"))
        #expect(notANumber.stderr.contains("Usage: faultline serve [<options>] [<files> ...]"))
        let unknown = try FaultlineProcess.run(["serve", "--no-such-option"])
        #expect(unknown.status == 64)
        #expect(unknown.stderr.contains("Error: Unknown option '--no-such-option'"))
        #expect(unknown.stderr.contains("Usage: faultline serve"))
        let help = try FaultlineProcess.run(["serve", "-h"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("USAGE: faultline serve [<options>] [<files> ...]"))
    }
}

/// The example scenarios shipped in `Scenarios/` all load.
@Suite("Example scenarios")
struct ExampleScenarioTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test func everyExampleScenarioChecksOut() throws {
        let folder = Self.root.appendingPathComponent("Scenarios")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path)
            .filter { $0.hasSuffix(".yaml") }
            .sorted()
            .map { folder.appendingPathComponent($0).path }
        #expect(files.count >= 5)
        let result = try FaultlineProcess.run(["check"] + files)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.split(separator: "\n").count == files.count)
    }

    /// Editors find the schema through the modeline (DESIGN 6.7); the comment after it says what the example is for.
    @Test func everyExampleStartsWithTheSchemaModelineAndACommentSayingWhatItTests() throws {
        let folder = Self.root.appendingPathComponent("Scenarios")
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path) where name.hasSuffix(".yaml") {
            let text = try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
            #expect(
                text.hasPrefix("# yaml-language-server: $schema=../schema/scenario.schema.json\n# Tests "),
                "\(name) should start with the schema modeline, then a comment saying which client behaviour it tests"
            )
        }
    }

    @Test func checkOnAFolderChecksTheScenariosInIt() throws {
        let folder = Self.root.appendingPathComponent("Scenarios")
        let count = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".yaml") }
            .count
        let result = try FaultlineProcess.run(["check", folder.path])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == count)
        #expect(lines.allSatisfy { $0.hasPrefix(folder.path + "/") && $0.contains(".yaml: ok, ") }, "\(lines)")

        let empty = try TemporaryFolder()
        let refused = try FaultlineProcess.run(["check", empty.url.path])
        #expect(refused.status == 1)
        #expect(
            refused.stderr
                == "\(empty.url.path):1:1: error: This is a folder, not a scenario file; give the scenario files in it, "
                + "such as \(empty.url.path)/*.yaml.\n"
        )
    }

    /// The example's comment invites a stale If-Match PUT; doing it must not fail the file's own expectation.
    @Test func conditionalCachingAcceptsTheRequestsItsCommentInvites() throws {
        let scenario = Self.root.appendingPathComponent("Scenarios/conditional-caching.yaml").path
        let client = """
            set -e
            code() { curl -s -o /dev/null -w '%{http_code}' "$@"; echo; }
            code "$FAULTLINE_URL/catalog"
            code -H 'If-None-Match: "catalog-v1"' "$FAULTLINE_URL/catalog"
            code -X PUT -H 'If-Match: "catalog-v0"' --data '{}' "$FAULTLINE_URL/catalog"
            code -X PUT -H 'If-Match: "catalog-v1"' --data '{}' "$FAULTLINE_URL/catalog"
            code -H 'If-Modified-Since: Wed, 21 Oct 2026 07:28:00 GMT' "$FAULTLINE_URL/catalog"
            """
        let result = try FaultlineProcess.run(["run", scenario, "--", "bash", "-c", client])
        #expect(result.stdout == "200\n304\n412\n200\n304\n")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("faultline: 1 of 1 expectation met\n"), "\(result.stderr)")
    }
}
