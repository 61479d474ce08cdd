import Foundation
import PhasorCore

/// A charge point driven through its profile's registers.
public actor ModbusChargerDriver: ChargerDriver {
    public nonisolated let limits: ChargerLimits
    public nonisolated let device: ModbusDevice
    private let spec: ChargerSpec
    private let clock: any WallClock
    /// After this long without a command from control, the driver writes the safe current.
    private let commandTimeout: TimeInterval
    private var lastCommand: Date?
    private var lastFeed: Date?
    /// When the current limit was last written (not skipped as unchanged).
    private var lastWrite: Date?
    private var setpoint: Double?
    private var fallbackActive = false
    private var setupDone = false

    public init(device: ModbusDevice, commandTimeout: TimeInterval = 120, clock: any WallClock = SystemWallClock())
        throws(ChargerError)
    {
        guard let spec = device.profile.charger else { throw .unsupported("\(device.profile.id) is not a charger profile") }
        self.device = device
        self.spec = spec
        self.clock = clock
        self.commandTimeout = commandTimeout
        limits = ChargerLimits(minCurrent: spec.minCurrent, maxCurrent: spec.maxCurrent, safeCurrent: spec.safeCurrent,
                               phases: spec.phases ?? 3, canSwitchPhases: spec.phaseSwitch != nil)
    }

    // MARK: ChargerDriver

    /// Counts once towards the device's availability, whatever failed: the state
    /// register, a measurement block or the limit read-back. (Counting only the
    /// measurement poll missed every outage of a profile whose state register is
    /// read first: the first failure threw before anything was recorded.)
    public func readStatus() async throws(ChargerError) -> ChargerStatus {
        let started = ContinuousClock.now
        do {
            let status = try await readStatusAndRegisters()
            await device.recordStatusRead(succeeded: true, duration: ContinuousClock.now - started)
            return status
        } catch {
            await device.recordStatusRead(succeeded: false, duration: ContinuousClock.now - started)
            throw error
        }
    }

    private func readStatusAndRegisters() async throws(ChargerError) -> ChargerStatus {
        let stateLayout = try layout(spec.state.register)
        let (state, raw) = ChargerStateDecoder.decode(try await read(stateLayout), spec: spec.state, layout: stateLayout)
        var status = ChargerStatus(state: state, rawState: raw, phasesInUse: nil, currents: [], power: nil, energy: nil,
                                   currentLimit: nil, enabled: nil, fallbackActive: fallbackActive)
        if !device.profile.registers.isEmpty {
            let reading: Reading
            do { reading = try await device.poll(groups: device.allGroups, recording: false) } catch { throw .modbus(error) }
            status.currents = (1...3).compactMap { reading.number(Quantity.current.phase($0)) }
            status.power = reading.number(.power)
            status.energy = reading.number(.energyImport)
        }
        if let phases = spec.phasesInUse {
            let phaseLayout = try layout(phases.register)
            // Only small whole numbers are phase counts or codes; anything else is ignored.
            if let raw = phaseLayout.value(from: try await read(phaseLayout), honourNotAvailable: true),
                let code = Int(exactly: raw.rounded()), (0...0xFFFF).contains(code)
            {
                status.phasesInUse = phases.map.map { $0[String(code)] } ?? (code <= 3 ? code : nil)
            }
        } else if status.currents.count == 3 {
            // No register for it: count the phases that carry current.
            status.phasesInUse = status.currents.filter { $0 > 0.5 }.count
        }
        let limitPoint = spec.currentLimitReadback ?? spec.currentLimit
        let limitLayout = try layout(limitPoint)
        status.currentLimit = limitLayout.value(from: try await read(limitLayout), honourNotAvailable: true)
        if let enable = spec.enable {
            let enableLayout = try layout(enable.register)
            status.enabled = try await read(enableLayout).first.map { Double($0) == enable.onValue }
        }
        return status
    }

    public func setCurrentLimit(_ amps: Double) async throws(ChargerError) {
        guard amps.isFinite, limits.accepts(amps) else {
            throw .setpointOutOfRange(requested: amps, minimum: limits.minCurrent, maximum: limits.maxCurrent)
        }
        let now = clock.now()
        if isUnchanged(amps, at: now) {
            // Control repeats its decision every cycle; the charger already has it.
            // The watchdog (maintain) and the refresh below keep it in force.
            lastCommand = now
            return
        }
        try await runSetup()
        if let enable = spec.enable {
            // Chargers with a release register keep a valid current and switch the release.
            if amps > 0 { try await write(spec.currentLimit, amps) }
            try await write(enable.register, amps > 0 ? enable.onValue : enable.offValue)
        } else {
            try await write(spec.currentLimit, amps)
        }
        setpoint = amps
        fallbackActive = false
        lastCommand = now
        lastFeed = now
        lastWrite = now
    }

    /// Without a watchdog an unchanged setpoint is still written this often, in
    /// case the charger restarted and forgot it.
    public static let unchangedRefreshInterval: TimeInterval = 30

    private func isUnchanged(_ amps: Double, at now: Date) -> Bool {
        guard setupDone, !fallbackActive, setpoint == amps, let lastWrite else { return false }
        // With a watchdog, maintain() rewrites what keeps it fed; without one, refresh now and then.
        return spec.watchdog != nil || now.timeIntervalSince(lastWrite) < Self.unchangedRefreshInterval
    }

    public func setEnabled(_ enabled: Bool) async throws(ChargerError) {
        if let enable = spec.enable {
            try await runSetup()
            try await write(enable.register, enabled ? enable.onValue : enable.offValue)
            lastCommand = clock.now()
        } else {
            try await setCurrentLimit(enabled ? max(setpoint ?? 0, limits.minCurrent) : 0)
        }
    }

    public func setPhases(_ phases: Int) async throws(ChargerError) {
        guard let phaseSwitch = spec.phaseSwitch else { throw .unsupported("1p/3p switching") }
        guard phases == 1 || phases == 3 else { throw .unsupported("\(phases) phases (use 1 or 3)") }
        try await runSetup()
        try await write(phaseSwitch.register, phases == 1 ? phaseSwitch.onePhase : phaseSwitch.threePhase)
        lastCommand = clock.now()
    }

    public func maintain() async throws(ChargerError) {
        let now = clock.now()
        try await runSetup()
        // A wall clock stepped back past the last command: control's silence counts from
        // now, not from a moment in the future (no fallback until the clock caught up).
        if let last = lastCommand, now < last { lastCommand = now }
        if let last = lastCommand, !fallbackActive, now.timeIntervalSince(last) > commandTimeout {
            // Control is silent: do not leave the last (possibly high) current in force.
            try await writeSafeCurrent(at: now)
        }
        guard let watchdog = spec.watchdog else { return }
        if let fed = lastFeed, now.timeIntervalSince(fed) < watchdog.intervalS { return }
        if let register = watchdog.register, let value = watchdog.value {
            try await write(register, value)
        } else if let setpoint {
            try await write(spec.currentLimit, setpoint)
        } else {
            // Nothing written yet: there is no setpoint to keep alive.
            return
        }
        lastFeed = now
    }

    public func fallBack() async throws(ChargerError) {
        try await runSetup()
        try await writeSafeCurrent(at: clock.now())
    }

    private func writeSafeCurrent(at now: Date) async throws(ChargerError) {
        try await write(spec.currentLimit, spec.safeCurrent)
        if let enable = spec.enable { try await write(enable.register, enable.onValue) }
        setpoint = spec.safeCurrent
        fallbackActive = true
        lastFeed = now
    }

    /// Whether the driver is holding the safe current because control went quiet.
    public var isInFallback: Bool { fallbackActive }

    // MARK: Registers

    private func runSetup() async throws(ChargerError) {
        guard !setupDone else { return }
        for write in spec.setup ?? [] { try await self.write(write.register, write.value) }
        setupDone = true
    }

    private func layout(_ point: RegisterPoint) throws(ChargerError) -> RegisterLayout {
        do {
            return try ResolvedProfile.layout(of: point, defaultOrder: device.profile.defaultWordOrder, path: "charger",
                                              file: device.profile.file)
        } catch {
            throw .unsupported(error.description)
        }
    }

    private func read(_ layout: RegisterLayout) async throws(ChargerError) -> [UInt16] {
        do { return try await device.read(layout) } catch { throw .modbus(error) }
    }

    private func write(_ point: RegisterPoint, _ value: Double) async throws(ChargerError) {
        let layout = try layout(point)
        guard let function = point.writeFunction else { throw .unsupported("register \(point.address) is not writable") }
        let words = function == 5 ? [UInt16(value != 0 ? 1 : 0)] : layout.words(for: value)
        do { try await device.write(words, to: layout.address.value, function: function) } catch {
            // Timeouts and link errors; an exception is the device answering.
            if error.isRetryable { await device.recordUnansweredWrite() }
            throw .modbus(error)
        }
    }
}
