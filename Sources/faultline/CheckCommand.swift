import ArgumentParser
import FaultlineCore

/// `faultline check`: validates scenario files without serving them.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate scenario files: print every error, or one summary line per valid file.",
        discussion: "Errors print as FILE:LINE:COLUMN: error: MESSAGE. Exits 1 when any file has an error."
    )

    @Argument(help: "Scenario files to check.", completion: .file(extensions: ["yaml", "yml"]))
    var files: [String]

    func run() throws {
        var failed = false
        for file in self.files {
            do {
                let scenario = try ScenarioLoader.load(files: [file])
                Console.output("\(file): ok, \(ScenarioSummary.describe(scenario))")
            } catch {
                failed = true
                Console.error(error.description)
            }
        }
        if failed { throw ExitCode(1) }
    }
}

/// One line describing a valid scenario.
enum ScenarioSummary {
    static func describe(_ scenario: Scenario) -> String {
        let rules = scenario.rules.count
        var parts = ["\(rules) rule\(rules == 1 ? "" : "s")"]
        let listeners = scenario.listeners.count
        if listeners > 0 { parts.append("\(listeners) listener\(listeners == 1 ? "" : "s")") }
        if let seed = scenario.seed { parts.append("seed \(seed)") }
        if let name = scenario.name { parts.insert("'\(name)'", at: 0) }
        return parts.joined(separator: ", ")
    }
}
