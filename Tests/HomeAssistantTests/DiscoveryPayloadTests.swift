import Foundation
import HomeAssistant
import PhasorCore
import Testing

@Suite struct DiscoveryPayloadTests {
    let topics = TopicBuilder(site: "home")

    func meter() -> DiscoveryDevice {
        let node = DiscoveryIdentity.meter(serial: "E0043007052870318")
        return DiscoveryDevice(
            nodeID: node, identifiers: [node], name: "p1", model: "P1 meter (DSMR)", serialNumber: "E0043007052870318",
            viaDevice: DiscoveryIdentity.service(site: "home", .gateway),
            availability: [topics.status(.gateway), topics.deviceAvailability("p1")],
            components: [.sensor(Quantity.energyImport.tariff(1), topic: topics.meterQuantity("p1", Quantity.energyImport.tariff(1))),
                         .sensor(.power, topic: topics.meterQuantity("p1", .power))])
    }

    func json(_ device: DiscoveryDevice) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(DiscoveryPayload.encode(device))) as? [String: Any])
    }

    @Test func carriesDeviceOriginAvailabilityAndComponents() throws {
        let payload = try json(meter())
        let device = try #require(payload["device"] as? [String: Any])
        #expect(device["identifiers"] as? [String] == ["phasor_meter_E0043007052870318"])
        #expect(device["via_device"] as? String == "phasor_home_gateway")
        #expect(device["serial_number"] as? String == "E0043007052870318")
        let origin = try #require(payload["origin"] as? [String: Any])
        #expect(origin["name"] as? String == "Phasor")
        #expect(origin["sw_version"] as? String == PhasorVersion.string)
        let availability = try #require(payload["availability"] as? [[String: Any]])
        #expect(availability.map { $0["topic"] as? String } == ["phasor/home/status/gateway", "phasor/home/device/p1/availability"])
        #expect(payload["availability_mode"] as? String == "all")
        let components = try #require(payload["components"] as? [String: [String: Any]])
        let energy = try #require(components["energy_import_t1"])
        #expect(energy["platform"] as? String == "sensor")
        #expect(energy["unique_id"] as? String == "phasor_meter_E0043007052870318_energy_import_t1")
        #expect(energy["state_topic"] as? String == "phasor/home/meter/p1/energy_import_t1")
        #expect(energy["device_class"] as? String == "energy")
        #expect(energy["state_class"] as? String == "total_increasing")
        #expect(energy["unit_of_measurement"] as? String == "kWh")
        #expect(energy["name"] as? String == "Active energy imported, tariff 1")
        #expect(energy["default_entity_id"] as? String == "sensor.phasor_meter_E0043007052870318_energy_import_t1")
    }

    @Test func controlsAreNeverRetainedAndCarryTheirRange() throws {
        var number = DiscoveryComponent(key: "slider", platform: .number, name: "Power limit", stateTopic: topics.controlState,
                                        valueTemplate: "{{ value_json.slider_kw }}", commandTopic: topics.controlSet("slider"))
        number.min = 2.5
        number.max = 1000
        number.step = 0.1
        let node = DiscoveryIdentity.service(site: "home", .control)
        let payload = try json(DiscoveryDevice(nodeID: node, identifiers: [node], components: [number]))
        let slider = try #require((payload["components"] as? [String: [String: Any]])?["slider"])
        #expect(slider["retain"] as? Bool == false)
        #expect(slider["command_topic"] as? String == "phasor/home/control/slider/set")
        #expect(slider["min"] as? Double == 2.5)
        #expect(slider["max"] as? Double == 1000)
        #expect(slider["state_class"] == nil)
    }

    @Test func identitiesAreTopicSafeAndStable() {
        #expect(DiscoveryIdentity.modbus(site: "home", host: "192.168.1.20", port: nil, bus: nil, unit: 3, profile: "eastron_sdm630")
            == "phasor_home_modbus_192_168_1_20_502_u3_eastron_sdm630")
        #expect(DiscoveryIdentity.modbus(site: "home", host: nil, port: nil, bus: "/dev/ttyUSB0", unit: 1, profile: "abb_b23")
            == "phasor_home_modbus__dev_ttyUSB0_u1_abb_b23")
        #expect(DiscoveryIdentity.meter(serial: "0000 12/34") == "phasor_meter_0000_12_34")
    }

    @Test func entityNamesNeverRepeatTheDeviceName() {
        for quantity in Quantity.catalog.keys {
            #expect(!DiscoveryNames.name(of: quantity).lowercased().hasPrefix("p1"))
        }
        #expect(DiscoveryNames.name(of: Quantity("boiler_flow")) == "Boiler flow")
    }
}

@Suite struct DiscoveryRegistryTests {
    @Test func removesDevicesThatLeftTheSiteAndOldIdentities() {
        let registry = DiscoveryRegistry(devices: [
            "p1": .init(node: "phasor_meter_A", topics: ["phasor/home/meter/p1/state"]),
            "old": .init(node: "phasor_home_modbus_x", topics: ["phasor/home/meter/old/state"]),
            "tic": .init(node: "phasor_meter_T", topics: []),
        ])
        let removals = registry.removals(configured: ["p1", "tic"], announced: ["p1": "phasor_meter_B"])
        #expect(removals == [
            .init(device: "old", node: "phasor_home_modbus_x", topics: ["phasor/home/meter/old/state"]),
            .init(device: "p1", node: "phasor_meter_A", topics: []),
        ])
    }

    @Test func keepsConfiguredDevicesNotAnnouncedYetAndRoundTrips() throws {
        let registry = DiscoveryRegistry(devices: ["tic": .init(node: "phasor_meter_T", topics: ["t"]),
                                                   "gone": .init(node: "n", topics: [])])
        let node = "phasor_home_gateway"
        let next = registry.merged(with: ["gateway": DiscoveryDevice(nodeID: node, identifiers: [node])],
                                   configured: ["tic", "gateway"])
        #expect(Set(next.devices.keys) == ["tic", "gateway"])
        #expect(DiscoveryRegistry.decode(next.encode()) == next)
        #expect(DiscoveryRegistry.decode([]) == nil)
        #expect(DiscoveryRegistry.decode(Array("not json".utf8)) == nil)
    }
}
