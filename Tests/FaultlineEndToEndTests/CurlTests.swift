import FaultlineTestSupport
import Foundation
import Testing

/// The built-in scenario seen through curl, as a newcomer would first try it.
@Suite("Built-in scenario through curl", .serialized)
final class CurlTests {
    let server: FaultlineProcess
    let url: String

    init() throws {
        self.server = try FaultlineProcess(["serve", "--port", "0"])
        self.url = try #require(try self.server.waitUntilListening().first)
    }

    deinit {
        self.server.signal()
        self.server.waitForExit()
    }

    func curl(_ arguments: String...) throws -> Curl.Result {
        try Curl.run(arguments)
    }

    @Test func statusCodesCarryTheHeadersTheyNeed() throws {
        let redirect = try self.curl("-s", "-D", "-", "-o", "/dev/null", "\(self.url)/status/307")
        #expect(redirect.stdout.hasPrefix("HTTP/1.1 307 Temporary Redirect\r\n"))
        #expect(redirect.stdout.contains("\r\nLocation: /get\r\n"))
        let busy = try self.curl("-s", "-D", "-", "-o", "/dev/null", "\(self.url)/status/503")
        #expect(busy.stdout.hasPrefix("HTTP/1.1 503 Service Unavailable\r\n"))
        #expect(busy.stdout.contains("\r\nRetry-After: 1\r\n"))
        let auth = try self.curl("-s", "-D", "-", "-o", "/dev/null", "\(self.url)/status/401")
        #expect(auth.stdout.contains("\r\nWWW-Authenticate: Basic realm=\"faultline\"\r\n"))
        let allow = try self.curl("-s", "-D", "-", "-o", "/dev/null", "\(self.url)/status/405")
        #expect(allow.stdout.contains("\r\nAllow: GET, HEAD\r\n"))
        let noContent = try self.curl("-s", "-D", "-", "\(self.url)/status/204")
        #expect(noContent.stdout.hasPrefix("HTTP/1.1 204 No Content\r\n"))
        #expect(!noContent.stdout.contains("Content-Length"))
    }

    @Test func status499IsAnEmptyReply() throws {
        let dropped = try self.curl("-s", "\(self.url)/status/499")
        #expect(dropped.exitCode == 52, "curl: (52) Empty reply from server")
    }

    @Test func redirectChainsEndAtGet() throws {
        let result = try self.curl(
            "-s",
            "-L",
            "-w",
            "\n%{http_code} %{num_redirects} %{url_effective}",
            "\(self.url)/redirect/4"
        )
        #expect(result.stdout == "ok\n\n200 4 \(self.url)/get")
    }

    @Test func delaysTakeTheirTime() throws {
        let timed = try self.curl("-s", "-o", "/dev/null", "-w", "%{time_total}", "\(self.url)/delay/500ms")
        let seconds = try #require(Double(timed.stdout))
        #expect(seconds >= 0.5 && seconds < 2.5, "took \(seconds) s")
        let bare = try self.curl("-s", "\(self.url)/delay/0.2")
        #expect(bare.stdout == "delayed 0.2\n")
    }

    @Test func timeoutOnADelayIsTheClientsProblemNotTheServers() throws {
        let impatient = try self.curl("-s", "-m", "0.3", "\(self.url)/delay/5")
        #expect(impatient.exitCode == 28, "curl: (28) Operation timed out")
        let after = try self.curl("-s", "\(self.url)/get")
        #expect(after.stdout == "ok\n")
    }

    @Test func bytesAreDeterministic() throws {
        let first = try self.curl("-s", "\(self.url)/bytes/100KiB")
        let second = try self.curl("-s", "\(self.url)/bytes/102400")
        #expect(first.stdoutBytes.count == 102_400)
        #expect(first.stdoutBytes == second.stdoutBytes)
    }

    @Test func headMatchesGet() throws {
        let head = try self.curl("-s", "-I", "\(self.url)/get")
        let get = try self.curl("-s", "-D", "-", "-o", "/dev/null", "\(self.url)/get")
        func names(_ text: String) -> [String] {
            text.split(separator: "\r\n").dropFirst().compactMap { $0.split(separator: ":").first.map(String.init) }
        }
        #expect(names(head.stdout) == names(get.stdout))
        #expect(head.stdout.contains("Content-Length: 3\r\n"))
    }

    @Test func unknownPathsExplainThemselves() throws {
        let result = try self.curl("-s", "-w", "%{http_code}", "\(self.url)/stats/200")
        #expect(result.stdout.hasSuffix("404"))
        #expect(result.stdout.contains("no rule matched GET /stats/200"))
        #expect(result.stdout.contains("Closest rules:"))
    }

    @Test func keepAliveReusesOneConnection() throws {
        let result = try self.curl(
            "-s",
            "-o",
            "/dev/null",
            "-o",
            "/dev/null",
            "-w",
            "%{num_connects}\n",
            "\(self.url)/get",
            "\(self.url)/get"
        )
        #expect(result.stdout == "1\n0\n")
    }
}
