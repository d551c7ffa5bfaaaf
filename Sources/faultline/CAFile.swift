import Foundation

/// The generated CA's certificate file that clients are pointed at (`--ca-out`).
enum CAFile {
    /// A fresh path in the system's temporary folder.
    static func defaultPath() -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "faultline-\(ProcessInfo.processInfo.processIdentifier)"
        )
        return folder.appendingPathComponent("ca.pem").path
    }

    /// Writes the PEM, creating the folder if needed.
    static func write(_ pem: String, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(pem.utf8).write(to: url, options: .atomic)
    }
}
