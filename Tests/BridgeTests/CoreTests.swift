import BridgeCore
import Foundation
import MQTT
import Testing

@Suite("Bridge core") struct BridgeCoreTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func command(_ fields: [String: Any], retain: Bool = false) -> MQTTMessage {
        let data = try! JSONSerialization.data(withJSONObject: fields)
        return MQTTMessage(topic: "phasor/s/v1/command", payload: [UInt8](data), qos: .atLeastOnce, retain: retain)
    }

    var issued: String { ISO8601Text.format(now.addingTimeInterval(-2)) }

    @Test func aGoodSliderCommandBecomesTheLocalSetMessage() throws {
        let policy = CommandPolicy()
        let verdict = policy.check(command(["id": "a", "command": "slider", "value": 4.5, "issued": issued]), now: now) { _ in false }
        let c = try verdict.get()
        let local = CommandPolicy.localMessage(c, root: "phasor/s")
        #expect(local.topic == "phasor/s/control/slider/set")
        #expect(local.string == #"{"value":4.5}"#)
        #expect(!local.retain)
        let relay = try policy.check(command(["id": "b", "command": "relay", "target": "r1", "value": true, "issued": issued]), now: now) { _ in false }.get()
        #expect(CommandPolicy.localMessage(relay, root: "phasor/s").string == #"{"on":true}"#)
        #expect(CommandPolicy.localMessage(relay, root: "phasor/s").topic == "phasor/s/relay/r1/command")
    }

    @Test func refusalsSayWhy() {
        let policy = CommandPolicy(allowed: [.slider, .mode], maxAge: 60)
        func reason(_ m: MQTTMessage, seen: Bool = false) -> CommandRefusal? {
            if case .failure(let r) = policy.check(m, now: now, seen: { _ in seen }) { return r }
            return nil
        }
        let good: [String: Any] = ["id": "a", "command": "slider", "value": 4.5, "issued": issued]
        #expect(reason(command(good, retain: true))?.field == "retain")
        #expect(reason(command(good), seen: true)?.reason.contains("replayed") == true)
        var old = good
        old["issued"] = ISO8601Text.format(now.addingTimeInterval(-61))
        #expect(reason(command(old))?.reason.contains("expired") == true)
        var short = good
        short["expiry_s"] = 1
        #expect(reason(command(short))?.reason.contains("expired") == true)
        var relay = good
        relay["command"] = "relay"
        relay["target"] = "r1"
        #expect(reason(command(relay))?.reason.contains("not allowed") == true)
        var unknown = good
        unknown["command"] = "format_disk"
        #expect(reason(command(unknown))?.field == "command")
        var noTarget = good
        noTarget["command"] = "mode"
        #expect(reason(command(noTarget))?.field == "target")
        var badTarget = noTarget
        badTarget["target"] = "cp1/../#"
        #expect(reason(command(badTarget))?.field == "target")
        var noID = good
        noID.removeValue(forKey: "id")
        #expect(reason(command(noID))?.field == "id")
        #expect(reason(MQTTMessage(topic: "t", string: "4.5"))?.field == "payload")
        // An expired MQTT 5 message expiry also refuses.
        var expiring = command(good)
        expiring.properties.messageExpiryInterval = 0
        #expect(reason(expiring)?.reason.contains("expired") == true)
    }

    @Test func theEnvelopeEmbedsJSONAndQuotesText() throws {
        let e = CloudEnvelope(site: "s", stream: "meter/m1/state", seq: 7, sourceTime: now, historical: true, messageClass: .instantaneous,
                              payload: Array(#"{"a":1}"#.utf8))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(e.encode())) as? [String: Any])
        #expect(object["seq"] as? Int == 7)
        #expect(object["hist"] as? Bool == true)
        #expect((object["payload"] as? [String: Any])?["a"] as? Int == 1)
        #expect(e.userProperties.contains(MQTTUserProperty("hist", "1")))
        var text = e
        text.payload = Array("on\"line".utf8)
        text.historical = false
        let o2 = try #require(try JSONSerialization.jsonObject(with: Data(text.encode())) as? [String: Any])
        #expect(o2["payload"] as? String == "on\"line")
        #expect(!text.userProperties.contains { $0.name == "hist" })
    }

    @Test func sourceTimeComesFromThePayload() {
        let t = CloudEnvelope.sourceTime(of: Array(#"{"device":"m","time":"2027-01-15T08:00:00+01:00","x":1}"#.utf8))
        #expect(t == ISO8601DateFormatter().date(from: "2027-01-15T08:00:00+01:00"))
        #expect(CloudEnvelope.sourceTime(of: Array("12.5".utf8)) == nil)
    }

    @Test func defaultRulesClassifyRegistersApartFromInstantaneousValues() throws {
        let c = try StreamClassifier(root: "phasor/s", rules: ForwardRule.energyQuantities + ForwardRule.defaults)
        #expect(c.classify(topic: "phasor/s/meter/p1/energy_import")?.class == .energy)
        #expect(c.classify(topic: "phasor/s/meter/p1/energy_import_t1")?.class == .energy)
        #expect(c.classify(topic: "phasor/s/meter/p1/gas_volume")?.class == .energy)
        // By default only QoS 1 topics: not the per-quantity ones.
        #expect(try StreamClassifier(root: "phasor/s", rules: ForwardRule.defaults).classify(topic: "phasor/s/meter/p1/energy_import") == nil)
        #expect(c.classify(topic: "phasor/s/meter/p1/state")?.class == .instantaneous)
        #expect(c.classify(topic: "phasor/s/meter/p1/state")?.stream == "meter/p1/state")
        #expect(c.classify(topic: "phasor/s/alert/service_gateway")?.class == .alert)
        #expect(c.classify(topic: "phasor/s/meter/p1/power_import") == nil)
        #expect(c.classify(topic: "phasor/s/control/slider/set") == nil)
        #expect(c.classify(topic: "phasor/other/meter/p1/state") == nil)
    }
}
