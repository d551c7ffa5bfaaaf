import ArgumentParser
import FaultlineCore
import FaultlineServer
import Foundation
import Logging

/// A running server as the CLI starts it: the scenario loaded, the CA written out, the listeners bound, the
/// readiness lines printed, the port file written, and the scenario files watched when asked.
final class ServerSession {
    let server: FaultlineServer
    /// The file the generated CA was written to, if one was.
    let caFile: String?
    private var watcher: ScenarioWatcher?
    private let options: ServeOptions

    /// Starts serving `files` with `options`; `freePorts` moves every listener to a free port when true.
    /// Readiness lines go to `report` (standard output for `serve`, standard error for `run`). `portInUseAdvice`
    /// follows "port N is in use; " when a listener's port is taken: what the user of this command can do about it.
    /// `recording` (for `faultline record`) sees every exchange that passes through to the upstream.
    init(
        files: [String],
        options: ServeOptions,
        freePorts: Bool,
        portInUseAdvice: String = "use --port 0 or --free-ports",
        recording: UpstreamRecording? = nil,
        report: (String) -> Void
    ) async throws {
        self.options = options
        let lastRule = try options.passThroughRule()
        // In front of an upstream with no scenario file, only the upstream answers (not the built-in scenario).
        let loaded =
            lastRule != nil && files.isEmpty
            ? ScenarioFiles.Loaded(
                scenario: Scenario(),
                source: ServerControl.Source(yaml: "version: 1\nrules: []\n", baseDirectory: nil)
            )
            : try ScenarioFiles.load(files)
        let logger = options.makeLogger()
        let engine = RuleEngine(
            scenario: lastRule.map { loaded.scenario.appending($0) } ?? loaded.scenario,
            seed: options.seed
        )
        let recorder: ServerRecorder
        do {
            recorder = try options.makeRecorder()
            if let report = options.report { try ReportFile.prepare(report) }
        } catch {
            Console.error("faultline: \(error)")
            throw ExitCode(1)
        }
        var listeners = try options.listeners(for: loaded.scenario)
        if freePorts {
            for index in listeners.indices { listeners[index].port = 0 }
        }
        var authority: TestCertificateAuthority?
        var caFile: String?
        if listeners.contains(where: { $0.tls?.usesGeneratedCA ?? false }) {
            do {
                let generated = try TestCertificateAuthority()
                let path = options.caOut ?? CAFile.defaultPath()
                try CAFile.write(generated.certificatePEM, to: path)
                report("faultline CA certificate: \(path)")
                authority = generated
                caFile = path
            } catch {
                Console.error("faultline: cannot write the CA certificate: \(error)")
                throw ExitCode(1)
            }
        }
        let control = ServerControl(
            live: LiveScenario(engine),
            source: loaded.source,
            recorder: recorder,
            adminToken: options.adminToken,
            adminHosts: options.adminHosts,
            seedOverride: options.seed,
            lastRule: lastRule
        )
        do {
            self.server = try await FaultlineServer.start(
                control: control,
                configuration: FaultlineServer.Configuration(
                    listeners: listeners,
                    limitOverrides: options.limitOverrides,
                    certificateAuthority: authority,
                    eventLoopThreads: options.threads,
                    logger: logger,
                    recording: recording
                )
            )
        } catch ServerError.portInUse(_, let port) {
            // Said this way and nothing else: the one thing to do about it.
            Console.error("faultline: port \(port) is in use; \(portInUseAdvice)")
            throw ExitCode(1)
        } catch {
            Console.error("faultline: \(error)")
            throw ExitCode(1)
        }
        // Said once the server runs: a run that never started has nothing to replay.
        if engine.usesRandomness, engine.seedWasDrawn {
            Console.error(
                "faultline: no seed was given; using seed \(engine.seed) (replay this run with --seed \(engine.seed))"
            )
        }
        self.caFile = caFile
        if let portFile = options.portFile {
            do {
                try PortFile.write(self.server.listeners.map(\.port), to: portFile)
            } catch {
                Console.error("faultline: cannot write the port file \(portFile): \(error.localizedDescription)")
                await self.server.shutdown(gracePeriod: .zero)
                throw ExitCode(1)
            }
        }
        for listener in self.server.listeners {
            report(Self.readinessLine(for: listener))
        }
        if options.watch, !files.isEmpty {
            self.watcher = ScenarioWatcher(files: files, control: control)
        }
    }

    /// `faultline listening on URL`, and for a TLS fault listener ` (tls fault: NAME)` after the URL, so the lines
    /// of several fault listeners can be told apart (scripts read the URL as the fourth word).
    static func readinessLine(for listener: BoundListener) -> String {
        var line = "faultline listening on \(listener.url)"
        if case .fault(let fault) = listener.spec.tls?.source {
            line += " (tls fault: \(fault.rawValue))"
        }
        return line
    }

    /// The first plaintext listener's URL.
    var url: String? { self.server.listeners.first { !$0.isTLS }?.url }
    /// The first TLS listener's URL.
    var httpsURL: String? { self.server.listeners.first { $0.isTLS }?.url }

    /// Stops watching, lets responses in flight finish, stops the server, and writes the `--report`.
    func stop() async {
        self.watcher?.stop()
        await self.server.shutdown(gracePeriod: self.options.gracePeriodDuration)
        if let report = self.options.report { ReportFile.write(self.server, to: report) }
    }
}
