import Foundation
import Logging
import MQTT
import PhasorTesting
import Testing

/// Where the built executables are: beside the test runner.
let binDirectory = BuiltExecutables.directory

func executable(_ name: String) -> String { binDirectory.appendingPathComponent(name).path }

let repositoryRoot: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

func uniqueSite(_ name: String = #function) -> String {
    "t\(name.prefix(while: { $0 != "(" }).prefix(20))\(UUID().uuidString.prefix(6))"
}

func makeClient(port: Int) throws -> MQTTClient {
    var logger = Logger(label: "service-test")
    logger.logLevel = .warning
    return try MQTTClient(
        configuration: MQTTConfiguration(
            host: "127.0.0.1", port: port, clientID: "st-\(UUID().uuidString.prefix(10))",
            reconnect: MQTTReconnectPolicy(initialDelay: .milliseconds(50), maximumDelay: .milliseconds(300))),
        logger: logger)
}

/// The next message of a subscription whose payload satisfies `predicate`.
func next(_ subscription: MQTTSubscription, timeout: Duration = .seconds(10),
          where predicate: @escaping @Sendable (MQTTMessage) -> Bool = { _ in true }) async -> MQTTMessage? {
    await subscription.next(timeout: timeout, where: predicate)
}

/// Validates JSON documents with the project's schemas (see `SchemaValidation`).
func validate(_ documents: [[UInt8]], against schema: String, fileExtension: String = "json") async throws -> (status: Int32, output: String)? {
    try await SchemaValidation.validate(documents, against: schema, repositoryRoot: repositoryRoot, fileExtension: fileExtension)
}

let pythonAvailable = SchemaValidation.pythonAvailable

/// The next refusal on an `…/error/<service>` subscription: checks its field, that
/// its reason contains `reason`, and that it is not retained; returns its payload.
func expectRefusal(
    _ errors: MQTTSubscription, field: String, reason: String, sourceLocation: SourceLocation = #_sourceLocation
) async throws -> [UInt8] {
    let error = try #require(await next(errors), "no refusal (\(field): \(reason))", sourceLocation: sourceLocation)
    let object = try #require(
        try JSONSerialization.jsonObject(with: Data(error.payload)) as? [String: Any], sourceLocation: sourceLocation)
    #expect(object["field"] as? String == field, sourceLocation: sourceLocation)
    #expect((object["reason"] as? String ?? "").contains(reason), "\(object)", sourceLocation: sourceLocation)
    #expect(!error.retain, sourceLocation: sourceLocation)
    return error.payload
}

/// A client logged in as `phasor demo`'s operator, with the password its banner
/// (written to `banner`) names; waits up to 30 s for the banner.
func demoOperatorClient(port: Int, banner: String) async throws -> MQTTClient {
    var password: String?
    let deadline = ContinuousClock.now + .seconds(30)
    func read() -> String? {
        let text = (try? String(contentsOfFile: banner, encoding: .utf8)) ?? ""
        return text.components(separatedBy: " -u operator -P ").dropFirst().first?.split(separator: " ").first.map(String.init)
    }
    while password == nil, ContinuousClock.now < deadline {
        password = read()
        if password == nil { try await Task.sleep(for: .milliseconds(100)) }
    }
    // Once more after the deadline: on a loaded machine this task may not run again before it.
    if password == nil { password = read() }
    let operatorPassword = try #require(password, "no banner: \((try? String(contentsOfFile: banner, encoding: .utf8)) ?? "")")
    var logger = Logger(label: "demo-test")
    logger.logLevel = .critical
    let client = try MQTTClient(
        configuration: MQTTConfiguration(host: "127.0.0.1", port: port, clientID: "demo-\(UUID().uuidString.prefix(8))",
                                         username: "operator", password: operatorPassword),
        logger: logger)
    try await client.connect()
    return client
}
