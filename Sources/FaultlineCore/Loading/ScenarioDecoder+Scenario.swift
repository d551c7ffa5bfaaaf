import Foundation
import Yams

extension ScenarioDecoder {
    /// The parts of one file, before the rules of several files are numbered and merged.
    struct FileContents {
        var name: String?
        var seed: UInt64?
        var listeners: [ListenerSpec] = []
        var defaultHeaders: [HeaderField] = []
        var limits: Limits?
        var rules: [Rule] = []
        /// Where the file's `rules:` key is, for an error about the rules as a whole.
        var rulesKeyLocation: SourceLocation?
        var expectations: [ClientExpectation] = []
    }

    /// Decodes a whole file's root node.
    mutating func decodeScenario(_ root: Node) -> FileContents {
        var contents = FileContents()
        guard let entries = self.entries(of: root, ScenarioKeys.topLevel) else { return contents }
        var version: Int?
        var expectNode: Node?
        // `defaults` applies to every rule, wherever it is written, so read it first.
        for entry in entries where entry.key == "defaults" {
            contents.defaultHeaders = self.decodeDefaults(entry.value)
        }
        for entry in entries {
            switch entry.key {
            case "version":
                version = self.integer(entry.value, in: 1...1, expected: "version 1 (the only format version)")
                if version == nil { version = 0 }
            case "name":
                contents.name = self.string(entry.value, expected: "the scenario's name as a string")
            case "seed":
                let expected = "a seed as a whole number from 0 to 18446744073709551615"
                if let text = self.scalar(entry.value, expected: expected) {
                    if let seed = UInt64(text.trimmingSpaces()) {
                        contents.seed = seed
                    } else {
                        self.error("Expected \(expected), found \(self.describe(entry.value)).", at: entry.value)
                    }
                }
            case "listeners":
                contents.listeners = self.decodeListeners(entry.value)
            case "limits":
                contents.limits = self.decodeLimits(entry.value)
            case "rules":
                contents.rulesKeyLocation = self.location(of: entry.keyNode)
                if case .sequence(let sequence) = entry.value, sequence.count > ScenarioLoader.maxRules {
                    // Not one of them is built.
                    self.error(ScenarioLoader.tooManyRules(sequence.count), at: entry.keyNode)
                } else {
                    contents.rules = self.decodeRules(entry.value, defaultHeaders: contents.defaultHeaders)
                }
            case "expect":
                expectNode = entry.value
            default:
                break
            }
        }
        if version == nil {
            self.error("A scenario starts with 'version: 1'; this file has no version.", at: root)
        }
        // Expectations name rules, so they are read once the rules are known.
        if let expectNode {
            contents.expectations = self.decodeExpectations(expectNode, rules: contents.rules)
        }
        return contents
    }

    mutating func decodeDefaults(_ node: Node) -> [HeaderField] {
        guard let entries = self.entries(of: node, ScenarioKeys.defaults) else { return [] }
        var headers: [HeaderField] = []
        for entry in entries where entry.key == "headers" {
            for field in self.headerFields(entry.value, place: "default headers") ?? [] {
                headers.append(HeaderField(field.name, field.value))
            }
        }
        return headers
    }

    mutating func decodeLimits(_ node: Node) -> Limits {
        var limits = Limits()
        guard let entries = self.entries(of: node, ScenarioKeys.limits) else { return limits }
        for entry in entries {
            switch entry.key {
            case "maxBodySize":
                limits.maxBodySize = self.size(entry.value, what: "the largest request body") ?? limits.maxBodySize
            case "maxURILength":
                limits.maxURILength = self.size(entry.value, what: "the longest request target") ?? limits.maxURILength
            case "maxHeaderSize":
                limits.maxHeaderSize =
                    self.size(entry.value, what: "the largest header section") ?? limits.maxHeaderSize
            case "requestTimeout":
                if let timeout = self.duration(entry.value, what: "the request timeout") {
                    if timeout > .zero {
                        limits.requestTimeout = timeout
                    } else {
                        self.error("The request timeout must be longer than zero.", at: entry.value)
                    }
                }
            default:
                break
            }
        }
        return limits
    }

    mutating func decodeListeners(_ node: Node) -> [ListenerSpec] {
        guard case .sequence(let sequence) = node else {
            self.error("Expected 'listeners' as a list of listeners, found \(self.describe(node)).", at: node)
            return []
        }
        var listeners: [ListenerSpec] = []
        for element in sequence {
            guard let entries = self.entries(of: element, ScenarioKeys.listener) else { continue }
            var listener = ListenerSpec(sourceLocation: self.location(of: element))
            var hasPort = false
            var tlsOnly: [Entry] = []
            for entry in entries {
                switch entry.key {
                case "port":
                    hasPort = true
                    listener.port = self.integer(entry.value, in: 0...65535, expected: "a port from 0 to 65535") ?? 0
                case "host":
                    listener.host = self.string(entry.value, expected: "an address to bind, such as 127.0.0.1") ?? ""
                case "tls":
                    listener.tls = self.decodeTLS(entry.value)
                case "http2":
                    listener.http2 = self.decodeHTTP2(entry.value)
                default:
                    tlsOnly.append(entry)
                }
            }
            if !hasPort {
                self.error("A listener needs a 'port' (0 picks a free one).", at: element)
            }
            for entry in tlsOnly {
                guard listener.tls != nil else {
                    if !entries.contains(where: { $0.key == "tls" }) {
                        self.error(
                            "'\(entry.key)' applies to a TLS listener; add 'tls: auto' or 'tls: {cert: ..., key: ...}'.",
                            at: entry.keyNode
                        )
                    }
                    continue
                }
                switch entry.key {
                case "hosts":
                    listener.tls?.hosts =
                        (self.stringList(entry.value, expected: "a host name or a list of them") ?? []).map(\.0)
                case "clientAuth":
                    listener.tls?.clientAuth = self.decodeClientAuth(entry.value)
                case "minVersion":
                    listener.tls?.minVersion = self.decodeTLSVersion(entry.value)
                case "maxVersion":
                    listener.tls?.maxVersion = self.decodeTLSVersion(entry.value)
                default:
                    break
                }
            }
            if let min = listener.tls?.minVersion, let max = listener.tls?.maxVersion, min > max,
                let entry = entries.first(where: { $0.key == "maxVersion" })
            {
                self.error("maxVersion \(max.rawValue) is below minVersion \(min.rawValue).", at: entry.value)
            }
            listeners.append(listener)
        }
        return listeners
    }

    /// `http2: true` (or `false`), or a mapping of HTTP/2 settings that turns it on.
    mutating func decodeHTTP2(_ node: Node) -> HTTP2Spec? {
        if case .scalar = node {
            return self.bool(node, expected: "http2 as true, false or a mapping of settings") == true
                ? HTTP2Spec() : nil
        }
        guard let entries = self.entries(of: node, ScenarioKeys.http2) else { return nil }
        var spec = HTTP2Spec()
        for entry in entries {
            switch entry.key {
            case "maxConcurrentStreams":
                spec.maxConcurrentStreams =
                    self.integer(entry.value, in: 1...1_000_000, expected: "a number of streams from 1")
                    ?? spec.maxConcurrentStreams
            case "initialWindowSize":
                if let size = self.size(entry.value, what: "the initial window size") {
                    if (0...Int64(Int32.max)).contains(size) {
                        spec.initialWindowSize = Int(size)
                    } else {
                        self.error(
                            "An HTTP/2 window is at most 2,147,483,647 bytes (RFC 9113 section 6.5.2).",
                            at: entry.value
                        )
                    }
                }
            case "maxFrameSize":
                if let size = self.size(entry.value, what: "the largest frame") {
                    if (16_384...16_777_215).contains(size) {
                        spec.maxFrameSize = Int(size)
                    } else {
                        self.error(
                            "An HTTP/2 frame size is from 16KiB to 16,777,215 bytes (RFC 9113 section 6.5.2).",
                            at: entry.value
                        )
                    }
                }
            default:
                break
            }
        }
        return spec
    }

    /// `tls: auto`, `tls: {cert: PEM, key: PEM}` or `tls: {fault: NAME}`.
    mutating func decodeTLS(_ node: Node) -> TLSSpec? {
        let expected = "tls as 'auto', {cert: FILE, key: FILE} or {fault: NAME}"
        if case .scalar(let scalar) = node {
            guard scalar.string == "auto" else {
                self.error("Expected \(expected), found \(self.describe(node)).", at: node)
                return nil
            }
            return TLSSpec(source: .generated)
        }
        guard let entries = self.entries(of: node, ScenarioKeys.tls) else { return nil }
        let byKey = Dictionary(entries.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        if let faultEntry = byKey["fault"] {
            if byKey["cert"] != nil || byKey["key"] != nil {
                self.error("A TLS fault brings its own certificate; remove 'cert' and 'key'.", at: faultEntry.keyNode)
            }
            guard let name = self.string(faultEntry.value, expected: "a TLS fault") else { return nil }
            guard let fault = TLSFault(rawValue: name) else {
                let names = TLSFault.allCases.map(\.rawValue)
                var message = "Unknown TLS fault '\(name)'"
                if let suggestion = KeySuggester.suggestion(for: name, among: names) {
                    message += "; did you mean '\(suggestion)'?"
                } else {
                    message += "; expected one of: \(names.joined(separator: ", "))."
                }
                self.error(message, at: faultEntry.value)
                return nil
            }
            return TLSSpec(source: .fault(fault))
        }
        guard let certEntry = byKey["cert"], let keyEntry = byKey["key"] else {
            self.error("A TLS listener with its own certificate needs both 'cert' and 'key' (PEM files).", at: node)
            return nil
        }
        guard let certPath = self.resolveFile(certEntry.value, what: "certificate"),
            let keyPath = self.resolveFile(keyEntry.value, what: "private key")
        else { return nil }
        for problem in CertificateFiles.problems(certificate: certPath, key: keyPath) {
            self.error(problem.message, at: problem.isAboutKey ? keyEntry.value : certEntry.value)
        }
        return TLSSpec(source: .files(certificate: certPath, key: keyPath))
    }

    mutating func decodeClientAuth(_ node: Node) -> ClientAuthSpec? {
        guard let entries = self.entries(of: node, ScenarioKeys.clientAuth) else { return nil }
        var ca: String?
        var mode = ClientAuthSpec.Mode.require
        for entry in entries {
            if entry.key == "ca" {
                ca = self.resolveFile(entry.value, what: "client CA certificate")
                if let path = ca, let problem = CertificateFiles.problemWithCA(path) {
                    self.error(problem, at: entry.value)
                    ca = nil
                }
            } else if let text = self.string(entry.value, expected: "require or optional") {
                if let parsed = ClientAuthSpec.Mode(rawValue: text) {
                    mode = parsed
                } else {
                    self.error("Expected clientAuth's mode as require or optional, found '\(text)'.", at: entry.value)
                }
            }
        }
        guard entries.contains(where: { $0.key == "ca" }) else {
            self.error("clientAuth needs 'ca': the PEM file of the CA that signs client certificates.", at: node)
            return nil
        }
        return ca.map { ClientAuthSpec(caFile: $0, mode: mode) }
    }

    mutating func decodeTLSVersion(_ node: Node) -> TLSProtocolVersion? {
        let expected = "a TLS version: \"1.0\", \"1.1\", \"1.2\" or \"1.3\""
        guard let text = self.scalar(node, expected: expected) else { return nil }
        guard let version = TLSProtocolVersion(rawValue: text) else {
            self.error("Expected \(expected), found \(self.describe(node)).", at: node)
            return nil
        }
        return version
    }

    /// A file next to the scenario (relative paths are relative to it); it must exist and be readable. A scenario
    /// sent to the control API may name only files inside the folder of the scenario the server started with.
    mutating func resolveFile(_ node: Node, what: String) -> String? {
        guard let path = self.string(node, expected: "the \(what) file") else { return nil }
        guard let directory = self.files.directory else {
            self.error(
                "The \(what) file '\(path)' cannot be used here: the server was started without a scenario file, so "
                    + "a scenario sent to the control API has no folder to name files in.",
                at: node
            )
            return nil
        }
        let url = URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: directory, isDirectory: true))
            .standardizedFileURL
        if case .confined = self.files {
            let base = URL(fileURLWithPath: directory, isDirectory: true).standardizedFileURL.resolvingSymlinksInPath()
                .path
            let basePath = base.hasSuffix("/") ? base : base + "/"
            guard url.resolvingSymlinksInPath().path.hasPrefix(basePath) else {
                self.error("The \(what) file '\(path)' lies outside the scenario's folder \(base).", at: node)
                return nil
            }
        }
        guard FileManager.default.isReadableFile(atPath: url.path) else {
            let reason = FileManager.default.fileExists(atPath: url.path) ? "cannot be read" : "does not exist"
            self.error("The \(what) file '\(path)' \(reason) (looked for \(url.path)).", at: node)
            return nil
        }
        return url.path
    }
}
