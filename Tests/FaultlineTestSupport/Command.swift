import Foundation

/// Runs a program to completion, as a CI job would: any executable on the PATH (through `/usr/bin/env`) or a path.
public enum Command {
    /// What the program printed and how it exited.
    public struct Result: Sendable {
        public let status: Int32
        public let stdout: String
        public let stderr: String
        /// The standard output as bytes.
        public let stdoutBytes: [UInt8]

        /// The exit status (the name curl's documentation uses).
        public var exitCode: Int32 { self.status }

        /// The standard output's lines, without empty ones.
        public var lines: [String] { self.stdout.split(separator: "\n").map(String.init) }
    }

    /// Runs `PROGRAM ARGUMENTS` (found on the PATH, or a path) and waits for it, for at most `timeout` seconds.
    public static func run(_ program: String, _ arguments: [String], timeout: Double = 60) throws -> Result {
        try self.run([program] + arguments, timeout: timeout)
    }

    /// Runs `arguments` (the program first) with the environment plus `environment`; kills it after `timeout` seconds.
    public static func run(
        _ arguments: [String],
        environment: [String: String] = [:],
        timeout: Double = 120
    ) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = FileHandle.nullDevice
        try process.run()
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
            group.wait()
        }
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus,
            stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData, as: UTF8.self),
            stdoutBytes: Array(outData)
        )
    }

    /// The package's root folder (where Package.swift is).
    public static var packageRoot: String {
        var directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while directory.path != "/" {
            if FileManager.default.fileExists(atPath: directory.appendingPathComponent("Package.swift").path) {
                return directory.path
            }
            directory = directory.deletingLastPathComponent()
        }
        return FileManager.default.currentDirectoryPath
    }

    /// The Python of `.build/test-venv` with the test clients of `scripts/test-requirements.txt` installed; made by
    /// `scripts/test-venv` (from PyPI) on first use, so `swift test` alone works too.
    public static func testPython() throws -> String {
        try self.testVenv.get()
    }

    private static let testVenv: Swift.Result<String, ProcessError> = {
        let root = Command.packageRoot
        do {
            let made = try Command.run(["bash", root + "/scripts/test-venv"], timeout: 600)
            guard made.status == 0 else {
                return .failure(ProcessError(message: "scripts/test-venv failed: \(made.stderr)"))
            }
        } catch {
            return .failure(ProcessError(message: "cannot run scripts/test-venv: \(error)"))
        }
        let path = root + "/.build/test-venv/bin/python"
        guard FileManager.default.isExecutableFile(atPath: path) else {
            return .failure(ProcessError(message: "\(path) is missing after scripts/test-venv"))
        }
        return .success(path)
    }()
}
