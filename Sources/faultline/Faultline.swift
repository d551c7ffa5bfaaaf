import ArgumentParser
import FaultlineCore

/// The `faultline` command: a mock HTTP server for testing how clients survive bad networks and bad servers.
@main
struct Faultline: AsyncParsableCommand {
    /// Lets `--access-log` stand alone (standard output), as `--access-log [FILE]` promises, before the parser sees
    /// the arguments.
    static func main() async {
        var arguments = OptionalValueArguments.normalize(
            Array(CommandLine.arguments.dropFirst()),
            options: ["--access-log"]
        )
        if arguments.first == "run", let terminator = arguments.firstIndex(of: "--") {
            RunCommand.commandAfterTerminator = Array(arguments[(terminator + 1)...])
            arguments = Array(arguments[..<terminator])
        }
        do {
            var command = try Self.parseAsRoot(arguments)
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            Self.exit(withError: error)
        }
    }

    static let configuration = CommandConfiguration(
        commandName: "faultline",
        abstract: "A mock HTTP server for testing how HTTP clients survive bad networks and bad servers.",
        version: FaultlineVersion.current,
        subcommands: [
            ServeCommand.self, RunCommand.self, RecordCommand.self, CheckCommand.self, ControlCommand.self,
            CertsCommand.self,
            DefaultScenarioCommand.self,
        ]
    )
}
