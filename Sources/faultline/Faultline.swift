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
        if let serve = Self.serveCommand(arguments) {
            do {
                try await serve.run()
            } catch {
                Self.exit(withError: error)
            }
            return
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

    /// `faultline serve ARGUMENTS`, the command a test run starts, parsed as a command of its own: parsing the whole
    /// tool first reflects over every subcommand's arguments, a third of the time from start to the first answer.
    /// `nil` (the whole tool parses it, with its own messages and usage) for anything but `serve`, for help, version
    /// and completion requests, and for arguments `serve` does not take or does not validate.
    static func serveCommand(_ arguments: [String]) -> ServeCommand? {
        guard arguments.first == "serve" else { return nil }
        let rest = arguments.dropFirst()
        let asksTheTool = rest.contains { argument in
            ["-h", "--help", "help", "--version"].contains(argument) || argument.hasPrefix("--generate-completion")
                || argument.hasPrefix("--experimental")
        }
        guard !asksTheTool else { return nil }
        return (try? ServeCommand.parseAsRoot(Array(rest))) as? ServeCommand
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
