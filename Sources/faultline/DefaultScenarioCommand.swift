import ArgumentParser
import FaultlineCore

/// `faultline default-scenario`: prints the built-in scenario, a starting point for one's own.
struct DefaultScenarioCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "default-scenario",
        abstract: "Print the built-in scenario that 'serve' uses when given no file."
    )

    func run() {
        Console.output(DefaultScenario.yaml, terminator: "")
    }
}
