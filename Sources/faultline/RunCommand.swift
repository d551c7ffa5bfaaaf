import ArgumentParser
import FaultlineCore
import FaultlineServer
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `faultline run SCENARIO... -- COMMAND`: serves the scenario around a command (a client's test suite), then says
/// whether the client behaved as the scenario's `expect:` asks.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Serve scenarios while a command runs, then check the scenario's expectations.",
        usage: "faultline run [<files> ...] [serve options] [--keep-ports] -- <command> [<arguments> ...]",
        discussion: """
            Starts the server (every listener on a free port unless --keep-ports), then runs the command after \
            -- with FAULTLINE_URL, FAULTLINE_HTTPS_URL and FAULTLINE_CA_FILE in its environment (URLs without a \
            trailing slash; the last two only when there is a TLS listener or a generated CA). It forwards the \
            command's output and the signals it gets, stops the server gracefully, checks `expect:` against the \
            journal and prints a report on standard error (and, with --report FILE.html, writes the run as a page, \
            whatever the verdict).

            Exits with the command's code when it failed, 1 when it passed but an expectation did not, else 0.

            Example: faultline run orders.yaml -- swift test
            """
    )

    @Argument(
        help: "Scenario files; the built-in scenario when none is given.",
        completion: .file(extensions: ["yaml", "yml"])
    )
    var files: [String] = []

    @OptionGroup var options: ServeOptions

    @Flag(
        name: .customLong("keep-ports"),
        help: "Keep the scenario's and the command line's ports instead of free ones."
    )
    var keepPorts = false

    /// The command after `--`. swift-argument-parser cannot take two lists of positional arguments, so `main` splits
    /// the command line at the first `--` and leaves the command here before parsing the rest.
    nonisolated(unsafe) static var commandAfterTerminator: [String] = []

    var command: [String] { Self.commandAfterTerminator }

    func validate() throws {
        if self.command.isEmpty {
            throw ValidationError(
                "Give the command to run after --, such as: faultline run scenario.yaml -- swift test"
            )
        }
    }

    func run() async throws {
        let signals = TerminationSignal()
        let session = try await ServerSession(
            files: self.files,
            options: self.options,
            freePorts: !self.keepPorts,
            portInUseAdvice: "use --port 0 or leave out --keep-ports"
        ) { line in
            Console.error(line)
        }
        var environment = ProcessInfo.processInfo.environment
        environment["FAULTLINE_URL"] = session.url
        environment["FAULTLINE_HTTPS_URL"] = session.httpsURL
        environment["FAULTLINE_CA_FILE"] = session.caFile
        let status: Int32
        do {
            status = try await ChildProcess.run(self.command, environment: environment, signals: signals)
        } catch {
            Console.error("faultline: cannot run \(self.command[0]): \(error.localizedDescription)")
            await session.stop()
            throw ExitCode(127)
        }
        await session.stop()
        let report = session.server.control.expectations()
        Console.error(report.text, terminator: "")
        if status != 0 {
            Console.error("faultline: the command exited with \(status)")
            throw ExitCode(status)
        }
        if !report.allMet {
            throw ExitCode(1)
        }
    }
}

/// Runs the command under test with the terminal's standard streams, passing SIGINT and SIGTERM on to it.
enum ChildProcess {
    /// The command's exit status, or 128 + the signal that ended it, as a shell reports it.
    static func run(
        _ command: [String],
        environment: [String: String],
        signals: TerminationSignal
    ) async throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command
        process.environment = environment
        let finished = AsyncStream.makeStream(of: Void.self)
        process.terminationHandler = { _ in
            finished.continuation.yield()
            finished.continuation.finish()
        }
        try process.run()
        let pid = process.processIdentifier
        let forwarding = Task {
            while let name = await signals.next() {
                kill(pid, name == "SIGINT" ? SIGINT : SIGTERM)
            }
        }
        for await _ in finished.stream {}
        forwarding.cancel()
        process.waitUntilExit()
        switch process.terminationReason {
        case .exit: return process.terminationStatus
        case .uncaughtSignal: return 128 + process.terminationStatus
        @unknown default: return process.terminationStatus
        }
    }
}
