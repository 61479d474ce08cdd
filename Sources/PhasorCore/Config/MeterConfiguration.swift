/// One meter of the site file's `meters:` list. Plain data, decoded strictly
/// (unknown key → file:line: field); the gateway checks the values when it builds
/// the meter, so a bad URL or key also names the meter.
///
/// ```yaml
/// meters:
///   - id: p1
///     type: p1
///     source: /dev/ttyUSB0          # or tcp://dongle:8088, file:///var/lib/capture.txt
///     split_port: 2000
///     split_bind: 0.0.0.0           # default 127.0.0.1
///     publish: {min_interval: 5, max_interval: 300, deadband: {power: 10, voltage_l1: 1}}
///   - id: tic1
///     type: tic
///     source: /dev/ttyAMA0
///     tic_mode: standard
/// ```
public struct MeterConfiguration: Decodable, Sendable, Hashable {
    public enum Kind: String, Decodable, Sendable, Hashable, CaseIterable { case p1, tic }
    public enum TICModeSetting: String, Decodable, Sendable, Hashable, CaseIterable { case auto, historique, standard }

    /// The device id: the topic level `…/meter/<id>/…`.
    public var id: String
    public var type: Kind
    /// `/dev/ttyUSB0`, `tcp://host:port` or `file:///path`.
    public var source: String
    /// Serial line settings; each one given replaces the meter type's default.
    public var serial: SerialOverrides?
    /// TIC only: picks the baud rate (historique 1200, standard 9600); `auto` starts
    /// at 1200 (factory setting) — the frames' own separators tell the parser the mode.
    public var ticMode: TICModeSetting?
    /// Luxembourg Smarty: the 16-byte AES key as 32 hex digits, or a file holding it.
    public var smartyKey: String?
    public var smartyKeyFile: String?
    /// P1 only: a TCP port that streams every raw telegram to any number of clients.
    public var splitPort: Int?
    /// P1 only: the IPv4 address the split listens on; by default 127.0.0.1 (this
    /// machine only), `0.0.0.0` for every interface.
    public var splitBind: String?
    public var publish: PublishPolicyConfiguration?
    /// "Meter lost" after this many nominal telegram periods without a valid telegram.
    public var meterLostPeriods: Double?
    /// `file://` sources: replay rate in bytes per second (default: the line's rate).
    public var replayBytesPerSecond: Int?

    public init(id: String, type: Kind, source: String, serial: SerialOverrides? = nil, ticMode: TICModeSetting? = nil,
                smartyKey: String? = nil, smartyKeyFile: String? = nil, splitPort: Int? = nil,
                publish: PublishPolicyConfiguration? = nil, meterLostPeriods: Double? = nil, replayBytesPerSecond: Int? = nil,
                splitBind: String? = nil) {
        self.id = id
        self.type = type
        self.source = source
        self.serial = serial
        self.ticMode = ticMode
        self.smartyKey = smartyKey
        self.smartyKeyFile = smartyKeyFile
        self.splitPort = splitPort
        self.splitBind = splitBind
        self.publish = publish
        self.meterLostPeriods = meterLostPeriods
        self.replayBytesPerSecond = replayBytesPerSecond
    }
}

public struct SerialOverrides: Decodable, Sendable, Hashable {
    public enum Parity: String, Decodable, Sendable, Hashable, CaseIterable { case none, even, odd }
    public var baud: Int?
    public var dataBits: Int?
    public var parity: Parity?
    public var stopBits: Int?

    public init(baud: Int? = nil, dataBits: Int? = nil, parity: Parity? = nil, stopBits: Int? = nil) {
        self.baud = baud
        self.dataBits = dataBits
        self.parity = parity
        self.stopBits = stopBits
    }
}

/// How the per-quantity topics are thinned out (the JSON state always carries
/// every telegram). Intervals in seconds; deadbands in the quantity's unit.
public struct PublishPolicyConfiguration: Decodable, Sendable, Hashable {
    /// Never publish a quantity more often than this.
    public var minInterval: Double?
    /// Republish an unchanged quantity after this long.
    public var maxInterval: Double?
    /// Publish only when a value moved at least this much (quantity name → amount).
    public var deadband: [String: Double]?

    public init(minInterval: Double? = nil, maxInterval: Double? = nil, deadband: [String: Double]? = nil) {
        self.minInterval = minInterval
        self.maxInterval = maxInterval
        self.deadband = deadband
    }
}
