import Foundation

/// Runs the real `curl` command line client, as a user would.
public enum Curl {
    /// What curl printed and how it exited.
    public struct Result: Sendable {
        public let exitCode: Int32
        public let stdout: String
        public let stderr: String
        public let stdoutBytes: [UInt8]
    }

    /// Runs `curl ARGUMENTS` and waits for it.
    public static func run(_ arguments: [String], timeout: Double = 60) throws -> Result {
        let result = try Command.run(["curl"] + arguments, timeout: timeout)
        return Result(exitCode: result.status, stdout: result.stdout, stderr: result.stderr, stdoutBytes: result.stdoutBytes)
    }
}
