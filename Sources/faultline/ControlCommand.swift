import ArgumentParser
import Foundation

/// `faultline ctl`: drives a running server's control API from a shell, for fault injection at run time.
struct ControlCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ctl",
        abstract: "Drive a running Faultline server's control API: switch rules, reset, read the journal.",
        discussion: """
            The server is --url, else $FAULTLINE_URL (set by faultline run and scripts/faultline-start), else \
            http://127.0.0.1:8080. Exits 0 on success, 1 when the server says no (an unknown rule, a refused admin \
            token, a bad scenario) or an expectation is not met, and 2 when the server cannot be reached.
            """,
        subcommands: [
            Health.self, Enable.self, Disable.self, Reset.self, Journal.self, Expectations.self, Load.self, Report.self,
        ]
    )

    @OptionGroup var connection: ControlOptions
}

/// Where the server is and how to get in; given before or after the subcommand's name.
struct ControlOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "The server's base URL (default: $FAULTLINE_URL, else http://127.0.0.1:8080).",
            valueName: "url"
        )
    )
    var url: String?

    @Option(
        name: .customLong("admin-token"),
        help: ArgumentHelp(
            "The token faultline serve was given with --admin-token (default: $FAULTLINE_ADMIN_TOKEN).",
            valueName: "token"
        )
    )
    var adminToken: String?

    @Option(
        name: .customLong("ca-file"),
        help: ArgumentHelp(
            "A CA certificate (PEM) to trust for an https URL (default: $FAULTLINE_CA_FILE).",
            valueName: "file"
        )
    )
    var caFile: String?

    /// The client for these options, reading the environment for what the command line leaves out.
    func makeClient(
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ControlError) -> ControlClient {
        var base = self.url ?? environment["FAULTLINE_URL"].flatMap { $0.isEmpty ? nil : $0 } ?? "http://127.0.0.1:8080"
        while base.hasSuffix("/") { base.removeLast() }
        if base.hasSuffix("/__faultline") { base.removeLast("/__faultline".count) }
        guard let parsed = URL(string: base), let scheme = parsed.scheme, ["http", "https"].contains(scheme),
            parsed.host != nil
        else {
            throw ControlError.usage("'\(base)' is not a server URL; give one such as http://127.0.0.1:8080")
        }
        let token = self.adminToken ?? environment["FAULTLINE_ADMIN_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        let caFile = self.caFile ?? environment["FAULTLINE_CA_FILE"].flatMap { $0.isEmpty ? nil : $0 }
        return ControlClient(baseURL: base, adminToken: token, caFile: caFile)
    }
}

/// A `faultline ctl` subcommand: does its work through a client and reports a `ControlError` as one line on
/// standard error with its exit code.
protocol ControlSubcommand: AsyncParsableCommand {
    var connection: ControlOptions { get }
    func run(with client: ControlClient) async throws(ControlError)
}

extension ControlSubcommand {
    func run() async throws {
        do throws(ControlError) {
            try await self.run(with: try self.connection.makeClient())
        } catch {
            Console.error("faultline ctl: \(error.message)")
            throw ExitCode(error.exitCode)
        }
    }
}
