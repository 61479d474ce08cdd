import Foundation
import HomeAssistant
import Logging
import MQTT
import PhasorCore
import ServiceLifecycle

/// Publishes a service's Home Assistant discovery (device-based, retained) and
/// keeps it true: the MQTT side of the `HomeAssistant` module.
///
/// - `announce` sets what one Phasor device looks like; a change is published at
///   once (a meter's payload grows as its telegrams show new quantities).
/// - At start (once connected) it reads its registry (`…/homeassistant/<service>/registry`,
///   retained, read with a SUBSCRIBE barrier, no timer), clears the discovery and
///   retained topics of devices that left the site file, and publishes everything.
/// - When Home Assistant says `<prefix>/status` = `online`, and after every
///   reconnect, it publishes everything again (a broker without persistence forgot it).
///
/// Never retained: commands. Entities' command topics are the existing `…/set`
/// and `relay/<id>/command` topics, which refuse retained messages.
public final class DiscoveryPublisher: Service, Sendable {
    let client: MQTTClient
    let prefix: String
    let registryTopic: String
    /// The Phasor device ids the site file has now: registry entries of others are removed.
    let configured: Set<String>
    let logger: Logger
    private let state = Locked(State())

    struct State {
        var devices: [String: DiscoveryDevice] = [:]
        /// Payload last published per device (nil: not yet).
        var published: [String: [UInt8]] = [:]
        var registry = DiscoveryRegistry()
        var started = false
    }

    public init(client: MQTTClient, topics: TopicBuilder, service: ServiceName, configuration: HomeAssistantConfiguration,
                configured: Set<String>, logger: Logger) {
        self.client = client
        self.prefix = configuration.resolvedPrefix
        self.registryTopic = topics.homeAssistantRegistry(service)
        self.configured = configured
        self.logger = logger
    }

    /// Sets the discovery of Phasor device `id` (published now if it changed and the
    /// registry was read). Cheap when nothing changed.
    public func announce(_ id: String, _ device: DiscoveryDevice) {
        let send: Bool = state.withLock { s in
            guard s.devices[id] != device else { return false }
            s.devices[id] = device
            return s.started
        }
        if send { publishChanged(force: false) }
    }

    /// Whether `id` is announced with this payload already (for callers that build lazily).
    public func isAnnounced(_ id: String) -> Bool { state.withLock { $0.devices[id] != nil } }

    public func run() async throws {
        let events = client.connectionEvents()
        let status = try await client.subscribe("\(prefix)/status", qos: .atLeastOnce)
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                var first = true
                if self.client.isConnected { await self.start(); first = false }
                for await event in events {
                    guard case .connected = event else { continue }
                    if first { await self.start(); first = false } else { self.publishAll(reason: "reconnected") }
                }
            }
            group.addTask {
                for await message in status where String(decoding: message.payload, as: UTF8.self) == "online" {
                    if self.state.withLock({ $0.started }) { self.publishAll(reason: "home assistant online") }
                }
            }
            try? await gracefulShutdown()
            status.cancel()
            group.cancelAll()
        }
    }

    /// Reads the registry, removes what left the site, publishes everything.
    private func start() async {
        let stored = await RetainedCommands.storedCopy(of: registryTopic, client: client)
        let previous = stored.flatMap(DiscoveryRegistry.decode) ?? DiscoveryRegistry()
        let announced = state.withLock { s in
            s.registry = previous
            s.started = true
            return s.devices.mapValues(\.nodeID)
        }
        for removal in previous.removals(configured: configured, announced: announced) {
            logger.info("home assistant: removing device", metadata: ["device": "\(removal.device)", "node": "\(removal.node)"])
            retain(DiscoveryPayload.topic(prefix: prefix, nodeID: removal.node), [])
            for topic in removal.topics { retain(topic, []) }
        }
        publishAll(reason: "start")
    }

    func publishAll(reason: String) {
        let count = state.withLock { s in
            s.published = [:]
            return s.devices.count
        }
        logger.info("home assistant discovery", metadata: ["devices": "\(count)", "reason": "\(reason)", "prefix": "\(prefix)"])
        publishChanged(force: true)
    }

    /// Publishes every device whose payload changed, then the registry if it changed
    /// (or always, with `force`).
    private func publishChanged(force: Bool) {
        let (messages, registry): ([(String, [UInt8])], [UInt8]?) = state.withLock { s in
            var out: [(String, [UInt8])] = []
            for (id, device) in s.devices.sorted(by: { $0.key < $1.key }) {
                let payload = DiscoveryPayload.encode(device)
                if s.published[id] != payload {
                    s.published[id] = payload
                    out.append((DiscoveryPayload.topic(prefix: prefix, nodeID: device.nodeID), payload))
                }
            }
            let next = s.registry.merged(with: s.devices, configured: configured)
            guard next != s.registry || force else { return (out, nil) }
            s.registry = next
            return (out, next.encode())
        }
        for (topic, payload) in messages { retain(topic, payload) }
        if let registry { retain(registryTopic, registry) }
    }

    private func retain(_ topic: String, _ payload: [UInt8]) {
        do {
            try client.publish(MQTTMessage(topic: topic, payload: payload, qos: .atLeastOnce, retain: true))
        } catch {
            logger.warning("home assistant discovery not published", metadata: ["topic": "\(topic)", "error": "\(error)"])
        }
    }
}

extension MQTTSessionService {
    /// The service's discovery publisher, or nil when the site turned discovery off
    /// (`homeassistant: {discovery: false}`). `configured`: the Phasor device ids the
    /// service owns now (registry entries of any other are removed).
    public func discoveryPublisher(configured: Set<String>, logger: Logger) -> DiscoveryPublisher? {
        let configuration = settings.site.homeassistant ?? HomeAssistantConfiguration()
        guard configuration.enabled else { return nil }
        return DiscoveryPublisher(client: client, topics: settings.topics, service: settings.service,
                                  configuration: configuration, configured: configured, logger: logger)
    }
}
