import Foundation

/// The broker most tests share: the one the test script started (its port in
/// `PHASOR_TEST_MQTT_PORT`), or else one started on first use for this process.
/// Tests that kill or restart a broker start their own instead.
public enum SharedBroker {
    private static let started = Task<MosquittoBroker, any Error> {
        try await MosquittoBroker.start(options: .init(persistence: false))
    }

    public static func port() async throws -> Int {
        if let text = ProcessInfo.processInfo.environment["PHASOR_TEST_MQTT_PORT"], let port = Int(text) {
            return port
        }
        return try await started.value.port
    }
}
