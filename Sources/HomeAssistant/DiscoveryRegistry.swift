import Foundation

/// What one service published to Home Assistant, kept retained on the broker
/// (`…/homeassistant/<service>/registry`) beside the discovery it describes: per
/// Phasor device id, the node id it was announced under and the retained topics
/// that are its alone. When a device leaves the site file (or its hardware
/// identity changes), the service clears its discovery and those topics, so no
/// ghost entity stays in Home Assistant.
public struct DiscoveryRegistry: Sendable, Hashable, Codable {
    public struct Entry: Sendable, Hashable, Codable {
        public var node: String
        public var topics: [String]
        public init(node: String, topics: [String]) {
            self.node = node
            self.topics = topics
        }
    }

    public var devices: [String: Entry]

    public init(devices: [String: Entry] = [:]) { self.devices = devices }

    public init(_ published: [String: DiscoveryDevice]) {
        devices = published.mapValues { Entry(node: $0.nodeID, topics: $0.ownedTopics) }
    }

    /// Nil for an empty or unreadable payload (then nothing is removed).
    public static func decode(_ bytes: [UInt8]) -> DiscoveryRegistry? {
        guard !bytes.isEmpty else { return nil }
        return try? JSONDecoder().decode(DiscoveryRegistry.self, from: Data(bytes))
    }

    public func encode() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? Array(encoder.encode(self))) ?? []
    }

    /// What to clear, given the device ids the site file has now and the nodes now
    /// announced: devices no longer configured (all their topics), and old nodes of
    /// devices now announced under another identity (only the discovery).
    public func removals(configured: Set<String>, announced: [String: String]) -> [Removal] {
        devices.sorted { $0.key < $1.key }.compactMap { id, entry in
            if !configured.contains(id) { return Removal(device: id, node: entry.node, topics: entry.topics) }
            if let node = announced[id], node != entry.node { return Removal(device: id, node: entry.node, topics: []) }
            return nil
        }
    }

    /// The registry to keep after announcing `published`: entries of devices still
    /// configured but not announced yet since the start (a meter before its first
    /// telegram) are kept, so a later start still knows them.
    public func merged(with published: [String: DiscoveryDevice], configured: Set<String>) -> DiscoveryRegistry {
        var next = devices.filter { configured.contains($0.key) }
        for (id, device) in published { next[id] = Entry(node: device.nodeID, topics: device.ownedTopics) }
        return DiscoveryRegistry(devices: next)
    }

    public struct Removal: Sendable, Hashable {
        public var device: String
        public var node: String
        /// Retained topics to clear with the discovery (empty when only the identity changed).
        public var topics: [String]
        public init(device: String, node: String, topics: [String]) {
            self.device = device
            self.node = node
            self.topics = topics
        }
    }
}

/// The `homeassistant:` section of the site file.
///
/// ```yaml
/// homeassistant:
///   discovery: true          # default true
///   prefix: homeassistant    # HA's discovery prefix
/// ```
public struct HomeAssistantConfiguration: Decodable, Sendable, Hashable {
    public var discovery: Bool?
    public var prefix: String?

    public init(discovery: Bool? = nil, prefix: String? = nil) {
        self.discovery = discovery
        self.prefix = prefix
    }

    public static let defaultPrefix = "homeassistant"
    public var enabled: Bool { discovery ?? true }
    public var resolvedPrefix: String { prefix ?? Self.defaultPrefix }
}
