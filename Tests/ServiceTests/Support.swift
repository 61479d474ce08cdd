import Foundation
import Logging
import MQTT
import PhasorTesting

/// Where the built executables are: beside the test runner.
let binDirectory: URL = {
    let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    return URL(fileURLWithPath: exe).deletingLastPathComponent()
}()

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
    let task = Task { () -> MQTTMessage? in
        for await m in subscription where predicate(m) { return m }
        return nil
    }
    let timer = Task {
        try? await Task.sleep(for: timeout)
        task.cancel()
    }
    defer { timer.cancel() }
    return await task.value
}

/// Validates JSON documents with the project's schemas (see `SchemaValidation`).
/// Nil when PHASOR_PYTHON is unset.
func validate(_ documents: [[UInt8]], against schema: String, fileExtension: String = "json") async throws -> (status: Int32, output: String)? {
    try await SchemaValidation.validate(documents, against: schema, repositoryRoot: repositoryRoot, fileExtension: fileExtension)
}

let pythonAvailable = ProcessInfo.processInfo.environment["PHASOR_PYTHON"] != nil
