import HomeAssistant
import Modbus
import PhasorCore
import PhasorService
import Pulse

/// What the gateway tells Home Assistant about the devices it owns: itself, every
/// meter (P1, TIC, Modbus meters and inverters, S0 pulse inputs), charge point and
/// relay, each as one device reached `via_device` the gateway, available while
/// the gateway is online and the device's own `device/<id>/availability` says so.
///
/// Meters are announced from their readings (`observe`): the payload lists the
/// quantities the meter actually sends, and P1/TIC meters are identified by the
/// serial in their telegrams (`meter_id`), so a meter keeps its entities when
/// its device id or the gateway's machine changes. Modbus devices are identified
/// by where they are (host/port or bus, unit id) and their profile.
public final class GatewayDiscovery: Sendable {
    let publisher: DiscoveryPublisher
    let topics: TopicBuilder
    let gatewayNode: String
    private let templates: [String: Template]
    /// Quantities each meter was announced with.
    private let announced = Locked<[String: Set<Quantity>]>([:])

    struct Template: Sendable {
        var name: String
        var manufacturer: String?
        var model: String
        /// Fixed identity (Modbus, pulses); nil: from the telegram's serial.
        var node: String?
        var availability: Bool
    }

    /// Every Phasor device id the gateway announces for this site (for the registry).
    public static func deviceIDs(site: SiteConfiguration, modbus: ModbusSection?, demo: Bool = false) -> Set<String> {
        Set(["gateway"] + (site.meters ?? []).map(\.id) + (modbus?.devices ?? []).map(\.id)
            + (modbus?.relays ?? []).map { "relay_\($0.id)" } + (site.pulses?.inputs ?? []).map(\.id)
            + (demo ? [DemoMeter.deviceID] : []))
    }

    public init(publisher: DiscoveryPublisher, topics: TopicBuilder, site: SiteConfiguration, modbus: ModbusSection?,
                demo: Bool = false) {
        self.publisher = publisher
        self.topics = topics
        let siteID = topics.site
        gatewayNode = DiscoveryIdentity.service(site: siteID, .gateway)
        var templates: [String: Template] = [:]
        for meter in site.meters ?? [] {
            templates[meter.id] = Template(
                name: meter.id, manufacturer: nil, model: meter.type == .p1 ? "P1 meter (DSMR)" : "Linky / TIC meter",
                node: nil, availability: true)
        }
        let profiles = modbus?.profileLibrary()
        for device in modbus?.devices ?? [] {
            let profile = profiles?.profiles[device.profile]?.profile
            templates[device.id] = Template(
                name: device.id, manufacturer: profile?.manufacturer, model: profile?.model ?? device.profile,
                node: DiscoveryIdentity.modbus(site: siteID, host: device.host, port: device.port, bus: device.bus,
                                               unit: device.unitId, profile: device.profile),
                availability: true)
        }
        for input in site.pulses?.inputs ?? [] {
            templates[input.id] = Template(
                name: input.id, manufacturer: nil, model: "S0 pulse input",
                node: DiscoveryIdentity.node(siteID, "pulse", input.gpio, "line\(input.line)"), availability: true)
        }
        if demo {
            templates[DemoMeter.deviceID] = Template(
                name: "Demo meter", manufacturer: "Phasor", model: "Simulated meter (--demo)",
                node: DiscoveryIdentity.node(siteID, "demo", DemoMeter.deviceID), availability: false)
        }
        self.templates = templates
        announceFixed(modbus: modbus, profiles: profiles)
        // Modbus meters and inverters are announced from their profile at once, so a
        // device that never answers still shows up (unavailable) in Home Assistant.
        for device in modbus?.devices ?? [] {
            guard let profile = profiles?.profiles[device.profile], profile.charger == nil,
                  let template = templates[device.id], !profile.registers.isEmpty else { continue }
            let quantities = Set(profile.registers.map(\.quantity))
            announced.withLock { $0[device.id] = quantities }
            announceMeter(device.id, template, quantities: quantities, serial: nil)
        }
    }

    /// The gateway itself, charge points and relays: known from the site file alone.
    private func announceFixed(modbus: ModbusSection?, profiles: ProfileLibrary?) {
        let status = topics.status(.gateway)
        publisher.announce("gateway", DiscoveryDevice(
            nodeID: gatewayNode, identifiers: [gatewayNode], name: "Phasor gateway", manufacturer: "Phasor",
            model: "phasor-gateway", availability: [status],
            components: [DiscoveryComponent(
                key: "started", platform: .sensor, name: "Started", stateTopic: topics.heartbeat(.gateway),
                valueTemplate: "{{ value_json.started }}",
                entityClass: EntityClass(deviceClass: "timestamp", entityCategory: "diagnostic"))]))
        for device in modbus?.devices ?? [] {
            guard let profile = profiles?.profiles[device.profile], profile.charger != nil,
                  let template = templates[device.id], let node = template.node else { continue }
            let state = topics.chargePointState(device.id)
            func field(_ key: String, _ name: String, _ quantity: Quantity) -> DiscoveryComponent {
                .jsonSensor(key, name: name, topic: state, template: "{{ value_json.\(key) }}", as: quantity)
            }
            var status = DiscoveryComponent(key: "status", platform: .sensor, name: "Status", stateTopic: state,
                                            valueTemplate: "{{ value_json.status }}")
            status.entityClass = EntityClass()
            publisher.announce(device.id, DiscoveryDevice(
                nodeID: node, identifiers: [node], name: template.name, manufacturer: template.manufacturer,
                model: template.model, viaDevice: gatewayNode,
                availability: [topics.status(.gateway), topics.deviceAvailability(device.id)],
                components: [
                    status,
                    field("power", "Charging power", .power),
                    field("energy_import", "Energy charged", .energyImport),
                    field("current_l1", "Current L1", .current),
                    field("current_l2", "Current L2", .current),
                    field("current_l3", "Current L3", .current),
                    field("current_limit", "Current limit", .current),
                ],
                ownedTopics: [state, topics.chargePointApplied(device.id), topics.deviceAvailability(device.id),
                              topics.deviceStats(device.id)]))
        }
        for relay in modbus?.relays ?? [] {
            let node = DiscoveryIdentity.node(topics.site, "relay", relay.id)
            var availability = [status]
            if let device = relay.device { availability.append(topics.deviceAvailability(device)) }
            var control = DiscoveryComponent(
                key: "relay", platform: .switch, name: "Relay", stateTopic: topics.relayState(relay.id),
                valueTemplate: "{{ 'on' if value_json.on else 'off' }}", commandTopic: topics.relayCommand(relay.id))
            control.payloadOn = "on"
            control.payloadOff = "off"
            control.stateOn = "on"
            control.stateOff = "off"
            publisher.announce("relay_\(relay.id)", DiscoveryDevice(
                nodeID: node, identifiers: [node], name: relay.id, model: "Relay", viaDevice: gatewayNode,
                availability: availability, components: [control], ownedTopics: [topics.relayState(relay.id)]))
        }
    }

    /// Called with every reading the gateway publishes: announces the meter the first
    /// time, and again when it shows a quantity it had not sent before.
    public func observe(_ reading: Reading) {
        guard let template = templates[reading.device] else { return }
        let grew: Set<Quantity>? = announced.withLock { known in
            let before = known[reading.device] ?? []
            if reading.values.allSatisfy({ before.contains($0.quantity) }) { return nil }
            let after = before.union(reading.values.map(\.quantity))
            known[reading.device] = after
            return after
        }
        guard let quantities = grew else { return }
        announceMeter(reading.device, template, quantities: quantities, serial: reading[.meterID]?.text)
    }

    /// A meter (or inverter) with these quantities, one sensor each on its plain topic.
    private func announceMeter(_ id: String, _ template: Template, quantities: Set<Quantity>, serial: String?) {
        let node = template.node ?? serial.map(DiscoveryIdentity.meter(serial:))
            ?? DiscoveryIdentity.node(topics.site, "meter", id)
        let sorted = quantities.sorted { $0.rawValue < $1.rawValue }
        publisher.announce(id, DiscoveryDevice(
            nodeID: node, identifiers: [node], name: template.name, manufacturer: template.manufacturer,
            model: template.model, serialNumber: serial, viaDevice: gatewayNode,
            availability: [topics.status(.gateway)] + (template.availability ? [topics.deviceAvailability(id)] : []),
            components: sorted.map { .sensor($0, topic: topics.meterQuantity(id, $0)) },
            ownedTopics: [topics.meterState(id), topics.meterStats(id), topics.deviceAvailability(id), topics.deviceStats(id)]
                + sorted.map { topics.meterQuantity(id, $0) }))
    }
}
