import FaultlineTestSupport
import Foundation
import Testing

/// The control API's exposure rules through the real executable and curl: the built-in scenario's server serves no
/// file through a `PUT scenario`, answers loopback names and `--admin-host` names only, and takes no change from
/// another site's page.
@Suite("Control API exposure through curl", .serialized)
final class ControlAPIExposureTests {
    let server: FaultlineProcess
    let url: String
    let port: String

    init() throws {
        self.server = try FaultlineProcess(["serve", "--port", "0", "--admin-host", "faultline.test"])
        self.url = try #require(try self.server.waitUntilListening().first)
        self.port = String(self.url.split(separator: ":").last ?? "")
    }

    deinit {
        self.server.signal()
        self.server.waitForExit()
    }

    func curl(_ arguments: String...) throws -> Curl.Result {
        try Curl.run(["-s", "-o", "-", "-w", "\n%{http_code}"] + arguments)
    }

    @Test func thePutOfAShadowFileIsRefused() throws {
        let put = try self.curl(
            "-X",
            "PUT",
            "--data-binary",
            "version: 1\nrules:\n  - {path: /x, bodyFile: etc/shadow}\n",
            "\(self.url)/__faultline/scenario"
        )
        #expect(put.stdout.hasSuffix("\n400"))
        #expect(put.stdout.contains("error: The body file 'etc/shadow' cannot be used here"))
        #expect(try self.curl("\(self.url)/x").stdout.hasSuffix("\n404"), "the built-in scenario still serves")
    }

    @Test func hostsAndOriginsDecideWhoMayReset() throws {
        #expect(
            try self.curl("-X", "POST", "-H", "Host: evil.example", "\(self.url)/__faultline/reset").stdout.hasSuffix(
                "\n403"
            )
        )
        #expect(
            try self.curl("-X", "POST", "-H", "Origin: https://evil.example", "\(self.url)/__faultline/reset").stdout
                .hasSuffix("\n403")
        )
        #expect(
            try self.curl("-X", "POST", "-H", "Host: faultline.test:\(self.port)", "\(self.url)/__faultline/reset")
                .stdout.hasSuffix("\n200")
        )
        #expect(
            try self.curl("-X", "POST", "\(self.url)/__faultline/reset").stdout.hasSuffix("\n200"),
            "curl as it comes keeps working"
        )
        #expect(
            try self.curl("-X", "POST", "http://localhost:\(self.port)/__faultline/reset").stdout.hasSuffix("\n200")
        )
    }
}
