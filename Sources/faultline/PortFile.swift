import Foundation

/// Writes the `--port-file`: one port per line in listener order, replaced atomically so a script polling for it
/// never reads half a file.
enum PortFile {
    static func write(_ ports: [Int], to path: String) throws {
        let text = ports.map(String.init).joined(separator: "\n") + "\n"
        try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}
