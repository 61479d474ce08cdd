import Foundation

/// Telegrams of a three-phase P1 meter whose values a test or benchmark chooses:
/// a DSMR 5 / e-MUCS telegram is the template, and each telegram gets the meter
/// time, the per-phase currents and the matching powers, with its CRC recomputed.
///
/// The meter clock is what the gateway stamps the reading with, so a caller that
/// writes faster than once a second still steps it by a whole second per telegram:
/// control ignores a reading that is not newer than the one it holds.
public struct SimulatedP1Meter: Sendable {
    public enum TemplateError: Error, CustomStringConvertible {
        case missing(String)
        public var description: String {
            switch self { case .missing(let line): "the template telegram has no line starting with \(line)" }
        }
    }

    /// The lines the template must carry, each replaced whole.
    static let timeKey = "0-0:1.0.0("
    static let importPowerKey = "1-0:1.7.0("
    static let phasePowerKeys = ["1-0:21.7.0(", "1-0:41.7.0(", "1-0:61.7.0("]
    static let currentKeys = ["1-0:31.7.0(", "1-0:51.7.0(", "1-0:71.7.0("]
    /// Export powers, replaced when the template carries them (a negative current exports).
    static let exportPowerKey = "1-0:2.7.0("
    static let phaseExportKeys = ["1-0:22.7.0(", "1-0:42.7.0(", "1-0:62.7.0("]

    private let lines: [String]
    public let voltage: Double

    /// `template`: a complete telegram carrying 0-0:1.0.0, 1-0:1.7.0, the three
    /// per-phase powers and currents (the Fluvius e-MUCS fixture does).
    public init(template: [UInt8], voltage: Double = 230) throws(TemplateError) {
        let text = String(decoding: template, as: UTF8.self)
        lines = text.components(separatedBy: "\r\n")
        self.voltage = voltage
        for key in [Self.timeKey, Self.importPowerKey] + Self.phasePowerKeys + Self.currentKeys
        where !lines.contains(where: { $0.hasPrefix(key) }) {
            throw .missing(key)
        }
    }

    /// A telegram stamped `time` (Belgian local time, as the meter sends it) with
    /// `currents` A on L1, L2, L3 drawn at the meter's voltage; a negative current is
    /// exported (PV): its power goes to the export lines, its magnitude to the current line.
    public func telegram(time: Date, currents: [Double]) -> [UInt8] {
        let powers = currents.map { max(0, $0) * voltage / 1000 }
        let exports = currents.map { max(0, -$0) * voltage / 1000 }
        var replaced: [String: String] = [
            Self.timeKey: "0-0:1.0.0(\(Self.meterTime(time)))",
            Self.importPowerKey: String(format: "1-0:1.7.0(%06.3f*kW)", powers.reduce(0, +)),
            Self.exportPowerKey: String(format: "1-0:2.7.0(%06.3f*kW)", exports.reduce(0, +)),
        ]
        for phase in 0..<3 {
            replaced[Self.phasePowerKeys[phase]] = Self.phasePowerKeys[phase] + String(format: "%06.3f*kW)", powers[phase])
            replaced[Self.phaseExportKeys[phase]] = Self.phaseExportKeys[phase] + String(format: "%06.3f*kW)", exports[phase])
            replaced[Self.currentKeys[phase]] = Self.currentKeys[phase] + String(format: "%06.2f*A)", abs(currents[phase]))
        }
        let body = lines.map { line in
            replaced.first { line.hasPrefix($0.key) }?.value ?? line
        }.joined(separator: "\r\n")
        // The CRC covers everything from '/' up to and including '!'.
        let bytes = Array(body.utf8)
        guard let bang = bytes.firstIndex(of: UInt8(ascii: "!")) else { return bytes }
        let crc = String(format: "%04X", P1TelegramEditing.crc16ARC(bytes[...bang]))
        return Array(bytes[...bang]) + Array((crc + "\r\n").utf8)
    }

    /// YYMMDDhhmmss plus S (summer) or W (winter), in Europe/Brussels.
    static func meterTime(_ date: Date) -> String {
        let zone = TimeZone(identifier: "Europe/Brussels")!
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        let digits = [c.year! % 100, c.month!, c.day!, c.hour!, c.minute!, c.second!].map { String(format: "%02d", $0) }
        return digits.joined() + (zone.isDaylightSavingTime(for: date) ? "S" : "W")
    }
}
