import Foundation
import PhasorCore

/// Writes an inverter's limits through its profile's `setpoints` registers: values in W,
/// a `percent` register as a share of the site's rating. The setup writes go first, once;
/// an unchanged value is written again only after the profile's `refresh_s`.
public actor InverterSetpointWriter {
    public nonisolated let device: ModbusDevice
    public nonisolated let spec: InverterSetpointSpec
    public nonisolated let limits: InverterSetpointLimits
    private let clock: any WallClock
    private var setupDone = false
    private var written: [String: (value: Double, at: Date)] = [:]

    public init(device: ModbusDevice, limits: InverterSetpointLimits, clock: any WallClock = SystemWallClock()) throws(ConfigError) {
        guard let spec = device.profile.profile.setpoints else {
            throw ConfigError(file: device.profile.file, line: nil, field: "setpoints", message: "\(device.profile.id) takes no setpoints")
        }
        self.device = device
        self.spec = spec
        self.limits = limits
        self.clock = clock
    }

    /// The wire fields this device takes (`active_power_limit_w`…).
    public nonisolated var fields: [String] { spec.points.map(\.field) }

    /// Writes each value (W). Stops at the first failure.
    public func write(_ values: [(field: String, watts: Double)]) async throws(ModbusError) {
        let now = clock.now()
        if !setupDone {
            for w in spec.setup ?? [] { try await write(w.register, raw: w.value) }
            setupDone = true
        }
        for (field, watts) in values {
            guard let point = spec.points.first(where: { $0.field == field })?.point else { continue }
            if let last = written[field], last.value == watts, now.timeIntervalSince(last.at) < (spec.refreshS ?? 30) { continue }
            var raw = watts
            if point.unit == .percent, let max = limits.maximum(field), max > 0 { raw = watts / max * 100 }
            do {
                try await write(point.register, raw: raw, roundingDown: true)
            } catch {
                written[field] = nil
                throw error
            }
            written[field] = (watts, now)
        }
    }

    /// What was last written per field, W.
    public var lastWritten: [String: Double] { written.mapValues(\.value) }

    /// Forget what was written (the next write goes to the device whatever it is).
    public func forget() { written = [:] }

    /// `roundingDown`: a limit is written at the register's resolution rounded down (a limit
    /// rounded up would let through more than control asked for).
    private func write(_ point: RegisterPoint, raw: Double, roundingDown: Bool = false) async throws(ModbusError) {
        let layout: RegisterLayout
        do {
            layout = try ResolvedProfile.layout(of: point, defaultOrder: device.profile.defaultWordOrder, path: "setpoints",
                                                file: device.profile.file)
        } catch {
            throw .invalidRequest(error.description)
        }
        let function = point.writeFunction ?? 16
        var value = raw
        if roundingDown, !layout.type.isFloat, layout.scale > 0 {
            value = ((raw - layout.offset) / layout.scale + 1e-9).rounded(.down) * layout.scale + layout.offset
        }
        let words = function == 5 ? [UInt16(value != 0 ? 1 : 0)] : layout.words(for: value)
        do { try await device.write(words, to: layout.address.value, function: function) } catch {
            if error.isRetryable { await device.recordUnansweredWrite() }
            throw error
        }
    }
}
