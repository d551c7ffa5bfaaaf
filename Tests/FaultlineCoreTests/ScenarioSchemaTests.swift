import FaultlineCore
import Foundation
import Testing

/// `schema/scenario.schema.json` and the loader must agree on every key: a key the loader takes that the schema
/// lacks (an editor would flag a valid file), or one the schema offers that the loader refuses (an editor would
/// complete a key that then fails), fails here. The examples are validated against the schema by a real
/// validator in `scripts/check-schema`.
@Suite("The scenario JSON Schema matches the loader")
struct ScenarioSchemaTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The schema as JSON objects.
    static func schema() throws -> [String: Any] {
        let url = self.root.appendingPathComponent("schema/scenario.schema.json")
        let data = try Data(contentsOf: url)
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// The schema's definition of a mapping: the root for `scenario`, else `$defs/NAME`.
    static func definition(_ name: String, in schema: [String: Any]) -> [String: Any]? {
        if name == "scenario" { return schema }
        return (schema["$defs"] as? [String: Any])?[name] as? [String: Any]
    }

    @Test func theSchemaIsJSONSchema2020_12() throws {
        let schema = try Self.schema()
        #expect(schema["$schema"] as? String == "https://json-schema.org/draft/2020-12/schema")
    }

    @Test(arguments: ScenarioKeys.all.keys.sorted())
    func everyMappingHasTheLoadersKeys(_ name: String) throws {
        let schema = try Self.schema()
        let keys = try #require(ScenarioKeys.all[name])
        let definition = try #require(Self.definition(name, in: schema), "the schema has no definition '\(name)'")
        let properties = try #require(definition["properties"] as? [String: Any], "'\(name)' has no properties")
        let inSchema = Set(properties.keys)
        let inLoader = Set(keys.supported)
        #expect(
            inLoader.subtracting(inSchema).isEmpty,
            "the loader takes \(inLoader.subtracting(inSchema).sorted()) in \(keys.place); add them to the schema's '\(name)'"
        )
        #expect(
            inSchema.subtracting(inLoader).isEmpty,
            "the schema's '\(name)' offers \(inSchema.subtracting(inLoader).sorted()), which the loader refuses in \(keys.place)"
        )
        // The loader refuses unknown keys, so the schema must too.
        #expect(definition["additionalProperties"] as? Bool == false, "'\(name)' must say additionalProperties: false")
    }

    /// The reverse: no closed mapping in the schema that the loader does not know.
    @Test func everyClosedMappingInTheSchemaIsOneTheLoaderKnows() throws {
        let schema = try Self.schema()
        var closed: [String] = []
        Self.collectClosedMappings(schema, pointer: "#", into: &closed)
        let known = Set(ScenarioKeys.all.keys.map { $0 == "scenario" ? "#" : "#/$defs/\($0)" })
        #expect(
            Set(closed).subtracting(known).isEmpty,
            "closed mappings the loader does not list: \(Set(closed).subtracting(known).sorted())"
        )
        #expect(
            known.subtracting(closed).isEmpty,
            "mappings not closed in the schema: \(known.subtracting(closed).sorted())"
        )
    }

    @Test func theNamesOfFaultsAndTLSVersionsMatch() throws {
        let schema = try Self.schema()
        func enumeration(_ name: String) throws -> Set<String> {
            let definition = try #require(Self.definition(name, in: schema))
            let values = try #require(definition["enum"] as? [Any])
            return Set(values.compactMap { $0 as? String })
        }
        #expect(try enumeration("namedFault") == Set(ScenarioKeys.namedFaults))
        #expect(try enumeration("tlsFault") == Set(TLSFault.allCases.map(\.rawValue)))
        #expect(try enumeration("tlsVersion") == Set(TLSProtocolVersion.allCases.map(\.rawValue)))
    }

    /// An editor shows a key's description on hover and while completing: every key has one, on itself or on the
    /// definition it refers to.
    @Test func everyKeyIsDescribed() throws {
        let schema = try Self.schema()
        let definitions = try #require(schema["$defs"] as? [String: Any])
        var undescribed: [String] = []
        for name in ScenarioKeys.all.keys.sorted() {
            let properties = Self.definition(name, in: schema)?["properties"] as? [String: Any] ?? [:]
            for (key, value) in properties {
                guard let property = value as? [String: Any] else { continue }
                if property["description"] != nil { continue }
                if let reference = property["$ref"] as? String,
                    let target = definitions[String(reference.dropFirst("#/$defs/".count))] as? [String: Any],
                    target["description"] != nil
                {
                    continue
                }
                undescribed.append("\(name).\(key)")
            }
        }
        #expect(undescribed.isEmpty, "keys without a description: \(undescribed.sorted())")
    }

    private static func collectClosedMappings(_ value: Any, pointer: String, into result: inout [String]) {
        if let object = value as? [String: Any] {
            if object["additionalProperties"] as? Bool == false { result.append(pointer) }
            for (key, child) in object {
                self.collectClosedMappings(child, pointer: "\(pointer)/\(key)", into: &result)
            }
        } else if let array = value as? [Any] {
            for (index, child) in array.enumerated() {
                self.collectClosedMappings(child, pointer: "\(pointer)/\(index)", into: &result)
            }
        }
    }
}
