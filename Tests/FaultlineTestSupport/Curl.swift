import Foundation

/// Runs the real `curl` command line client, as a user would.
public enum Curl {
    /// What curl printed and how it exited.
    public typealias Result = Command.Result

    /// Runs `curl ARGUMENTS` and waits for it.
    public static func run(_ arguments: [String], timeout: Double = 60) throws -> Result {
        try Command.run("curl", arguments, timeout: timeout)
    }
}

/// Runs a real client program (curl, nghttp, a Python client) and collects what it printed.
public enum Command {
    /// What the program printed and how it exited.
    public struct Result: Sendable {
        public let exitCode: Int32
        public let stdout: String
        public let stderr: String
        public let stdoutBytes: [UInt8]
    }

    /// Runs `PROGRAM ARGUMENTS` (found on the PATH, or a path) and waits for it, for at most `timeout` seconds.
    public static func run(_ program: String, _ arguments: [String], timeout: Double = 60, input: String? = nil) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [program] + arguments
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        let stdin = Pipe()
        process.standardInput = stdin
        try process.run()
        if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
        try? stdin.fileHandleForWriting.close()
        // Read both pipes to the end before waiting, so a large output cannot fill a pipe and stall the program.
        let group = DispatchGroup()
        nonisolated(unsafe) var outData = Data()
        nonisolated(unsafe) var errData = Data()
        group.enter()
        DispatchQueue.global().async {
            outData = stdout.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        group.enter()
        DispatchQueue.global().async {
            errData = stderr.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        if group.wait(timeout: .now() + timeout) == .timedOut {
            process.terminate()
        }
        process.waitUntilExit()
        return Result(
            exitCode: process.terminationStatus,
            stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData, as: UTF8.self),
            stdoutBytes: Array(outData)
        )
    }

    /// The package's root folder (where Package.swift is), found from the test runner's place in `.build`.
    public static var packageRoot: String {
        var directory = URL(fileURLWithPath: FaultlineProcess.executablePath).deletingLastPathComponent()
        while directory.path != "/" {
            if FileManager.default.fileExists(atPath: directory.appendingPathComponent("Package.swift").path) {
                return directory.path
            }
            directory = directory.deletingLastPathComponent()
        }
        return FileManager.default.currentDirectoryPath
    }

    /// The Python of `.build/test-venv` (made by scripts/test-venv), with the test clients installed.
    public static func testPython() throws -> String {
        let path = packageRoot + "/.build/test-venv/bin/python"
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw ProcessError(message: "\(path) is missing: run scripts/test-venv (scripts/test does) to install the Python test clients")
        }
        return path
    }
}
