import ArgumentParser
import FaultlineCore

/// Loads the scenario a command serves: the given files merged, or the built-in scenario.
enum ScenarioFiles {
    /// Prints every problem on standard error and exits 1 when the scenario is invalid.
    static func load(_ files: [String]) throws -> Scenario {
        do {
            return files.isEmpty ? try DefaultScenario.load() : try ScenarioLoader.load(files: files)
        } catch {
            Console.error(error.description)
            throw ExitCode(1)
        }
    }
}
