import Foundation
import MQTT
import PhasorTesting
import Testing
import TestTraits

@Suite("Bridge commands and TLS", .serialized, .endToEnd) struct BridgeCommandTests {
    func command(_ fields: [String: Any]) -> [UInt8] {
        [UInt8]((try? JSONSerialization.data(withJSONObject: fields)) ?? Data())
    }

    func result(_ rig: BridgeRig, id: String) async -> [String: Any]? {
        _ = await eventually(timeout: .seconds(15)) { rig.envelopes.contains { $0.stream == "result" && $0.payload?["id"] as? String == id } }
        return rig.envelopes.first { $0.stream == "result" && $0.payload?["id"] as? String == id }?.payload
    }

    /// A command from the cloud reaches the site's slider topic and is answered; an
    /// expired, a replayed, a retained and a non-allowlisted one are refused with reasons.
    @Test(.timeLimit(.minutes(2))) func commandsFromTheCloudAreCheckedRelayedAndAnswered() async throws {
        let rig = try await BridgeRig(extraYAML: "  commands:\n    allow: [slider, mode, current, priority]\n    max_age_s: 30\n")
        defer { Task { await rig.shutdown() } }
        try await rig.subscribeCloud()
        let site = try await rig.localClient()
        let slider = try await site.subscribe("phasor/\(rig.site)/control/slider/set", qos: .atLeastOnce)
        try rig.startBridge()
        #expect(await rig.waitForIntake())
        let cloud = try #require(rig.lock.withLock { rig.cloudClient })
        let topic = "phasor/\(rig.site)/v1/command"
        let now = ISO8601Text.format(Date())
        // Until the bridge's command subscription is in place, probes go unanswered.
        var probe = 0
        let ready = await eventually(timeout: .seconds(20)) {
            probe += 1
            try? cloud.publish(MQTTMessage(topic: topic, payload: command(["id": "probe\(probe)", "command": "relay", "target": "r1",
                                                                          "value": true, "issued": now]), qos: .atLeastOnce))
            try? await Task.sleep(for: .milliseconds(200))
            return rig.envelopes.contains { $0.stream == "result" }
        }
        #expect(ready)

        try await cloud.publishAndWait(MQTTMessage(
            topic: topic, payload: command(["id": "c1", "command": "slider", "value": 7.5, "issued": ISO8601Text.format(Date())]), qos: .atLeastOnce))
        let relayed = await slider.next(timeout: .seconds(10))
        #expect(relayed?.string == #"{"value":7.5}"#)
        #expect(relayed?.retain == false)
        #expect(await result(rig, id: "c1")?["status"] as? String == "accepted")

        // Replayed: the same id again.
        try await cloud.publishAndWait(MQTTMessage(
            topic: topic, payload: command(["id": "c1", "command": "slider", "value": 9, "issued": ISO8601Text.format(Date())]), qos: .atLeastOnce))
        let replay = await eventually(timeout: .seconds(10)) {
            rig.envelopes.filter { $0.stream == "result" && $0.payload?["id"] as? String == "c1" }.count >= 2
        }
        #expect(replay)
        let second = rig.envelopes.filter { $0.stream == "result" && $0.payload?["id"] as? String == "c1" }.last?.payload
        #expect(second?["status"] as? String == "refused")
        #expect(reasonText(second).contains("replayed"))

        // Expired: issued two minutes ago.
        try await cloud.publishAndWait(MQTTMessage(
            topic: topic, payload: command(["id": "c2", "command": "slider", "value": 9, "issued": ISO8601Text.format(Date().addingTimeInterval(-120))]),
            qos: .atLeastOnce))
        let expired = await result(rig, id: "c2")
        #expect(expired?["status"] as? String == "refused")
        #expect(reasonText(expired).contains("expired"))

        // Not allowlisted: relays are not allowed on this site.
        try await cloud.publishAndWait(MQTTMessage(
            topic: topic, payload: command(["id": "c3", "command": "relay", "target": "r1", "value": true, "issued": ISO8601Text.format(Date())]),
            qos: .atLeastOnce))
        let refusedRelay = await result(rig, id: "c3")
        #expect(refusedRelay?["status"] as? String == "refused")
        #expect(reasonText(refusedRelay).contains("not allowed"))

        // Retained: refused, and never reaches the site.
        try await cloud.publishAndWait(MQTTMessage(
            topic: topic, payload: command(["id": "c4", "command": "slider", "value": 3, "issued": ISO8601Text.format(Date())]),
            qos: .atLeastOnce, retain: true))
        let retained = await result(rig, id: "c4")
        #expect(retained?["status"] as? String == "refused")
        #expect(retained?["field"] as? String == "retain")
        try await cloud.publishAndWait(MQTTMessage(topic: topic, payload: [], qos: .atLeastOnce, retain: true))
        #expect(await slider.next(timeout: .milliseconds(500)) == nil, "no refused command reached the site")
        await site.shutdown()
    }

    /// The cloud broker asks for a client certificate: the bridge's is accepted; one
    /// signed by another authority is refused with a clear TLS error and nothing is sent.
    @Test(.timeLimit(.minutes(2))) func aClientCertificateIsAcceptedAndAWrongOneRefused() async throws {
        let certs = try await TestCertificates.generate()
        let good = try await clientCertificate(signedBy: certs, name: "good")
        let stranger = try await TestCertificates.generate(commonName: "Stranger CA")
        let bad = try await clientCertificate(signedBy: stranger, name: "bad")
        let cloud = try await MosquittoBroker.start(options: .init(
            tls: .init(caFile: certs.caFile, certificateFile: certs.serverCertificate, keyFile: certs.serverKey),
            extraConfiguration: ["require_certificate true"]))
        func yaml(_ c: (cert: String, key: String)) -> String {
            "    url: mqtts://127.0.0.1:\(cloud.port)\n    ca_file: \(certs.caFile)\n    cert_file: \(c.cert)\n    key_file: \(c.key)\n"
        }
        let rig = try await BridgeRig(cloud: cloud, cloudYAML: yaml(bad))
        defer { Task { await rig.shutdown() } }
        try await rig.subscribeCloud(tls: MQTTTLSConfiguration(caFile: certs.caFile, certificateFile: good.cert, privateKeyFile: good.key))
        let pub = try await rig.localClient()

        try rig.startBridge()
        #expect(await rig.waitForIntake())
        try await pub.publishAndWait(MQTTMessage(topic: "phasor/\(rig.site)/meter/m1/state", payload: meterPayload(1), qos: .atLeastOnce))
        #expect(await eventually(timeout: .seconds(15)) { rig.bridgeLog.contains("TLS error") }, "\(rig.bridgeLog.suffix(1500))")
        #expect(rig.envelopes.isEmpty)
        await rig.stopBridge()

        // The right certificate: what waited in the outbox goes out.
        let text = try String(contentsOfFile: rig.siteFile, encoding: .utf8)
        try text.replacingOccurrences(of: yaml(bad), with: yaml(good)).write(toFile: rig.siteFile, atomically: true, encoding: .utf8)
        try rig.startBridge()
        #expect(await eventually(timeout: .seconds(20)) { rig.envelopes.contains { $0.payload?["n"] as? Int == 1 } })
        await pub.shutdown()
    }

    func clientCertificate(signedBy ca: TestCertificates, name: String) async throws -> (cert: String, key: String) {
        let d = ca.directory.path
        let steps: [[String]] = [
            ["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=\(name)", "-keyout", "\(d)/\(name).key", "-out", "\(d)/\(name).csr"],
            ["x509", "-req", "-in", "\(d)/\(name).csr", "-CA", "\(d)/ca.crt", "-CAkey", "\(d)/ca.key", "-CAcreateserial", "-days", "2",
             "-out", "\(d)/\(name).crt"],
        ]
        for args in steps {
            let p = try ChildProcess("openssl", args, outputFile: "\(d)/openssl-\(name).log")
            #expect(await p.waitForExit(timeout: .seconds(30)) == 0)
        }
        return ("\(d)/\(name).crt", "\(d)/\(name).key")
    }
}

func reasonText(_ result: [String: Any]?) -> String { (result?["reason"] as? String) ?? "" }
