import ArgumentParser
import FaultlineCore

/// The `faultline` command: a mock HTTP server for testing how clients survive bad networks and bad servers.
@main
struct Faultline: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "faultline",
        abstract: "A mock HTTP server for testing how HTTP clients survive bad networks and bad servers.",
        version: FaultlineVersion.current,
        subcommands: [ServeCommand.self, CheckCommand.self, DefaultScenarioCommand.self]
    )
}
