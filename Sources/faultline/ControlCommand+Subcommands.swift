import ArgumentParser
import Foundation
import NIOHTTP1

extension ControlCommand {
    /// `faultline ctl health`: the server's health as JSON; exits 0 when it answers.
    struct Health: ControlSubcommand {
        static let configuration = CommandConfiguration(
            commandName: "health",
            abstract: "Print the server's health as JSON (rules, seed, journalDropped); exit 0 when it answers."
        )

        @OptionGroup var connection: ControlOptions

        func run(with client: ControlClient) async throws(ControlError) {
            let answer = try await client.expectSuccess(.GET, "health")
            Console.output(answer.text, terminator: "")
        }
    }

    /// `faultline ctl enable NAME`: switches the rules called NAME on.
    struct Enable: ControlSubcommand {
        static let configuration = CommandConfiguration(
            commandName: "enable",
            abstract: "Switch on the rules called NAME (an outage on demand)."
        )

        @OptionGroup var connection: ControlOptions

        @Argument(help: "The rule's name.")
        var name: String

        func run(with client: ControlClient) async throws(ControlError) {
            try await ControlCommand.setRule(self.name, enabled: true, client: client)
        }
    }

    /// `faultline ctl disable NAME`: switches the rules called NAME off.
    struct Disable: ControlSubcommand {
        static let configuration = CommandConfiguration(
            commandName: "disable",
            abstract: "Switch off the rules called NAME."
        )

        @OptionGroup var connection: ControlOptions

        @Argument(help: "The rule's name.")
        var name: String

        func run(with client: ControlClient) async throws(ControlError) {
            try await ControlCommand.setRule(self.name, enabled: false, client: client)
        }
    }

    static func setRule(_ name: String, enabled: Bool, client: ControlClient) async throws(ControlError) {
        let segment = name.addingPercentEncoding(withAllowedCharacters: Self.pathSegmentCharacters) ?? name
        let verb = enabled ? "enable" : "disable"
        let answer = try await client.expectSuccess(.POST, "rules/\(segment)/\(verb)") { _ in
            "the server has no rule called '\(name)' (rules are switched by their name: field)"
        }
        let object = try? JSONSerialization.jsonObject(with: Data(answer.body)) as? [String: Any]
        let count = (object?["rules"] as? Int) ?? 1
        Console.output("\(verb)d \(name) (\(count) rule\(count == 1 ? "" : "s"))")
    }

    /// The characters a path segment keeps as they are.
    static let pathSegmentCharacters = CharacterSet.urlPathAllowed.subtracting(CharacterSet(charactersIn: "/;?#%"))

    /// `faultline ctl reset`: counters, sequences, windows, rate limits and the journal back to the start.
    struct Reset: ControlSubcommand {
        static let configuration = CommandConfiguration(
            commandName: "reset",
            abstract: "Start over: times, after, sequences, windows, rate limits and the journal back to the start."
        )

        @OptionGroup var connection: ControlOptions

        func run(with client: ControlClient) async throws(ControlError) {
            _ = try await client.expectSuccess(.POST, "reset")
            Console.output("reset")
        }
    }

    /// `faultline ctl journal`: the journal as a JSON array, oldest first.
    struct Journal: ControlSubcommand {
        static let configuration = CommandConfiguration(
            commandName: "journal",
            abstract: "Print the journal as a JSON array, oldest first."
        )

        @OptionGroup var connection: ControlOptions

        @Option(help: "Only the exchanges this rule answered (its name, or rules[N]).")
        var rule: String?

        @Option(help: ArgumentHelp("Only the exchanges after this journal id.", valueName: "id"))
        var since: Int?

        @Option(help: ArgumentHelp("Only the newest N exchanges.", valueName: "n"))
        var limit: Int?

        func run(with client: ControlClient) async throws(ControlError) {
            var query: [String] = []
            let allowed = CharacterSet.urlQueryAllowed.subtracting(CharacterSet(charactersIn: "&=+#"))
            if let rule { query.append("rule=\(rule.addingPercentEncoding(withAllowedCharacters: allowed) ?? rule)") }
            if let since { query.append("since=\(since)") }
            if let limit { query.append("limit=\(limit)") }
            let endpoint = query.isEmpty ? "journal" : "journal?" + query.joined(separator: "&")
            let answer = try await client.expectSuccess(.GET, endpoint)
            Console.output(answer.text, terminator: answer.text.hasSuffix("\n") ? "" : "\n")
        }
    }

    /// `faultline ctl expectations`: the verdict so far; exits 1 when an expectation is not met.
    struct Expectations: ControlSubcommand {
        static let configuration = CommandConfiguration(
            commandName: "expectations",
            abstract: "Print the verdict on the client so far; exit 1 when an expectation is not met."
        )

        @OptionGroup var connection: ControlOptions

        @Flag(help: "Print the verdict as JSON instead of the report.")
        var json = false

        func run(with client: ControlClient) async throws(ControlError) {
            let verdict = try await client.expectSuccess(.GET, "expectations")
            let object = try? JSONSerialization.jsonObject(with: Data(verdict.body)) as? [String: Any]
            guard let met = object?["met"] as? Bool else {
                throw ControlError.refused("the server's verdict is not the JSON expected: \(verdict.text)")
            }
            if self.json {
                Console.output(verdict.text, terminator: "")
            } else {
                let report = try await client.expectSuccess(.GET, "expectations?format=text")
                Console.output(report.text, terminator: "")
            }
            if !met { throw ControlError(message: "an expectation is not met", exitCode: 1) }
        }
    }

    /// `faultline ctl load FILE`: replaces the server's scenario; a bad one is refused and the old one keeps
    /// serving.
    struct Load: ControlSubcommand {
        static let configuration = CommandConfiguration(
            commandName: "load",
            abstract: "Load a new scenario into the running server ('-' reads standard input).",
            discussion: """
                The server checks it first: a bad scenario is refused with its FILE:LINE:COLUMN errors and the old \
                one keeps serving. Counters start over; listeners and open connections stay. bodyFile paths are \
                relative to the folder of the scenario the server was started with.
                """
        )

        @OptionGroup var connection: ControlOptions

        @Argument(help: "The scenario file.", completion: .file(extensions: ["yaml", "yml"]))
        var file: String

        func run(with client: ControlClient) async throws(ControlError) {
            let yaml: Data
            if self.file == "-" {
                yaml = FileHandle.standardInput.readDataToEndOfFile()
            } else {
                var isFolder: ObjCBool = false
                guard FileManager.default.fileExists(atPath: self.file, isDirectory: &isFolder) else {
                    throw ControlError.usage("\(self.file) does not exist")
                }
                guard !isFolder.boolValue else {
                    throw ControlError.usage("\(self.file) is a folder, not a scenario file")
                }
                guard let contents = FileManager.default.contents(atPath: self.file) else {
                    throw ControlError.usage("\(self.file) cannot be read")
                }
                yaml = contents
            }
            let name = self.file == "-" ? "<stdin>" : self.file
            let answer = try await client.send(.PUT, "scenario", body: Array(yaml), contentType: "application/yaml")
            switch answer.status {
            case 200..<300:
                let object = try? JSONSerialization.jsonObject(with: Data(answer.body)) as? [String: Any]
                let rules = (object?["rules"] as? Int) ?? 0
                Console.output("loaded \(name): \(rules) rule\(rules == 1 ? "" : "s")")
            case 400:
                // The server names the text <control-api>; the person knows it by its file name.
                let errors = answer.text.split(separator: "\n").map { line in
                    line.hasPrefix("<control-api>:") ? name + line.dropFirst("<control-api>".count) : Substring(line)
                }
                Console.error(errors.joined(separator: "\n"))
                throw ControlError.refused("the server refused \(name); it keeps serving the scenario it had")
            default:
                _ = try client.check(answer, .PUT, "scenario")
                throw ControlError.refused(
                    "the server answered \(answer.status) to the new scenario: \(answer.errorMessage)"
                )
            }
        }
    }

    /// `faultline ctl report --out FILE`: the run so far as a self-contained HTML page.
    struct Report: ControlSubcommand {
        static let configuration = CommandConfiguration(
            commandName: "report",
            abstract: "Write the run so far as one self-contained HTML page: the verdict, a timeline, the journal."
        )

        @OptionGroup var connection: ControlOptions

        @Option(help: ArgumentHelp("The HTML file to write.", valueName: "file"))
        var out: String

        func run(with client: ControlClient) async throws(ControlError) {
            let answer = try await client.expectSuccess(.GET, "report") { _ in
                "the server has no report endpoint (GET /__faultline/report answered 404); it needs a newer faultline serve"
            }
            do {
                try Data(answer.body).write(to: URL(fileURLWithPath: self.out), options: .atomic)
            } catch {
                throw ControlError.usage("cannot write \(self.out): \(error.localizedDescription)")
            }
            Console.output("wrote \(self.out)")
        }
    }
}
