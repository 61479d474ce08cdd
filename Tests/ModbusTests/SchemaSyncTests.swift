import Foundation
import Testing
@testable import Modbus

/// schemas/device-profile.schema.json is written by hand for editors and CI; these
/// checks keep its enumerations equal to what the decoder accepts.
@Suite struct SchemaSyncTests {
    static func schema() throws -> [String: Any] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("schemas/device-profile.schema.json")
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url))
        return try #require(object as? [String: Any])
    }

    static func enumValues(_ schema: [String: Any], _ path: [String]) throws -> Set<String> {
        var node: Any = schema
        for key in path { node = try #require((node as? [String: Any])?[key], "\(path)") }
        let values = try #require((node as? [String: Any])?["enum"] as? [Any], "\(path)")
        return Set(values.map { "\($0)" })
    }

    @Test func enumerationsMatchTheDecoder() throws {
        let schema = try Self.schema()
        #expect(try Self.enumValues(schema, ["$defs", "type"]) == Set(DataType.allCases.map(\.rawValue)))
        #expect(try Self.enumValues(schema, ["$defs", "word_order"]) == Set(WordOrder.allCases.map(\.rawValue)))
        #expect(try Self.enumValues(schema, ["$defs", "register", "properties", "unit"]) == Set(DeviceUnit.allCases.map(\.rawValue)))
        #expect(try Self.enumValues(schema, ["$defs", "confidence"]) == ["confirmed", "single_source", "conflict", "unverified"])
        #expect(try Self.enumValues(schema, ["properties", "kind"]) == ["meter", "inverter", "charger"])
    }
}
