import FaultlineTestSupport
import Foundation
import Testing

/// `faultline ctl` against a real `faultline serve`, as a shell script driving an outage would use it.
@Suite("faultline ctl", .serialized)
final class ControlCommandTests {
    static let scenario = """
        version: 1
        rules:
          - {name: pay-outage, path: /api/pay, status: 503, retryAfter: 1, enabled: false}
          - {name: pay, path: /api/pay, json: {paid: true}}
          - {name: orders, path: /api/orders, json: {orders: []}}
        expect:
          - {rule: orders, count: {min: 1}}
        """

    let folder: TemporaryFolder
    let server: FaultlineProcess
    let url: String

    init() throws {
        self.folder = try TemporaryFolder()
        let scenario = try self.folder.write("outage.yaml", Self.scenario)
        self.server = try FaultlineProcess(["serve", scenario, "--port", "0"])
        self.url = try #require(try self.server.waitUntilListening().first)
    }

    deinit {
        self.server.signal()
        self.server.waitForExit()
    }

    /// The environment without any FAULTLINE_ variable of the process running the tests, plus `extra`.
    static func environment(_ extra: [String: String] = [:]) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("FAULTLINE_") }
        environment.merge(extra) { _, new in new }
        return environment
    }

    func ctl(
        _ arguments: [String],
        environment: [String: String] = ControlCommandTests.environment()
    ) throws -> (status: Int32, stdout: String, stderr: String) {
        try FaultlineProcess.run(["ctl"] + arguments, environment: environment)
    }

    func status(_ path: String) throws -> String {
        try Curl.run(["-s", "-o", "/dev/null", "-w", "%{http_code}", self.url + path]).stdout
    }

    @Test func healthPrintsTheServersHealth() throws {
        let result = try self.ctl(["--url", self.url, "health"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix(#"{"status":"ok","rules":3,"#), "\(result.stdout)")
        #expect(result.stdout.hasSuffix("\n"))
    }

    @Test func theURLComesFromFAULTLINE_URLAndMayFollowTheSubcommand() throws {
        let fromEnvironment = try self.ctl(["health"], environment: Self.environment(["FAULTLINE_URL": self.url]))
        #expect(fromEnvironment.status == 0, "\(fromEnvironment.stderr)")
        let afterSubcommand = try self.ctl(["health", "--url", self.url + "/"])
        #expect(afterSubcommand.status == 0, "\(afterSubcommand.stderr)")
    }

    @Test func enableAndDisableDriveAnOutage() throws {
        #expect(try self.status("/api/pay") == "200")
        let enabled = try self.ctl(["--url", self.url, "enable", "pay-outage"])
        #expect(enabled.status == 0, "\(enabled.stderr)")
        #expect(enabled.stdout == "enabled pay-outage (1 rule)\n")
        #expect(try self.status("/api/pay") == "503")
        let disabled = try self.ctl(["--url", self.url, "disable", "pay-outage"])
        #expect(disabled.status == 0, "\(disabled.stderr)")
        #expect(disabled.stdout == "disabled pay-outage (1 rule)\n")
        #expect(try self.status("/api/pay") == "200")
    }

    @Test func anUnknownRuleIsAnErrorNamingIt() throws {
        let result = try self.ctl(["--url", self.url, "enable", "pay-outag"])
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        #expect(
            result.stderr
                == "faultline ctl: the server has no rule called 'pay-outag' (rules are switched by their name: field)\n"
        )
    }

    @Test func anUnreachableServerExitsTwo() throws {
        // A port that was free a moment ago: nothing listens there.
        let probe = try FaultlineProcess(["serve", "--port", "0"])
        let closed = try #require(try probe.waitUntilListening().first)
        probe.signal()
        probe.waitForExit()
        let result = try self.ctl(["--url", closed, "health"])
        #expect(result.status == 2)
        #expect(
            result.stderr.hasPrefix(
                "faultline ctl: cannot reach the Faultline server at \(closed): connection refused"
            ),
            "\(result.stderr)"
        )
    }

    @Test func anHTTPSServerIsReachedWithItsCA() throws {
        let scenario = try self.folder.write(
            "tls.yaml",
            "version: 1\nlisteners:\n  - {port: 0, tls: auto}\nrules: []\n"
        )
        let caFile = self.folder.path("ca.pem")
        let server = try FaultlineProcess(["serve", scenario, "--ca-out", caFile])
        defer {
            server.signal()
            server.waitForExit()
        }
        let https = try #require(try server.waitUntilListening().first)
        #expect(https.hasPrefix("https://localhost:"))
        let trusted = try self.ctl(["--url", https, "--ca-file", caFile, "health"])
        #expect(trusted.status == 0, "\(trusted.stderr)")
        let fromEnvironment = try self.ctl(
            ["health"],
            environment: Self.environment(["FAULTLINE_URL": https, "FAULTLINE_CA_FILE": caFile])
        )
        #expect(fromEnvironment.status == 0, "\(fromEnvironment.stderr)")
        let untrusted = try self.ctl(["--url", https, "health"])
        #expect(untrusted.status == 2)
        #expect(
            untrusted.stderr.hasPrefix("faultline ctl: cannot reach the Faultline server at \(https): TLS failed"),
            "\(untrusted.stderr)"
        )
        #expect(untrusted.stderr.contains("give the CA certificate with --ca-file"))
    }

    @Test func aURLThatIsNotOneIsRefused() throws {
        let result = try self.ctl(["--url", "localhost:8080", "health"])
        #expect(result.status == 64)
        #expect(
            result.stderr
                == "faultline ctl: 'localhost:8080' is not a server URL; give one such as http://127.0.0.1:8080\n"
        )
    }

    @Test func resetAndTheJournal() throws {
        _ = try self.status("/api/orders")
        _ = try self.status("/api/pay")
        _ = try self.status("/api/orders")
        let all = try self.ctl(["--url", self.url, "journal"])
        #expect(all.status == 0, "\(all.stderr)")
        let entries = try #require(try JSONSerialization.jsonObject(with: Data(all.stdout.utf8)) as? [[String: Any]])
        #expect(entries.map { $0["rule"] as? String } == ["orders", "pay", "orders"])

        let orders = try self.ctl(["--url", self.url, "journal", "--rule", "orders"])
        let ordersEntries = try #require(
            try JSONSerialization.jsonObject(with: Data(orders.stdout.utf8)) as? [[String: Any]]
        )
        #expect(ordersEntries.count == 2)
        let firstID = try #require(entries.first?["id"] as? Int)
        let since = try self.ctl(["--url", self.url, "journal", "--since", "\(firstID)"])
        let sinceEntries = try #require(
            try JSONSerialization.jsonObject(with: Data(since.stdout.utf8)) as? [[String: Any]]
        )
        #expect(sinceEntries.map { $0["rule"] as? String } == ["pay", "orders"])

        let reset = try self.ctl(["--url", self.url, "reset"])
        #expect(reset.status == 0, "\(reset.stderr)")
        #expect(reset.stdout == "reset\n")
        #expect(try self.ctl(["--url", self.url, "journal"]).stdout == "[]\n")
    }

    @Test func expectationsExitOneUntilTheyAreMet() throws {
        _ = try self.ctl(["--url", self.url, "reset"])
        let unmet = try self.ctl(["--url", self.url, "expectations"])
        #expect(unmet.status == 1)
        #expect(unmet.stdout.hasPrefix("faultline: 0 of 1 expectation met\n"), "\(unmet.stdout)")
        #expect(unmet.stderr == "faultline ctl: an expectation is not met\n")
        _ = try self.status("/api/orders")
        let met = try self.ctl(["--url", self.url, "expectations"])
        #expect(met.status == 0, "\(met.stderr)")
        #expect(met.stdout.hasPrefix("faultline: 1 of 1 expectation met\n"))
        let json = try self.ctl(["--url", self.url, "expectations", "--json"])
        #expect(json.status == 0)
        #expect(json.stdout.hasPrefix(#"{"met":true,"results":["#))
    }

    @Test func loadReplacesTheScenarioAndABadOneIsRefusedWithItsErrors() throws {
        let good = try self.folder.write("new.yaml", "version: 1\nrules:\n  - {path: /api/pay, status: 402}\n")
        let loaded = try self.ctl(["--url", self.url, "load", good])
        #expect(loaded.status == 0, "\(loaded.stderr)")
        #expect(loaded.stdout == "loaded \(good): 1 rule\n")
        #expect(try self.status("/api/pay") == "402")

        let bad = try self.folder.write("bad.yaml", "version: 1\nrules:\n  - path: /api/pay\n    stauts: 200\n")
        let refused = try self.ctl(["--url", self.url, "load", bad])
        #expect(refused.status == 1)
        #expect(
            refused.stderr
                == "\(bad):4:5: error: Unknown key 'stauts' in a rule; did you mean 'status'?\n"
                + "faultline ctl: the server refused \(bad); it keeps serving the scenario it had\n"
        )
        #expect(try self.status("/api/pay") == "402", "the old scenario keeps serving")

        let missing = try self.ctl(["--url", self.url, "load", self.folder.path("nope.yaml")])
        #expect(missing.status == 64)
        #expect(missing.stderr == "faultline ctl: \(self.folder.path("nope.yaml")) does not exist\n")
    }

    @Test func reportWritesTheHTMLPage() throws {
        _ = try self.status("/api/orders")
        let out = self.folder.path("report.html")
        let result = try self.ctl(["--url", self.url, "report", "--out", out])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "wrote \(out)\n")
        let page = try String(contentsOfFile: out, encoding: .utf8)
        #expect(page.contains("<svg"))
        #expect(page.contains("data-id=\"1\""))
    }
}

/// `faultline ctl` against a server started with `--admin-token`.
@Suite("faultline ctl with an admin token", .serialized)
final class ControlCommandTokenTests {
    let server: FaultlineProcess
    let url: String

    init() throws {
        self.server = try FaultlineProcess(["serve", "--port", "0", "--admin-token", "sesame"])
        self.url = try #require(try self.server.waitUntilListening().first)
    }

    deinit {
        self.server.signal()
        self.server.waitForExit()
    }

    func ctl(
        _ arguments: [String],
        _ extra: [String: String] = [:]
    ) throws -> (status: Int32, stdout: String, stderr: String) {
        try FaultlineProcess.run(["ctl"] + arguments, environment: ControlCommandTests.environment(extra))
    }

    @Test func withoutTheTokenCtlSaysItIsNeeded() throws {
        let result = try self.ctl(["--url", self.url, "reset"])
        #expect(result.status == 1)
        #expect(
            result.stderr
                == "faultline ctl: the server's control API needs its admin token (401); give it with --admin-token or FAULTLINE_ADMIN_TOKEN\n"
        )
    }

    @Test func aWrongTokenIsRefused() throws {
        let result = try self.ctl(["--url", self.url, "--admin-token", "open", "reset"])
        #expect(result.status == 1)
        #expect(
            result.stderr
                == "faultline ctl: the server refused the admin token (401): it is not the one faultline serve was given\n"
        )
    }

    @Test func theTokenFromTheCommandLineOrTheEnvironmentGetsIn() throws {
        let flag = try self.ctl(["--url", self.url, "--admin-token", "sesame", "reset"])
        #expect(flag.status == 0, "\(flag.stderr)")
        let environment = try self.ctl(["health"], ["FAULTLINE_URL": self.url, "FAULTLINE_ADMIN_TOKEN": "sesame"])
        #expect(environment.status == 0, "\(environment.stderr)")
    }
}
