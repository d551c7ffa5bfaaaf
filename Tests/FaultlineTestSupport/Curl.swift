import Foundation

/// Runs the real `curl` command line client, as a user would.
public enum Curl {
    /// What curl printed and how it exited.
    public typealias Result = Command.Result

    /// Runs `curl ARGUMENTS` and waits for it.
    public static func run(_ arguments: [String], timeout: Double = 60) throws -> Result {
        try Command.run(["curl"] + arguments, timeout: timeout)
    }
}
