import MQTT

/// The bridge's section of the site file (`bridge:`), owned by the bridge and
/// checked by `BridgeSiteCheck`. Without `cloud:` the bridge only watches the
/// site's services (alerts), as before.
public struct BridgeSection: Decodable, Sendable {
    public var cloud: CloudSection?
    public var outbox: OutboxSection?
    /// What is forwarded, first match wins; default `ForwardRule.defaults`.
    public var forward: [ForwardRule]?
    /// Topics summed up before forwarding (averages, energy per window), first match
    /// wins; a topic an aggregate takes is forwarded raw only with `raw: true`.
    public var aggregate: [AggregateRule]?
    public var commands: CommandsSection?

    public init(cloud: CloudSection? = nil, outbox: OutboxSection? = nil, forward: [ForwardRule]? = nil,
                aggregate: [AggregateRule]? = nil, commands: CommandsSection? = nil) {
        self.cloud = cloud
        self.outbox = outbox
        self.forward = forward
        self.aggregate = aggregate
        self.commands = commands
    }
}

/// The cloud broker: MQTT 5 (3.1.1 when the broker refuses 5, or when asked), TLS
/// with a client certificate or user name and password.
public struct CloudSection: Decodable, Sendable {
    /// `mqtts://cloud.example.com:8883` (or `mqtt://` on a trusted network).
    public var url: String
    /// First topic level(s) in the cloud; the site id follows. Default `phasor`.
    public var prefix: String?
    /// Default `phasor-bridge-<site>`: fixed, so the broker keeps our session.
    public var clientId: String?
    /// `auto` (default: 5, falling back to 3.1.1), `5` or `3.1.1`.
    public var `protocol`: String?
    public var username: String?
    public var passwordFile: String?
    public var caFile: String?
    public var certFile: String?
    public var keyFile: String?
    /// Tests only: no certificate checks.
    public var insecure: Bool?
    public var keepAlive: Int?
    /// How long the cloud broker keeps our session while we are away (default 86400 s).
    public var sessionExpiryS: Int?
    /// Our own bound on messages in flight (default 100); the broker's Receive Maximum bounds it further.
    public var maxInflight: Int?
    /// Backlog replay rate after an outage, messages per second (default 2000).
    public var backlogRate: Int?
    /// A message the broker has not acknowledged after this long, on a connection that
    /// is up, means the connection is dead: it is cut and made again (default 60 s).
    public var ackTimeoutS: Int?

    public init(url: String, prefix: String? = nil) {
        self.url = url
        self.prefix = prefix
    }
}

/// Where the outbox lives, how big it may grow and what it survives.
public struct OutboxSection: Decodable, Sendable {
    /// Default `/var/lib/phasor/outbox.sqlite`.
    public var path: String?
    /// Byte bound of the queued payloads; default `max_disk_share` of the free disk at start.
    public var maxBytes: Int?
    /// Share of the free disk used when `max_bytes` is not given (default 0.1).
    public var maxDiskShare: Double?
    /// `process` (default: survives kill -9; WAL, normal sync) or `power` (survives power
    /// loss: full sync, group commit).
    public var durability: Durability?
    /// The login of the intake's own connection to the site's broker (a second,
    /// persistent session). Needed where the broker makes the client id the user name
    /// (deploy/: user `bridge_outbox`); default: the bridge's own login.
    public var username: String?
    public var passwordFile: String?
}

public enum Durability: String, Decodable, Sendable, CaseIterable {
    case process
    case power
}

/// Commands from the cloud to the site.
public struct CommandsSection: Decodable, Sendable {
    /// Command names allowed (default all of `CommandKind`).
    public var allow: [CommandKind]?
    /// A command older than this (by its `issued` time) is refused as expired; default 60 s.
    public var maxAgeS: Int?
}
