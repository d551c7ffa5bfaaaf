import FaultlineCore
import FaultlineServer
import Foundation
import Synchronization

/// `--watch`: reloads the scenario files when one of them changes. A broken edit is reported on standard error and
/// the rules that were serving keep serving.
final class ScenarioWatcher: Sendable {
    /// How often the files' modification times are read.
    static let interval: Duration = .milliseconds(300)

    private let task: Mutex<Task<Void, Never>?> = Mutex(nil)

    init(files: [String], control: ServerControl) {
        let task = Task.detached {
            var stamps = Self.stamps(files)
            while !Task.isCancelled {
                try? await Task.sleep(for: Self.interval)
                let now = Self.stamps(files)
                guard now != stamps else { continue }
                stamps = now
                switch ScenarioFiles.tryLoad(files) {
                case .success(let loaded):
                    control.replace(with: loaded.scenario, source: loaded.source)
                    Console.error(
                        "faultline: reloaded \(files.joined(separator: ", ")) (\(loaded.scenario.rules.count) rule\(loaded.scenario.rules.count == 1 ? "" : "s"))"
                    )
                case .failure(let error):
                    Console.error(error.description)
                    Console.error("faultline: the edit has errors; the previous rules keep serving")
                }
            }
        }
        self.task.withLock { $0 = task }
    }

    func stop() {
        self.task.withLock { $0?.cancel() }
    }

    /// Each file's modification time and size (a missing file counts as a change too).
    static func stamps(_ files: [String]) -> [String] {
        files.map { file in
            let attributes = try? FileManager.default.attributesOfItem(atPath: file)
            let date = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? -1
            let size = (attributes?[.size] as? NSNumber)?.int64Value ?? -1
            return "\(date)/\(size)"
        }
    }
}
