import ArgumentParser
import FaultlineCore
import FaultlineServer
import Foundation
import Logging

/// `faultline serve`: serves scenario files (or the built-in scenario) until SIGINT or SIGTERM.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve scenario files, or the built-in scenario when none is given.",
        discussion: """
            Prints one line per listener on standard output once it accepts connections:

              faultline listening on http://127.0.0.1:PORT
              faultline listening on https://localhost:PORT (tls fault: expired)

            SIGINT and SIGTERM stop accepting, let responses in flight finish (up to --grace-period), write the
            --report page when asked, and exit 0.
            """
    )

    @Argument(
        help: "Scenario files; their rules are tried in the order given.",
        completion: .file(extensions: ["yaml", "yml"])
    )
    var files: [String] = []

    @OptionGroup var options: ServeOptions

    @Flag(
        name: .customLong("free-ports"),
        help: "Put every listener, TLS ones included, on a free port (the readiness lines and --port-file say which)."
    )
    var freePorts = false

    func run() async throws {
        let signals = TerminationSignal()
        let session = try await ServerSession(files: self.files, options: self.options, freePorts: self.freePorts) {
            line in
            Console.output(line)
        }
        let signal = await signals.wait()
        self.options.makeLogger().info("stopping", metadata: ["signal": "\(signal)"])
        await session.stop()
    }
}

/// Options shared by the commands that run a server.
struct ServeOptions: ParsableArguments {
    @Option(help: "The address every listener binds (default: the scenario's, else 127.0.0.1).")
    var host: String?

    @Option(help: "The port of the first plaintext listener; 0 picks a free one (default: the scenario's, else 8080).")
    var port: Int?

    @Option(
        name: .customLong("tls-port"),
        help: "The port of the first TLS listener (added, with a generated certificate, when the scenario has none)."
    )
    var tlsPort: Int?

    @Flag(
        name: .customLong("http2"),
        help:
            "Speak HTTP/2 on every listener that does not set http2 itself: h2 by ALPN on TLS, prior knowledge and Upgrade: h2c in plaintext."
    )
    var http2 = false

    @Option(help: "A PEM certificate (or chain) for the TLS listener of --tls-port.")
    var cert: String?

    @Option(help: "The PEM private key for --cert.")
    var key: String?

    @Option(
        name: .customLong("ca-out"),
        help: "Where to write the generated test CA's certificate (default: a temporary folder)."
    )
    var caOut: String?

    @Option(name: .customLong("port-file"), help: "Write the real port of each listener, one per line, to this file.")
    var portFile: String?

    @Option(help: "The seed for every random choice (overrides the scenario's seed).")
    var seed: UInt64?

    @Option(name: .customLong("max-body-size"), help: "The largest request body (413 beyond), such as 10MiB.")
    var maxBodySize: String?

    @Option(name: .customLong("max-uri-length"), help: "The longest request target (414 beyond), such as 8KiB.")
    var maxURILength: String?

    @Option(
        name: .customLong("max-header-size"),
        help: "The largest request header section (431 beyond), such as 64KiB."
    )
    var maxHeaderSize: String?

    @Option(
        name: .customLong("request-timeout"),
        help: "How long a request head may take to arrive (408 beyond), such as 30s."
    )
    var requestTimeout: String?

    @Option(help: "Append every exchange to this file as a JSON line as it ends.")
    var journal: String?

    @Option(help: "Write the run as an HTML page (verdict, timeline, journal) to this file when the server stops.")
    var report: String?

    @Option(name: .customLong("journal-size"), help: "How many exchanges the in-memory journal keeps.")
    var journalSize: Int = 10_000

    @Option(
        name: .customLong("journal-memory"),
        help: "The most memory the in-memory journal's entries may take, such as 64MiB; the oldest entries go first."
    )
    var journalMemory: String = "64MiB"

    @Option(
        name: .customLong("access-log"),
        help: "Write an access log in nginx's combined format to this file ('-' or no value: standard output)."
    )
    var accessLog: String?

    @Option(help: "Event loop threads (default: one per core).")
    var threads: Int?

    @Option(name: .customLong("grace-period"), help: "How long SIGTERM waits for responses in flight, such as 10s.")
    var gracePeriod: String = "10s"

    @Option(
        name: .customLong("admin-token"),
        help: "Open the control API to any client that sends 'Authorization: Bearer TOKEN' (otherwise loopback only)."
    )
    var adminToken: String?

    @Option(
        name: .customLong("admin-host"),
        help: ArgumentHelp(
            "A host name the control API answers to besides loopback names and the listener's address; repeatable.",
            valueName: "name"
        )
    )
    var adminHosts: [String] = []

    @Flag(help: "Reload the scenario files when they change; a broken edit is reported and the old rules keep serving.")
    var watch = false

    @Option(
        help: ArgumentHelp(
            "Append a last rule that forwards every request no other rule takes to this upstream (http:// or https://, "
                + "optionally with a base path): Faultline in front of a real service.",
            valueName: "url"
        )
    )
    var upstream: String?

    @Option(
        name: .customLong("upstream-ca"),
        help: "With --upstream: the PEM file of the CA that signs the upstream's certificate."
    )
    var upstreamCA: String?

    @Flag(name: .customLong("upstream-insecure"), help: "With --upstream: do not check the upstream's certificate.")
    var upstreamInsecure = false

    @Option(
        name: .customLong("upstream-timeout"),
        help: "With --upstream: how long the upstream may take to send its head (504 beyond), such as 30s."
    )
    var upstreamTimeout: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    func validate() throws {
        if let port, !(0...65535).contains(port) {
            throw ValidationError("--port must be from 0 to 65535.")
        }
        if let tlsPort, !(0...65535).contains(tlsPort) {
            throw ValidationError("--tls-port must be from 0 to 65535.")
        }
        if (self.cert == nil) != (self.key == nil) {
            throw ValidationError("--cert and --key go together.")
        }
        if let cert, let key, let problem = CertificateFiles.problems(certificate: cert, key: key).first {
            throw ValidationError(problem.message)
        }
        if self.journalSize < 1 {
            throw ValidationError("--journal-size must be at least 1.")
        }
        if (ByteCount.parse(self.journalMemory) ?? 0) <= 0 {
            throw ValidationError("--journal-memory takes a size larger than zero, such as 64MiB.")
        }
        if let threads, threads < 1 {
            throw ValidationError("--threads must be at least 1.")
        }
        if DurationSyntax.parse(self.gracePeriod) == nil {
            throw ValidationError("--grace-period takes a duration with a unit, such as 10s or 500ms.")
        }
        for (flag, value) in [
            ("--max-body-size", self.maxBodySize), ("--max-uri-length", self.maxURILength),
            ("--max-header-size", self.maxHeaderSize),
        ] {
            if let value, ByteCount.parse(value) == nil {
                throw ValidationError("\(flag) takes a size such as 512, 16KiB or 10MiB.")
            }
        }
        if let requestTimeout, (DurationSyntax.parse(requestTimeout) ?? .zero) <= .zero {
            throw ValidationError("--request-timeout takes a duration longer than zero, such as 30s.")
        }
        if Logger.Level(rawValue: self.logLevel) == nil {
            throw ValidationError("--log-level takes trace, debug, info, notice, warning, error or critical.")
        }
        _ = try self.passThroughRule()
    }

    /// The rule `--upstream` appends, if it is given.
    func passThroughRule() throws -> Rule? {
        guard let upstream else {
            if self.upstreamCA != nil || self.upstreamInsecure || self.upstreamTimeout != nil {
                throw ValidationError("--upstream-ca, --upstream-insecure and --upstream-timeout go with --upstream.")
            }
            return nil
        }
        let url: UpstreamURL
        switch UpstreamURL.parse(upstream) {
        case .success(let parsed): url = parsed
        case .failure(let problem): throw ValidationError("--upstream takes an http:// or https:// URL: \(problem).")
        }
        var spec = ProxySpec(upstream: url)
        if let upstreamTimeout {
            guard let timeout = DurationSyntax.parse(upstreamTimeout), timeout > .zero else {
                throw ValidationError("--upstream-timeout takes a duration longer than zero, such as 30s.")
            }
            spec.timeout = timeout
        }
        if (self.upstreamCA != nil || self.upstreamInsecure) && !url.isTLS {
            throw ValidationError("--upstream-ca and --upstream-insecure apply to an https:// upstream.")
        }
        if let upstreamCA {
            if self.upstreamInsecure {
                throw ValidationError("--upstream-ca and --upstream-insecure exclude each other.")
            }
            let path = URL(
                fileURLWithPath: upstreamCA,
                relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true)
            )
            .standardizedFileURL.path
            if let problem = CertificateFiles.problemWithCA(path) { throw ValidationError(problem) }
            spec.trust = .certificateAuthority(file: path)
        } else if self.upstreamInsecure {
            spec.trust = .none
        }
        return Rule.passThrough(to: spec)
    }

    /// The limits given on the command line.
    var limitOverrides: LimitOverrides {
        LimitOverrides(
            maxBodySize: self.maxBodySize.flatMap(ByteCount.parse),
            maxURILength: self.maxURILength.flatMap(ByteCount.parse),
            maxHeaderSize: self.maxHeaderSize.flatMap(ByteCount.parse),
            requestTimeout: self.requestTimeout.flatMap { DurationSyntax.parse($0) }
        )
    }

    var gracePeriodDuration: Duration {
        DurationSyntax.parse(self.gracePeriod) ?? .seconds(10)
    }

    /// The scenario's listeners with the command line's overrides applied: `--port` sets the first plaintext
    /// listener's port, `--tls-port` (with `--cert` and `--key`) the first TLS listener's that is not a TLS fault,
    /// adding either when the scenario has none; `--host` sets every listener's address.
    func listeners(for scenario: Scenario) throws -> [ListenerSpec] {
        var listeners = scenario.listeners.isEmpty ? [ListenerSpec()] : scenario.listeners
        if let port {
            if let index = listeners.firstIndex(where: { $0.tls == nil }) {
                listeners[index].port = port
            } else {
                listeners.insert(ListenerSpec(port: port), at: 0)
            }
        }
        // A TLS fault listener keeps its fault: the options apply to the first listener that serves real TLS.
        var tlsIndex = listeners.firstIndex { spec in
            guard let tls = spec.tls else { return false }
            if case .fault = tls.source { return false }
            return true
        }
        if self.tlsPort != nil || self.cert != nil, tlsIndex == nil {
            listeners.append(ListenerSpec(port: self.tlsPort ?? 8443, tls: TLSSpec(source: .generated)))
            tlsIndex = listeners.count - 1
        }
        if let tlsIndex {
            if let tlsPort { listeners[tlsIndex].port = tlsPort }
            if let cert, let key {
                let directory = URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true)
                let certificate = URL(fileURLWithPath: cert, relativeTo: directory).standardizedFileURL.path
                let privateKey = URL(fileURLWithPath: key, relativeTo: directory).standardizedFileURL.path
                listeners[tlsIndex].tls?.source = .files(certificate: certificate, key: privateKey)
            }
        }
        if let host {
            for index in listeners.indices { listeners[index].host = host }
        }
        if self.http2 {
            for index in listeners.indices where listeners[index].http2 == nil { listeners[index].http2 = HTTP2Spec() }
        }
        return listeners
    }

    /// The journal and the log files the options ask for.
    func makeRecorder() throws -> ServerRecorder {
        ServerRecorder(
            journal: Journal(
                capacity: self.journalSize,
                memoryLimit: Int(clamping: ByteCount.parse(self.journalMemory) ?? Int64(Journal.defaultMemoryLimit))
            ),
            journalFile: try self.journal.map { try Self.openWriter($0, format: .json) },
            accessLog: try self.accessLog.map { try Self.openWriter($0, format: .accessLog) }
        )
    }

    private static func openWriter(_ path: String, format: JournalWriter.Format) throws -> JournalWriter {
        do {
            return try JournalWriter(path: path, format: format)
        } catch {
            throw OptionError(message: "cannot open \(path) for writing (\(error))")
        }
    }

    func makeLogger() -> Logger {
        let level = Logger.Level(rawValue: self.logLevel) ?? .info
        var logger = Logger(label: "faultline") { label in StreamLogHandler.standardError(label: label) }
        logger.logLevel = level
        return logger
    }
}

/// An option that names something unusable.
struct OptionError: Error, CustomStringConvertible {
    let message: String
    var description: String { self.message }
}
