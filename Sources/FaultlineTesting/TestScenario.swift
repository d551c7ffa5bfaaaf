public import FaultlineCore
import Foundation

/// Where a test's scenario comes from.
public enum TestScenario: Sendable {
    /// YAML text; `bodyFile` paths are relative to `baseDirectory` (the current directory when `nil`).
    case yaml(String, baseDirectory: String? = nil)
    /// A scenario file on disk.
    case file(String)
    /// The built-in default scenario.
    case builtIn
    /// A scenario already loaded.
    case loaded(Scenario)

    /// Loads the scenario, throwing `ScenarioError` with every problem when it is invalid.
    public func load() throws(ScenarioError) -> Scenario {
        switch self {
        case .yaml(let text, let baseDirectory):
            return try ScenarioLoader.load(
                yaml: text,
                name: "<test>",
                baseDirectory: baseDirectory ?? FileManager.default.currentDirectoryPath
            )
        case .file(let path):
            return try ScenarioLoader.load(files: [path])
        case .builtIn:
            return try DefaultScenario.load()
        case .loaded(let scenario):
            return scenario
        }
    }
}
