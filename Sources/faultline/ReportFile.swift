import FaultlineServer
import Foundation

/// The `--report FILE.html` of `run` and `serve`: checked when the server starts, so a path that cannot be written
/// fails before the command under test runs, and written when the server stops, whatever the verdict.
enum ReportFile {
    /// Creates (or empties) the file, or says why it cannot.
    static func prepare(_ path: String) throws(OptionError) {
        guard FileManager.default.createFile(atPath: path, contents: Data()) else {
            throw OptionError(message: "cannot write the report to \(path) (is its folder there and writable?)")
        }
    }

    /// Writes the report of the journal and the verdict, and says where on standard error.
    static func write(_ server: FaultlineServer, to path: String) {
        let html = server.control.report()
        do {
            try Data(html.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
            Console.error("faultline: report written to \(path)")
        } catch {
            Console.error("faultline: cannot write the report to \(path): \(error.localizedDescription)")
        }
    }
}
