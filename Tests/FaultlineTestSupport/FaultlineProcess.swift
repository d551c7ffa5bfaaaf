public import Foundation

/// The `faultline` executable built next to the test bundle, started as a child process the way a user or a CI
/// script would start it.
public final class FaultlineProcess: @unchecked Sendable {
    /// The path of the built `faultline` executable, or `$FAULTLINE_TEST_BINARY` to test another build. (Not
    /// `$FAULTLINE_BIN`: a CI job that exports it for the scripts must not swap the binary under test.)
    public static var executablePath: String {
        if let override = ProcessInfo.processInfo.environment["FAULTLINE_TEST_BINARY"] { return override }
        // The test runner lives in the build folder (.build/debug/faultlinePackageTests.xctest), beside the CLI.
        let runner = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var directory = runner.deletingLastPathComponent()
        if directory.lastPathComponent == "MacOS" || directory.lastPathComponent.hasSuffix(".xctest") {
            directory = directory.deletingLastPathComponent()
        }
        return directory.appendingPathComponent("faultline").path
    }

    public let process: Process
    private let stdoutPipe = Pipe()
    private let stderrPipe = Pipe()
    private let lock = NSLock()
    private var stdoutData = Data()
    private var stderrData = Data()

    /// Starts `faultline ARGUMENTS` with stdout and stderr captured.
    public init(_ arguments: [String], currentDirectory: String? = nil, environment: [String: String]? = nil) throws {
        self.process = Process()
        self.process.executableURL = URL(fileURLWithPath: Self.executablePath)
        self.process.arguments = arguments
        if let currentDirectory { self.process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
        if let environment { self.process.environment = environment }
        self.process.standardOutput = self.stdoutPipe
        self.process.standardError = self.stderrPipe
        self.stdoutPipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            self?.lock.withLock { self?.stdoutData.append(data) }
        }
        self.stderrPipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            self?.lock.withLock { self?.stderrData.append(data) }
        }
        try self.process.run()
    }

    deinit {
        if self.process.isRunning {
            self.process.terminate()
            self.process.waitUntilExit()
        }
        self.stdoutPipe.fileHandleForReading.readabilityHandler = nil
        self.stderrPipe.fileHandleForReading.readabilityHandler = nil
    }

    /// Everything written to standard output so far.
    public var standardOutput: String { self.lock.withLock { String(decoding: self.stdoutData, as: UTF8.self) } }

    /// Everything written to standard error so far.
    public var standardError: String { self.lock.withLock { String(decoding: self.stderrData, as: UTF8.self) } }

    /// Waits for the readiness lines (`faultline listening on URL`, with ` (tls fault: NAME)` after the URL of a TLS
    /// fault listener) and returns the URLs.
    public func waitUntilListening(count: Int = 1, timeout: Double = 30) throws -> [String] {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let urls = self.standardOutput.split(separator: "\n").compactMap { line -> String? in
                guard line.hasPrefix("faultline listening on ") else { return nil }
                return line.dropFirst("faultline listening on ".count).split(separator: " ").first.map(String.init)
            }
            if urls.count >= count { return urls }
            if !self.process.isRunning { break }
            Thread.sleep(forTimeInterval: 0.01)
        }
        throw ProcessError(
            message: "faultline did not become ready; stdout: \(self.standardOutput) stderr: \(self.standardError)"
        )
    }

    /// Sends a signal (SIGTERM by default).
    public func signal(_ number: Int32 = 15) {
        kill(self.process.processIdentifier, number)
    }

    /// Waits for the process to exit and returns its status; kills it after `timeout` seconds.
    @discardableResult
    public func waitForExit(timeout: Double = 30) -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        while self.process.isRunning, Date() < deadline {
            Thread.sleep(forTimeInterval: 0.01)
        }
        if self.process.isRunning {
            self.process.terminate()
            self.process.waitUntilExit()
        }
        // Let the pipe handlers drain what the process wrote last.
        Thread.sleep(forTimeInterval: 0.05)
        return self.process.terminationStatus
    }

    /// Runs `faultline ARGUMENTS` to completion and returns its exit status and output.
    public static func run(
        _ arguments: [String],
        currentDirectory: String? = nil,
        environment: [String: String]? = nil,
        timeout: Double = 60
    ) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = try FaultlineProcess(arguments, currentDirectory: currentDirectory, environment: environment)
        let status = process.waitForExit(timeout: timeout)
        return (status, process.standardOutput, process.standardError)
    }
}

/// A child process that did not behave.
public struct ProcessError: Error, Sendable, CustomStringConvertible {
    public let message: String

    public init(message: String) {
        self.message = message
    }

    public var description: String { self.message }
}
