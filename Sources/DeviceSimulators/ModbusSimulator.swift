import CModbus
import Foundation
import Modbus
import PhasorCore

/// Simulated Modbus devices built from the same profile files the gateway uses,
/// served over TCP (loopback, several clients) and/or RTU (a serial device such as
/// one end of a socat pty pair). Time comes from the injected clock, so tests can
/// lapse a watchdog or move through the day without waiting.
public final class ModbusSimulator: Sendable {
    private let clock: any WallClock
    private let devices = Locked<[UInt8: SimulatedDevice]>([:])
    private let loops = Locked<[ServerLoop]>([])
    private let writeObservers = Locked<[@Sendable (ModbusWriteEvent) -> Void]>([])
    private let requestObservers = Locked<[@Sendable (UInt8, UInt8) -> Void]>([])

    public init(clock: any WallClock = SystemWallClock()) { self.clock = clock }

    deinit { stop() }

    /// Serves `profile` under `unitID` (default: the profile's unit id).
    public func add(_ profile: ResolvedProfile, unitID: UInt8? = nil) throws(ModbusError) {
        let unit = unitID ?? UInt8(clamping: profile.profile.connection.unitId)
        guard let device = SimulatedDevice(profile: profile, now: clock.now()) else {
            throw .invalidRequest("cannot allocate registers for \(profile.id)")
        }
        devices.withLock { $0[unit] = device }
    }

    /// Starts a TCP server; port 0 picks a free port. Returns the port.
    @discardableResult
    public func startTCP(host: String = "127.0.0.1", port: Int = 0) throws(ModbusError) -> Int {
        let loop = try TCPServerLoop(host: host, port: port, handler: weakHandler())
        loops.withLock { $0.append(loop) }
        loop.start(name: "modbus-sim tcp \(loop.port)")
        return loop.port
    }

    /// Starts serving RTU on a serial device (e.g. one end of a `SocatPTYPair`).
    public func startRTU(device: String) throws(ModbusError) {
        let loop = try RTUServerLoop(device: device, handler: weakHandler())
        loops.withLock { $0.append(loop) }
        loop.start(name: "modbus-sim rtu \(device)")
    }

    /// Stops every server (connections are closed; clients see refused connections).
    public func stop() {
        let running = loops.withLock { all in
            defer { all.removeAll() }
            return all
        }
        running.forEach { $0.stop() }
    }

    // MARK: Test and demo controls

    /// A device that stops responding behaves like one that lost power on the bus.
    public func setResponding(_ unitID: UInt8, _ responding: Bool) {
        devices.withLock { $0[unitID]?.responding = responding }
    }

    /// The next `count` requests to this unit go unanswered, then it answers again.
    public func ignoreNextRequests(_ unitID: UInt8, count: Int) {
        devices.withLock { $0[unitID]?.requestsToIgnore = max(0, count) }
    }

    /// What the device's model says now, in catalogue units.
    public func values(unitID: UInt8) -> [Quantity: Double] {
        let now = clock.now()
        return devices.withLock { $0[unitID]?.values(at: now) ?? [:] }
    }

    /// Pins a quantity to a value (e.g. a negative power to test the sign).
    public func override(unitID: UInt8, _ quantity: Quantity, _ value: Double) {
        let now = clock.now()
        devices.withLock { all in
            all[unitID]?.overrides[quantity] = value
            all[unitID]?.refresh(now: now)
        }
    }

    /// A simulated inverter's response to its setpoints (ratings, response time, limits in force).
    public func inverter(unitID: UInt8) -> InverterControlModel? {
        let now = clock.now()
        return devices.withLock { all in
            all[unitID]?.inverter?.advance(to: now)
            return all[unitID]?.inverter
        }
    }

    public func updateInverter(unitID: UInt8, _ change: (inout InverterControlModel) -> Void) {
        update(unitID: unitID, \.inverter, change)
    }

    /// Changes one model of a simulated device and refreshes its registers.
    private func update<Model>(
        unitID: UInt8, _ model: ReferenceWritableKeyPath<SimulatedDevice, Model?>, _ change: (inout Model) -> Void
    ) {
        let now = clock.now()
        devices.withLock { all in
            guard let device = all[unitID], var value = device[keyPath: model] else { return }
            change(&value)
            device[keyPath: model] = value
            device.refresh(now: now)
        }
    }

    public func charger(unitID: UInt8) -> ChargerModel? {
        devices.withLock { $0[unitID]?.charger }
    }

    /// Changes a simulated charge point (plug a car in, raise a fault…).
    public func updateCharger(unitID: UInt8, _ change: (inout ChargerModel) -> Void) {
        update(unitID: unitID, \.charger, change)
    }

    /// Calls `observer` after every write request a unit answered (on the server
    /// thread, so keep it short). Benchmarks time setpoints with it.
    public func observeWrites(_ observer: @escaping @Sendable (ModbusWriteEvent) -> Void) {
        writeObservers.withLock { $0.append(observer) }
    }

    /// Calls `observer` with the unit id and function code of every request that
    /// reached the server, answered or not (a silent unit's too): tests count how
    /// often a master insists on a device that does not answer.
    public func observeRequests(_ observer: @escaping @Sendable (_ unitID: UInt8, _ function: UInt8) -> Void) {
        requestObservers.withLock { $0.append(observer) }
    }

    // MARK: Serving

    /// The loops must not keep the simulator alive (its deinit stops them).
    private func weakHandler() -> RequestHandler {
        { [weak self] query, length, header, ctx in self?.handle(query, length, header, ctx) }
    }

    private func handle(_ query: UnsafeMutablePointer<UInt8>, _ length: Int, _ header: Int, _ ctx: OpaquePointer) {
        // Taken first: the moment the server loop got the whole request from libmodbus.
        let received = ContinuousClock.now
        guard length > header + 4 else { return }
        let unit = query[header - 1]
        for observer in requestObservers.withLock({ $0 }) { observer(unit, query[header]) }
        let now = clock.now()
        let written: ModbusWriteEvent? = devices.withLock { all in
            guard let device = all[unit], device.responding else { return nil }
            if device.requestsToIgnore > 0 {
                device.requestsToIgnore -= 1
                return nil
            }
            device.refresh(now: now)
            _ = modbus_reply(ctx, query, Int32(length), device.image.mapping)
            let function = query[header]
            let address = Int(query[header + 1]) << 8 | Int(query[header + 2])
            let count = Int(query[header + 3]) << 8 | Int(query[header + 4])
            let table: RegisterTable
            let words: Int
            switch function {
            case 5: (table, words) = (.coils, 1)
            case 6: (table, words) = (.holdingRegisters, 1)
            case 15: (table, words) = (.coils, count)
            case 16: (table, words) = (.holdingRegisters, count)
            default: return nil
            }
            device.didWrite(table: table, address: address, count: words, now: now)
            return ModbusWriteEvent(unitID: unit, table: table, address: address, count: words, received: received)
        }
        // Outside the device lock: an observer may read the simulator.
        guard let written else { return }
        for observer in writeObservers.withLock({ $0 }) { observer(written) }
    }
}

/// A write request a simulated unit answered.
public struct ModbusWriteEvent: Sendable, Hashable {
    public var unitID: UInt8
    public var table: RegisterTable
    public var address: Int
    public var count: Int
    /// When the server loop received the request (before the reply was sent).
    public var received: ContinuousClock.Instant
}
