import Foundation

/// Writes to standard output and standard error without buffering, so a CI script reading a pipe sees the
/// readiness line at once, and nothing is lost when the process is killed.
enum Console {
    static func output(_ text: String, terminator: String = "\n") {
        FileHandle.standardOutput.write(Data((text + terminator).utf8))
    }

    static func error(_ text: String, terminator: String = "\n") {
        FileHandle.standardError.write(Data((text + terminator).utf8))
    }
}
