import Foundation
import MQTT
import PhasorTesting
import Testing

@Suite struct TLSTests {
    @Test func connectsWithTheRightCAAndRefusesTheWrongOneClearly() async throws {
        let certificates = try await TestCertificates.generate()
        let broker = try await MosquittoBroker.start(options: .init(
            persistence: false,
            tls: .init(caFile: certificates.caFile, certificateFile: certificates.serverCertificate, keyFile: certificates.serverKey)))

        let good = try makeClient(port: broker.port, tls: MQTTTLSConfiguration(caFile: certificates.caFile))
        try await good.connect()
        let root = uniqueRoot()
        let messages = try await good.subscribe("\(root)/#")
        try good.publish(MQTTMessage(topic: "\(root)/x", string: "secret", qos: .atLeastOnce))
        #expect(await collect(messages, count: 1).first?.string == "secret")
        await good.shutdown()

        let otherCA = try await TestCertificates.generate(commonName: "Somebody Else")
        let wrong = try makeClient(port: broker.port, tls: MQTTTLSConfiguration(caFile: otherCA.caFile))
        let error = await #expect(throws: MQTTError.self) { try await wrong.connect(timeout: .seconds(5)) }
        guard case .tls(let message) = error else { Issue.record("expected a TLS error, got \(String(describing: error))"); return }
        #expect(message.contains("certificate verify failed"))
        await wrong.shutdown()

        let insecure = try makeClient(port: broker.port, tls: MQTTTLSConfiguration(insecureSkipVerification: true))
        try await insecure.connect()
        await insecure.shutdown()
    }
}
