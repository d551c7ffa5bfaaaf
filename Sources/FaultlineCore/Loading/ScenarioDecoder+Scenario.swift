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
    }

    /// Decodes a whole file's root node.
    mutating func decodeScenario(_ root: Node) -> FileContents {
        var contents = FileContents()
        guard let entries = self.entries(of: root, ScenarioKeys.topLevel) else { return contents }
        var version: Int?
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
                contents.rules = self.decodeRules(entry.value, defaultHeaders: contents.defaultHeaders)
            default:
                break
            }
        }
        if version == nil {
            self.error("A scenario starts with 'version: 1'; this file has no version.", at: root)
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
                limits.maxHeaderSize = self.size(entry.value, what: "the largest header section") ?? limits.maxHeaderSize
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
            for entry in entries {
                switch entry.key {
                case "port":
                    hasPort = true
                    listener.port = self.integer(entry.value, in: 0...65535, expected: "a port from 0 to 65535") ?? 0
                case "host":
                    listener.host = self.string(entry.value, expected: "an address to bind, such as 127.0.0.1") ?? ""
                default:
                    break
                }
            }
            if !hasPort {
                self.error("A listener needs a 'port' (0 picks a free one).", at: element)
            }
            listeners.append(listener)
        }
        return listeners
    }
}
