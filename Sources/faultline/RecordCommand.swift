import ArgumentParser
import FaultlineCore
import FaultlineServer
import Foundation
import Logging

/// `faultline record --upstream URL --out FILE`: passes everything through to the upstream and, when stopped, writes
/// what it saw as a scenario to edit and replay offline.
struct RecordCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record",
        abstract: "Pass requests through to an upstream and write what it answered as a scenario.",
        usage: "faultline record --upstream <url> --out <file> [serve options] [--keep-secrets]",
        discussion: """
            Serves like `faultline serve --upstream URL` (every request goes to the upstream and its answer comes \
            back) and records each answer. On SIGINT or SIGTERM it lets the requests in flight finish, then writes \
            FILE: one rule per distinct method, path and query (match.query) with the upstream's status, headers \
            (without Date, hop-by-hop and framing fields) and body (inline when it is UTF-8 text of at most 64 KiB, \
            else a bodyFile in the folder FILE-bodies/ beside it); a request repeated with different answers becomes \
            a sequence. Authorization, Cookie, Set-Cookie and Proxy-Authorization values are written as REDACTED \
            unless --keep-secrets. It prints where it wrote and how many rules.

            Example: faultline record --upstream https://api.example.com --out api.yaml --port 8080
            """
    )

    @Option(
        help: ArgumentHelp("The scenario file to write (its body files go to a folder beside it).", valueName: "file")
    )
    var out: String

    @Flag(
        name: .customLong("keep-secrets"),
        help: "Write Authorization, Cookie, Set-Cookie and Proxy-Authorization values as they were."
    )
    var keepSecrets = false

    @OptionGroup var options: ServeOptions

    func validate() throws {
        guard self.options.upstream != nil else {
            throw ValidationError(
                "Give the service to record with --upstream URL, such as --upstream https://api.example.com."
            )
        }
        let folder = Self.absolute(self.out).deletingLastPathComponent().path
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
            throw ValidationError("--out names a file in \(folder), which is not a folder.")
        }
    }

    func run() async throws {
        let signals = TerminationSignal()
        let temporary = FileManager.default.temporaryDirectory.appendingPathComponent(
            "faultline-record-\(UUID().uuidString)"
        )
        try FileManager.default.createDirectory(at: temporary, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: temporary) }
        let recording = UpstreamRecording(temporaryFolder: temporary.path)
        let session = try await ServerSession(files: [], options: self.options, freePorts: false, recording: recording)
        { line in
            Console.output(line)
        }
        let signal = await signals.wait()
        self.options.makeLogger().info("stopping", metadata: ["signal": "\(signal)"])
        await session.stop()
        let exchanges = recording.recorded()
        do {
            let written = try self.write(exchanges)
            Console.output(
                "faultline recorded \(exchanges.count) exchange\(exchanges.count == 1 ? "" : "s") as \(written.ruleCount) rule\(written.ruleCount == 1 ? "" : "s") in \(self.out)"
                    + (written.attachments.isEmpty ? "" : " (bodies in \(written.bodiesFolder)/)")
            )
        } catch {
            Console.error("faultline: cannot write \(self.out): \(error.localizedDescription)")
            throw ExitCode(1)
        }
    }

    /// Writes the scenario and its body files.
    private func write(
        _ exchanges: [RecordedExchange]
    ) throws -> (ruleCount: Int, attachments: [RecordedScenario.Attachment], bodiesFolder: String) {
        let file = Self.absolute(self.out)
        let bodiesFolder = file.deletingPathExtension().lastPathComponent + "-bodies"
        let scenario = RecordedScenario.make(
            from: exchanges,
            upstream: self.options.upstream ?? "",
            bodiesFolder: bodiesFolder,
            keepSecrets: self.keepSecrets
        )
        try scenario.write(toFile: file.path)
        return (scenario.ruleCount, scenario.attachments, bodiesFolder)
    }

    private static func absolute(_ path: String) -> URL {
        URL(
            fileURLWithPath: path,
            relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true)
        )
        .standardizedFileURL
    }
}
