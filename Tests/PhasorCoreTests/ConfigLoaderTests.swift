import Foundation
import Testing
@testable import PhasorCore

private struct Sample: Decodable, Equatable {
    struct Broker: Decodable, Equatable {
        var url: String
        var keepAlive: Int?
        var offlineQueue: Int?
    }
    enum Mode: String, Decodable { case fast, slow }
    var site: String
    var broker: Broker
    var mode: Mode?
    var devices: [String: Int]?
    var list: [Double]?
}

@Suite struct ConfigLoaderTests {
    @Test func decodesSnakeCaseKeysAndKeepsDictionaryKeys() throws {
        let yaml = """
            site: home
            broker:
              url: mqtt://127.0.0.1
              keep_alive: 30
            mode: fast
            devices:
              grid_meter: 1
            list: [1, 2.5]
            """
        let s = try ConfigLoader.decode(Sample.self, yaml: yaml)
        #expect(s.broker.keepAlive == 30)
        #expect(s.devices == ["grid_meter": 1])
        #expect(s.list == [1, 2.5])
        #expect(s.mode == .fast)
    }

    @Test func aliasesAsValuesStillWork() throws {
        let yaml = "site: &name home\nbroker:\n  url: *name\nlist: &l [1, 2]\n"
        let s = try ConfigLoader.decode(Sample.self, yaml: yaml)
        #expect(s.broker.url == "home")
    }

    @Test(arguments: [
        ("site: h\nbroker: {url: x}\na: &k x\ndevices: {*k : 1}\n", 4, "an alias cannot be a mapping key"),
        ("site: h\nbroker: {url: x}\ndevices: {? [a] : 1}\n", 3, "a list or mapping cannot be a mapping key"),
    ])
    func keysThatAreNotPlainTextAreRefusedBeforeComposing(yaml: String, line: Int, message: String) {
        #expect(throws: ConfigError(file: "a.yaml", line: line, field: nil, message: "YAML error: \(message) (keys are plain text)")) {
            try ConfigLoader.decode(Sample.self, yaml: yaml, file: "a.yaml")
        }
    }

    @Test func infinityIsNotANumberASettingTakes() {
        #expect(throws: ConfigError(file: "a.yaml", line: 3, field: "list[0]", message: "expected a finite number, found '.inf'")) {
            try ConfigLoader.decode(Sample.self, yaml: "site: h\nbroker: {url: x}\nlist: [.inf]\n", file: "a.yaml")
        }
    }

    @Test func unknownFieldNamesFileLineAndField() {
        let yaml = "site: home\nbroker:\n  url: x\n  keepalive: 3\n"
        #expect(throws: ConfigError(file: "a.yaml", line: 4, field: "broker.keepalive", message: "unknown field")) {
            try ConfigLoader.decode(Sample.self, yaml: yaml, file: "a.yaml")
        }
    }

    @Test func wrongTypeNamesLine() throws {
        let yaml = "site: home\nbroker:\n  url: x\n  keep_alive: soon\n"
        let error = try #require(throws: ConfigError.self) { try ConfigLoader.decode(Sample.self, yaml: yaml, file: "a.yaml") }
        #expect(error.line == 4)
        #expect(error.field == "broker.keep_alive")
        #expect(error.description.contains("expected a whole number"))
    }

    @Test func missingFieldNamesParent() throws {
        let error = try #require(throws: ConfigError.self) { try ConfigLoader.decode(Sample.self, yaml: "site: x\n", file: "a.yaml") }
        #expect(error.field == "broker")
        #expect(error.message == "required field is missing")
    }

    @Test func badEnumValueNamesLine() throws {
        let yaml = "site: home\nbroker:\n  url: x\nmode: medium\n"
        let error = try #require(throws: ConfigError.self) { try ConfigLoader.decode(Sample.self, yaml: yaml, file: "a.yaml") }
        #expect(error.line == 4)
        #expect(error.field == "mode")
    }

    @Test func syntaxErrorNamesLine() throws {
        let yaml = "site: home\nbroker:\n  url: [x\n  other: 1\n"
        let error = try #require(throws: ConfigError.self) { try ConfigLoader.decode(Sample.self, yaml: yaml, file: "a.yaml") }
        #expect(error.line != nil)
        #expect(error.description.hasPrefix("a.yaml:"))
        #expect(error.description.contains("YAML"))
    }
}
