import ArgumentParser
import FaultlineCore
import Foundation

/// `faultline check`: validates scenario files without serving them.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate scenario files: print every error, or one summary line per valid file.",
        discussion: "Errors print as FILE:LINE:COLUMN: error: MESSAGE. Exits 1 when any file has an error."
    )

    @Argument(
        help: "Scenario files to check; a folder checks the .yaml and .yml files in it.",
        completion: .file(extensions: ["yaml", "yml"])
    )
    var files: [String]

    func run() throws {
        var failed = false
        for file in self.files.flatMap(Self.scenarioFiles) {
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

    /// The file itself, or for a folder the scenario files in it (not in its subfolders), sorted; a folder without
    /// any stays as it is, for the loader to say it is a folder.
    static func scenarioFiles(_ path: String) -> [String] {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue,
            let names = try? FileManager.default.contentsOfDirectory(atPath: path)
        else { return [path] }
        let folder = path.hasSuffix("/") ? path : path + "/"
        let files = names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted().map { folder + $0 }
            .filter { file in
                var isSubfolder: ObjCBool = false
                return FileManager.default.fileExists(atPath: file, isDirectory: &isSubfolder) && !isSubfolder.boolValue
            }
        return files.isEmpty ? [path] : files
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
