import ArgumentParser
import FaultlineCore
import FaultlineServer
import Foundation

/// Loads the scenario a command serves: the given files merged, or the built-in scenario, with its text for the
/// control API's `GET scenario`.
enum ScenarioFiles {
    /// A scenario with the text it came from.
    struct Loaded {
        var scenario: Scenario
        var source: ServerControl.Source
    }

    /// Prints every problem on standard error and exits 1 when the scenario is invalid.
    static func load(_ files: [String]) throws -> Loaded {
        switch self.tryLoad(files) {
        case .success(let loaded):
            return loaded
        case .failure(let error):
            Console.error(error.description)
            throw ExitCode(1)
        }
    }

    /// Loads without printing: for reloads, whose errors are reported differently.
    static func tryLoad(_ files: [String]) -> Result<Loaded, ScenarioError> {
        do {
            if files.isEmpty {
                return .success(
                    Loaded(
                        scenario: try DefaultScenario.load(),
                        source: ServerControl.Source(yaml: DefaultScenario.yaml, baseDirectory: nil)
                    )
                )
            }
            let scenario = try ScenarioLoader.load(files: files)
            let texts = files.map { file in (file, (try? String(contentsOfFile: file, encoding: .utf8)) ?? "") }
            let yaml = texts.count == 1 ? texts[0].1 : texts.map { "# \($0.0)\n\($0.1)" }.joined(separator: "---\n")
            let directory = URL(fileURLWithPath: files[0]).deletingLastPathComponent().path
            return .success(
                Loaded(scenario: scenario, source: ServerControl.Source(yaml: yaml, baseDirectory: directory))
            )
        } catch {
            return .failure(error)
        }
    }
}
