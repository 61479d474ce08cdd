import Foundation
import MeterIO
import P1
import PhasorCore

/// One meter, checked and resolved from the site file or the quick-start flags:
/// everything `MeterService` needs, with defaults filled in.
public struct MeterSettings: Sendable {
    public var id: String
    public var kind: MeterConfiguration.Kind
    public var source: MeterSourceURL
    public var serial: SerialSettings
    /// What the serial source tries, in turn, when the line carries bytes but no
    /// valid frame: TIC in `auto` mode tries 1200 Bd (historique) then 9600 Bd
    /// (standard). One entry otherwise.
    public var serialAlternatives: [SerialSettings]
    /// Luxembourg Smarty AES-128 key; nil for plain telegrams.
    public var smartyKey: [UInt8]?
    public var splitPort: Int?
    /// The address the split listens on (`split_bind`, default 127.0.0.1).
    public var splitBind: String
    public var policy: PublishPolicy
    /// "Meter lost" after this many nominal periods without a valid telegram.
    public var meterLostPeriods: Double
    public var replayBytesPerSecond: Int?

    /// Two periods is the least the P1 reference allows; three rides out one
    /// lost telegram plus jitter.
    public static let defaultMeterLostPeriods = 3.0

    public init(_ c: MeterConfiguration) throws(MeterSettingsError) {
        guard c.id.range(of: "^[A-Za-z0-9_-]+$", options: .regularExpression) != nil else {
            throw MeterSettingsError(meter: c.id, "id: use letters, digits, '-' and '_' only (it becomes a topic level)")
        }
        id = c.id
        kind = c.type
        do {
            source = try MeterSourceURL(parsing: c.source)
        } catch {
            throw MeterSettingsError(meter: c.id, "source \(error)")
        }
        var line: SerialSettings
        switch (c.type, c.ticMode ?? .auto) {
        case (.p1, _): line = .p1DSMR4and5
        case (.tic, .standard): line = .ticStandard
        case (.tic, .historique), (.tic, .auto): line = .ticHistorique
        }
        if c.type == .p1, c.ticMode != nil { throw MeterSettingsError(meter: c.id, "tic_mode: only for type tic") }
        if let o = c.serial {
            if let b = o.baud { line.baudRate = b }
            if let d = o.dataBits { line.dataBits = d }
            if let p = o.parity { line.parity = SerialSettings.Parity(rawValue: p.rawValue) ?? .none }
            if let s = o.stopBits { line.stopBits = s }
        }
        do { try line.validate() } catch { throw MeterSettingsError(meter: c.id, "serial: \(error)") }
        serial = line
        let autoBaud = c.type == .tic && (c.ticMode ?? .auto) == .auto && c.serial?.baud == nil
        serialAlternatives = autoBaud ? [line, SerialSettings(baudRate: SerialSettings.ticStandard.baudRate, dataBits: line.dataBits,
                                                              parity: line.parity, stopBits: line.stopBits)] : [line]
        smartyKey = try Self.smartyKey(c)
        if let port = c.splitPort {
            guard c.type == .p1 else { throw MeterSettingsError(meter: c.id, "split_port: only for type p1") }
            guard (1...65535).contains(port) else { throw MeterSettingsError(meter: c.id, "split_port \(port): use 1…65535") }
        }
        splitPort = c.splitPort
        splitBind = c.splitBind ?? FanOutServer.loopback
        if c.splitBind != nil {
            guard c.type == .p1, c.splitPort != nil else { throw MeterSettingsError(meter: c.id, "split_bind: only with split_port") }
            guard FanOutServer.isIPv4Address(splitBind) else {
                throw MeterSettingsError(meter: c.id, "split_bind '\(splitBind)': use an IPv4 address (127.0.0.1, 0.0.0.0 for every interface)")
            }
        }
        do { policy = try PublishPolicy(c.publish) } catch { throw MeterSettingsError(meter: c.id, "publish: \(error)") }
        meterLostPeriods = c.meterLostPeriods ?? Self.defaultMeterLostPeriods
        guard meterLostPeriods >= 2 else {
            throw MeterSettingsError(meter: c.id, "meter_lost_periods \(meterLostPeriods): use 2 or more (one late telegram is not a lost meter)")
        }
        replayBytesPerSecond = c.replayBytesPerSecond ?? line.baudRate / 10
    }

    /// Every meter of a site, checked, ids unique.
    public static func resolve(_ meters: [MeterConfiguration]) throws(MeterSettingsError) -> [MeterSettings] {
        var seen: Set<String> = []
        var out: [MeterSettings] = []
        for m in meters {
            guard seen.insert(m.id).inserted else { throw MeterSettingsError(meter: m.id, "id given twice") }
            out.append(try MeterSettings(m))
        }
        return out
    }

    private static func smartyKey(_ c: MeterConfiguration) throws(MeterSettingsError) -> [UInt8]? {
        var hex = c.smartyKey
        if let path = c.smartyKeyFile {
            guard hex == nil else { throw MeterSettingsError(meter: c.id, "give smarty_key or smarty_key_file, not both") }
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw MeterSettingsError(meter: c.id, "smarty_key_file: cannot read '\(path)'")
            }
            hex = text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        guard let hex else { return nil }
        guard c.type == .p1 else { throw MeterSettingsError(meter: c.id, "smarty_key: only for type p1") }
        guard let key = SmartyDecryptor.keyBytes(hex: hex) else {
            throw MeterSettingsError(meter: c.id, "smarty_key: expected 32 hex digits (16 bytes)")
        }
        return key
    }
}

public struct MeterSettingsError: Error, Sendable, CustomStringConvertible {
    public var meter: String
    public var message: String
    public var description: String { "meter '\(meter)': \(message)" }
    init(meter: String, _ message: String) {
        self.meter = meter
        self.message = message
    }
}
