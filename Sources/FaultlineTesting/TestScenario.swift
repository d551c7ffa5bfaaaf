public import FaultlineCore
import FaultlineServer
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

    /// The text the control API's `GET scenario` shows, and the folder paths in a `PUT` are held to (none for the
    /// built-in scenario or one loaded already: such a `PUT` may name no file).
    var source: ServerControl.Source {
        let currentDirectory = FileManager.default.currentDirectoryPath
        switch self {
        case .yaml(let text, let baseDirectory):
            return ServerControl.Source(yaml: text, baseDirectory: baseDirectory ?? currentDirectory)
        case .file(let path):
            return ServerControl.Source(
                yaml: (try? String(contentsOfFile: path, encoding: .utf8)) ?? "",
                baseDirectory: URL(fileURLWithPath: path).deletingLastPathComponent().path
            )
        case .builtIn:
            return ServerControl.Source(yaml: DefaultScenario.yaml, baseDirectory: nil)
        case .loaded:
            return ServerControl.Source(yaml: "", baseDirectory: nil)
        }
    }
}
