import Foundation
import Modbus
import PhasorCore

/// One device the simulator serves: its profile's registers filled from a model,
/// refreshed before every request, and writes fed back into the model.
/// Used only under the simulator's lock.
final class SimulatedDevice {
    let profile: ResolvedProfile
    let image: RegisterImage
    var charger: ChargerModel?
    /// An inverter whose profile takes setpoints: how it follows them.
    var inverter: InverterControlModel?
    var responding = true
    /// Requests still to be swallowed without an answer (a transient disturbance).
    var requestsToIgnore = 0
    /// Extra values a test pins (e.g. a meter reading a fixed power).
    var overrides: [Quantity: Double] = [:]
    private var lastRefresh: Date?

    init?(profile: ResolvedProfile, now: Date) {
        self.profile = profile
        var ranges: [RegisterTable: Range<Int>] = [:]
        func include(_ layout: RegisterLayout) {
            let r = Int(layout.address.value)..<(Int(layout.address.value) + layout.words)
            let old = ranges[layout.table] ?? r
            ranges[layout.table] = min(old.lowerBound, r.lowerBound)..<max(old.upperBound, r.upperBound)
        }
        profile.registers.forEach { include($0.layout) }
        for register in profile.registers {
            if let sf = register.scaleFactor { include(RegisterLayout(address: sf, table: register.layout.table, type: .int16)) }
        }
        for layout in Self.chargerLayouts(profile) + Self.setpointLayouts(profile) { include(layout) }
        guard let image = RegisterImage(ranges: ranges) else { return nil }
        self.image = image
        if let spec = profile.charger {
            charger = ChargerModel(spec: spec, now: now)
            if let layout = Self.layout(spec.currentLimit, profile) { image.set(layout.table, address: Int(layout.address.value), layout.words(for: spec.safeCurrent)) }
            if let enable = spec.enable, let layout = Self.layout(enable.register, profile) {
                image.set(layout.table, address: Int(layout.address.value), layout.words(for: enable.onValue))
            }
        }
        if profile.profile.setpoints != nil { inverter = InverterControlModel() }
        refresh(now: now)
    }

    static func setpointLayouts(_ profile: ResolvedProfile) -> [RegisterLayout] {
        guard let spec = profile.profile.setpoints else { return [] }
        return (spec.points.map(\.point.register) + (spec.setup ?? []).map(\.register)).compactMap { layout($0, profile) }
    }

    static func layout(_ point: RegisterPoint, _ profile: ResolvedProfile) -> RegisterLayout? {
        try? ResolvedProfile.layout(of: point, defaultOrder: profile.defaultWordOrder, path: "", file: profile.file)
    }

    static func chargerLayouts(_ profile: ResolvedProfile) -> [RegisterLayout] {
        guard let spec = profile.charger else { return [] }
        let points = [spec.state.register, spec.currentLimit] + [spec.currentLimitReadback, spec.enable?.register,
            spec.phaseSwitch?.register, spec.phasesInUse?.register, spec.watchdog?.register].compactMap { $0 }
            + (spec.setup ?? []).map(\.register)
        return points.compactMap { layout($0, profile) }
    }

    /// Model values at `now` in catalogue units.
    func values(at now: Date) -> [Quantity: Double] {
        var v: [Quantity: Double]
        if let charger { v = charger.values(at: now) } else if profile.kind == .inverter {
            v = SiteModel.inverterValues(at: now)
        } else {
            v = SiteModel.meterValues(at: now)
        }
        if profile.kind == .inverter, !profile.registers.contains(where: { $0.quantity == .batteryPower }) {
            // An inverter without a battery: what it gives is its PV.
            v[.batteryPower] = nil
            v[.power] = SiteModel.load(at: now) - (v[.pvPower] ?? 0)
            v[.inverterPower] = v[.pvPower]
        }
        v.merge(overrides) { $1 }
        if overrides[.pvPower] != nil, overrides[.inverterPower] == nil, v[.batteryPower] == nil { v[.inverterPower] = v[.pvPower] }
        // A pinned PV power is what the panels could give: the limit in force still caps it.
        if var model = inverter {
            model.advance(to: now)
            model.limit(&v)
        }
        if charger == nil, profile.kind != .inverter { SiteModel.completePowerTriangle(&v, pinned: overrides) }
        return v
    }

    func refresh(now: Date) {
        if var model = charger, let last = lastRefresh, now > last {
            let wattHours = 230 * model.chargingCurrent(at: now) * Double(model.phasesInUse(at: now)) * now.timeIntervalSince(last) / 3600
            model.sessionEnergyWh += wattHours
            model.lifetimeEnergyWh += wattHours
            charger = model
        }
        lastRefresh = now
        let values = values(at: now)
        let factors = scaleFactors(for: values)
        for (table, byAddress) in factors {
            for (address, sf) in byAddress { image.set(table, address: Int(address), [UInt16(bitPattern: sf)]) }
        }
        func write(_ register: ResolvedRegister, _ value: Double?) {
            let sf = register.scaleFactor.flatMap { factors[register.layout.table]?[$0.value] } ?? 0
            self.write(register, value, scaleFactor: sf)
        }
        var byQuantity: [Quantity: [ResolvedRegister]] = [:]
        for register in profile.registers { byQuantity[register.quantity, default: []].append(register) }
        for (quantity, registers) in byQuantity {
            let value = values[quantity] ?? 0
            if registers.count == 1, let register = registers.first {
                write(register, register.layout.type == .ascii ? nil : value)
                continue
            }
            // Parts of a sum (import − export): the whole value goes to the first part whose
            // sign matches, the others read 0.
            var assigned = false
            for register in registers {
                let fits = !assigned && (value >= 0) == (register.factor * register.layout.scale > 0)
                write(register, fits ? value : 0)
                if fits { assigned = true }
            }
        }
        if let model = charger { writeChargerRegisters(model, now: now) }
    }

    /// SunSpec scale factors a device would choose: the finest that still lets every
    /// value sharing the factor fit its register.
    private func scaleFactors(for values: [Quantity: Double]) -> [RegisterTable: [UInt16: Int16]] {
        var factors: [RegisterTable: [UInt16: Int16]] = [:]
        for register in profile.registers {
            guard let address = register.scaleFactor?.value else { continue }
            let raw = abs((values[register.quantity] ?? 0) / register.factor / register.layout.scale)
            let limit: Double = switch register.layout.type {
            case .int16: 32767
            case .uint16: 65535
            case .int32: 2_147_483_647
            case .uint32: 4_294_967_295
            default: 9e15
            }
            var sf: Int16 = -3
            while sf < 10 && raw / powerOfTen(sf) > limit { sf += 1 }
            factors[register.layout.table, default: [:]][address] = max(factors[register.layout.table]?[address] ?? -3, sf)
        }
        return factors
    }

    private func write(_ register: ResolvedRegister, _ value: Double?, scaleFactor: Int16) {
        let layout = register.layout
        let words = value.map { register.words(for: $0, scaleFactor: scaleFactor) }
            ?? RegisterCodec.encodeText("SIM-\(profile.id)", words: layout.words, order: layout.wordOrder)
        image.set(layout.table, address: Int(layout.address.value), words)
    }

    private func writeChargerRegisters(_ model: ChargerModel, now: Date) {
        let spec = model.spec
        if let layout = Self.layout(spec.state.register, profile), let words = Self.stateWords(model.state(at: now), spec.state, layout) {
            image.set(layout.table, address: Int(layout.address.value), words)
        }
        if let readback = spec.currentLimitReadback, let layout = Self.layout(readback, profile) {
            image.set(layout.table, address: Int(layout.address.value), layout.words(for: model.appliedLimit(at: now)))
        }
        if let phases = spec.phasesInUse, let layout = Self.layout(phases.register, profile) {
            let count = model.phasesInUse(at: now)
            let raw = phases.map.map { map in map.sorted { $0.key < $1.key }.first { $0.value == count }.flatMap { Double($0.key) } ?? 0 }
                ?? Double(count)
            image.set(layout.table, address: Int(layout.address.value), layout.words(for: raw))
        }
    }

    /// Register words a real charger would show for `state` (the inverse of the profile's map).
    static func stateWords(_ state: ChargerState, _ spec: ChargerSpec.StateSpec, _ layout: RegisterLayout) -> [UInt16]? {
        guard let key = spec.map.keys.sorted().first(where: { spec.map[$0] == state }) else { return nil }
        if layout.type == .ascii { return RegisterCodec.encodeText(key, words: layout.words, order: layout.wordOrder) }
        let number: UInt64
        if spec.asCharacter == true {
            guard let ascii = key.unicodeScalars.first?.value else { return nil }
            number = UInt64(ascii)
        } else {
            guard let n = UInt64(key) else { return nil }
            number = n
        }
        return RegisterCodec.encode(Double(number << UInt64(spec.shift ?? 0)), type: layout.type, order: layout.wordOrder)
    }

    /// Feeds a client's write back into the charger model.
    func didWrite(table: RegisterTable, address: Int, count: Int, now: Date) {
        if var model = inverter, let spec = profile.profile.setpoints {
            let written = address..<(address + count)
            for (field, point) in spec.points {
                guard let layout = Self.layout(point.register, profile), layout.table == table,
                    written.overlaps(Int(layout.address.value)..<(Int(layout.address.value) + layout.words)),
                    let words = image.get(layout.table, address: Int(layout.address.value), count: layout.words),
                    let raw = layout.value(from: words, honourNotAvailable: false)
                else { continue }
                model.advance(to: now)
                model.written(field, raw: raw, unit: point.unit, now: now)
            }
            inverter = model
            refresh(now: now)
        }
        guard var model = charger else { return }
        let spec = model.spec
        let drawing = model.chargingCurrent(at: now)
        let limitBefore = model.appliedLimit(at: now)
        let written = address..<(address + count)
        func touched(_ point: RegisterPoint?) -> RegisterLayout? {
            guard let point, let layout = Self.layout(point, profile), layout.table == table,
                written.overlaps(Int(layout.address.value)..<(Int(layout.address.value) + layout.words))
            else { return nil }
            return layout
        }
        func value(_ layout: RegisterLayout) -> Double? {
            image.get(layout.table, address: Int(layout.address.value), count: layout.words)
                .flatMap { layout.value(from: $0, honourNotAvailable: false) }
        }
        if let layout = touched(spec.currentLimit), let amps = value(layout) {
            model.setpoint = amps
            if spec.watchdog?.register == nil { model.lastFeed = now }
        }
        if let enable = spec.enable, let layout = touched(enable.register), let v = value(layout) {
            model.enabled = v == enable.onValue
        }
        if let phase = spec.phaseSwitch, let layout = touched(phase.register), let v = value(layout) {
            model.requestedPhases = v == phase.onePhase ? 1 : 3
        }
        if let watchdog = spec.watchdog, let layout = touched(watchdog.register), value(layout) == watchdog.value {
            model.lastFeed = now
        }
        // (A rewrite of the same limit, a keep-alive, changes nothing for the car.)
        if model.appliedLimit(at: now) != limitBefore { model.limitChanged(drawing: drawing, at: now) }
        charger = model
        refresh(now: now)
    }
}
