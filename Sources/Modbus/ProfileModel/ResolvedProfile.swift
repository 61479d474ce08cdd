import PhasorCore

/// A register ready to poll: layout plus how its value becomes a catalogue quantity.
public struct ResolvedRegister: Sendable, Hashable {
    public var quantity: Quantity
    public var layout: RegisterLayout
    /// Unit conversion × sign normalisation, applied after scale and offset.
    public var factor: Double
    /// The unit the value is published in.
    public var unit: Unit
    public var deviceUnit: DeviceUnit?
    public var pollGroup: String
    public var notAvailable: Bool
    public var combine: Bool
    /// SunSpec scale-factor register, read in the same poll.
    public var scaleFactor: RegisterAddress? = nil

    /// The published value from register words; nil for "not available" or text.
    /// `scaleFactor` is the sunssf value when the register has one (nil → no value).
    public func value(from words: [UInt16], scaleFactor sf: Int16? = nil) -> Double? {
        let power: Double
        if scaleFactor != nil {
            // 0x8000 is SunSpec's "not implemented"; real factors are small.
            guard let sf, sf != Int16.min, (-10...10).contains(sf) else { return nil }
            power = powerOfTen(sf)
        } else {
            power = 1
        }
        return layout.value(from: words, honourNotAvailable: notAvailable).map { ($0 - layout.offset) * power + layout.offset }
            .map { $0 * factor }
    }

    /// Register words for a published value (the simulator's direction).
    public func words(for published: Double, scaleFactor sf: Int16 = 0) -> [UInt16] {
        let unscaled = factor == 0 ? 0 : published / factor
        return layout.words(for: (unscaled - layout.offset) / powerOfTen(sf) + layout.offset)
    }
}

/// 10^n for the small exponents SunSpec scale factors use.
package func powerOfTen(_ n: Int16) -> Double {
    var result = 1.0
    for _ in 0..<abs(Int(n)) { result *= 10 }
    return n < 0 ? 1 / result : result
}

/// A profile whose meaning has been checked: units convertible, signs meaningful,
/// groups defined, charger points writable.
public struct ResolvedProfile: Sendable {
    public let profile: DeviceProfile
    public let registers: [ResolvedRegister]
    /// Poll group → interval (s).
    public let pollIntervals: [String: Double]
    public let file: String

    public var id: String { profile.id }
    public var kind: DeviceProfile.Kind { profile.kind }
    public var charger: ChargerSpec? { profile.charger }
    public var defaultWordOrder: WordOrder { profile.connection.wordOrder ?? .abcd }

    public init(_ profile: DeviceProfile, file: String = "<profile>") throws(ConfigError) {
        self.profile = profile
        self.file = file
        func fail(_ field: String, _ message: String) -> ConfigError {
            ConfigError(file: file, line: nil, field: field, message: message)
        }
        guard !profile.id.isEmpty, profile.id.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else {
            throw fail("id", "use letters, digits, '_' or '-'")
        }
        guard (0...255).contains(profile.connection.unitId) else { throw fail("connection.unit_id", "must be 0…255") }
        guard !profile.connection.transports.isEmpty else { throw fail("connection.transports", "name tcp and/or rtu") }
        var groups = profile.pollGroups ?? [:]
        if groups["default"] == nil { groups["default"] = 5 }
        for (name, interval) in groups where !(interval > 0) {
            throw fail("poll_groups.\(name)", "interval must be positive seconds")
        }
        pollIntervals = groups
        if let gap = profile.maxGap, gap < 0 { throw fail("max_gap", "must be ≥ 0") }
        if let block = profile.maxBlock, !(1...125).contains(block) { throw fail("max_block", "must be 1…125") }

        var resolved: [ResolvedRegister] = []
        var seen: [Quantity: Bool] = [:]
        for (i, spec) in profile.registers.enumerated() {
            let path = "registers[\(i)]"
            let layout = try Self.layout(of: spec, defaultOrder: profile.connection.wordOrder ?? .abcd, path: path, file: file)
            let quantity = Quantity(spec.quantity)
            guard !spec.quantity.isEmpty else { throw fail("\(path).quantity", "must not be empty") }
            let combine = spec.combine == .add
            if let earlier = seen[quantity], !(earlier && combine) {
                throw fail("\(path).quantity", "'\(quantity)' appears twice; mark every part with combine: add to sum them")
            }
            seen[quantity] = combine
            var factor = 1.0
            var unit = Unit.none
            if let catalogUnit = quantity.unit {
                unit = catalogUnit
                if let deviceUnit = spec.unit {
                    guard let f = deviceUnit.factor(to: catalogUnit) else {
                        throw fail("\(path).unit", "'\(deviceUnit.rawValue)' cannot be published as \(quantity) (\(catalogUnit.rawValue))")
                    }
                    factor = f
                } else if catalogUnit != .none && catalogUnit != .ratio && catalogUnit != .count {
                    throw fail("\(path).unit", "required: \(quantity) is published in \(catalogUnit.rawValue)")
                }
            } else if let deviceUnit = spec.unit {
                unit = deviceUnit.canonical.unit
                factor = deviceUnit.canonical.factor
            }
            if let sign = spec.sign {
                let name = quantity.rawValue
                let gridLike = name == "power" || name.hasPrefix("power_l")
                let battery = name == "battery_power"
                let isGridSign = sign == .importPositive || sign == .exportPositive
                if isGridSign && !gridLike {
                    throw fail("\(path).sign", "\(sign.rawValue) applies to power and power_l1…l3 only")
                }
                if !isGridSign && !battery { throw fail("\(path).sign", "\(sign.rawValue) applies to battery_power only") }
                factor *= sign.factor
            }
            let group = spec.poll ?? "default"
            guard groups[group] != nil else { throw fail("\(path).poll", "unknown poll group '\(group)'") }
            if spec.scaleFactor != nil && (layout.type.isFloat || layout.type == .ascii || layout.table.isBitTable) {
                throw fail("\(path).scale_factor", "only integer registers carry a SunSpec scale factor")
            }
            resolved.append(ResolvedRegister(
                quantity: quantity, layout: layout, factor: factor, unit: unit, deviceUnit: spec.unit, pollGroup: group,
                notAvailable: spec.notAvailable ?? false, combine: combine, scaleFactor: spec.scaleFactor))
        }
        registers = resolved

        switch (profile.kind, profile.charger) {
        case (.charger, nil): throw fail("charger", "a charger profile needs a charger section")
        case (.meter, .some), (.inverter, .some): throw fail("charger", "only charger profiles have a charger section")
        case (.charger, .some(let spec)): try Self.check(spec, order: defaultWordOrder, file: file)
        default: break
        }
        if let setpoints = profile.setpoints {
            guard profile.kind == .inverter else { throw fail("setpoints", "only inverter profiles take setpoints") }
            guard !setpoints.points.isEmpty else {
                throw fail("setpoints", "name active_power_limit, battery_max_charge and/or battery_max_discharge")
            }
            for (field, point) in setpoints.points {
                try Self.writable(point.register, String(field.dropLast(2)), order: defaultWordOrder, file: file,
                                  section: "setpoints")
            }
            for (i, write) in (setpoints.setup ?? []).enumerated() {
                try Self.writable(write.register, "setup[\(i)].register", order: defaultWordOrder, file: file, section: "setpoints")
            }
            if let r = setpoints.refreshS, !(r >= 1 && r <= 3600) { throw fail("setpoints.refresh_s", "must be 1…3600 s") }
        }
    }

    package static func layout(of spec: RegisterSpec, defaultOrder: WordOrder, path: String, file: String) throws(ConfigError)
        -> RegisterLayout
    {
        let point = RegisterPoint(address: spec.address, function: spec.function ?? 3, writeFunction: nil, type: spec.type,
                                  words: spec.words, wordOrder: spec.wordOrder, scale: spec.scale, offset: spec.offset)
        return try layout(of: point, defaultOrder: defaultOrder, path: path, file: file)
    }

    package static func layout(of point: RegisterPoint, defaultOrder: WordOrder, path: String, file: String,
                       defaultType: DataType = .uint16) throws(ConfigError) -> RegisterLayout
    {
        func fail(_ field: String, _ message: String) -> ConfigError {
            ConfigError(file: file, line: nil, field: "\(path).\(field)", message: message)
        }
        let function = point.function ?? 3
        guard let table = RegisterTable(rawValue: function) else { throw fail("function", "read function must be 1, 2, 3 or 4") }
        let type = point.type ?? (table.isBitTable ? .bool : defaultType)
        if table.isBitTable != (type == .bool) { throw fail("type", "coils and discrete inputs are bool; registers are not") }
        let words: Int
        if type == .ascii {
            guard let n = point.words, (1...125).contains(n) else { throw fail("words", "ascii needs words: 1…125") }
            words = n
        } else {
            words = type.words ?? 1
            if let n = point.words, n != words { throw fail("words", "\(type.rawValue) takes \(words) register(s), not \(n)") }
        }
        guard Int(point.address.value) + words <= 65536 else { throw fail("address", "value runs past register 65535") }
        if let scale = point.scale, !scale.isFinite || scale == 0 { throw fail("scale", "must be a non-zero number") }
        return RegisterLayout(address: point.address, table: table, type: type, words: words,
                              wordOrder: point.wordOrder ?? defaultOrder, scale: point.scale ?? 1, offset: point.offset ?? 0)
    }

    private static func check(_ spec: ChargerSpec, order: WordOrder, file: String) throws(ConfigError) {
        func fail(_ field: String, _ message: String) -> ConfigError {
            ConfigError(file: file, line: nil, field: "charger.\(field)", message: message)
        }
        guard spec.minCurrent > 0, spec.minCurrent <= spec.maxCurrent else { throw fail("min_current", "need 0 < min ≤ max") }
        guard spec.safeCurrent >= 0, spec.safeCurrent <= spec.maxCurrent else { throw fail("safe_current", "must be 0…max") }
        if let phases = spec.phases, !(1...3).contains(phases) { throw fail("phases", "must be 1…3") }
        _ = try layout(of: spec.state.register, defaultOrder: order, path: "charger.state.register", file: file)
        try writable(spec.currentLimit, "current_limit", order: order, file: file)
        if let readback = spec.currentLimitReadback {
            _ = try layout(of: readback, defaultOrder: order, path: "charger.current_limit_readback", file: file)
        }
        if let enable = spec.enable { try writable(enable.register, "enable.register", order: order, file: file) }
        if let phase = spec.phaseSwitch { try writable(phase.register, "phase_switch.register", order: order, file: file) }
        if let phases = spec.phasesInUse {
            _ = try layout(of: phases.register, defaultOrder: order, path: "charger.phases_in_use.register", file: file)
        }
        if let watchdog = spec.watchdog {
            guard watchdog.intervalS > 0, watchdog.timeoutS > watchdog.intervalS else {
                throw fail("watchdog", "need 0 < interval_s < timeout_s")
            }
            if let register = watchdog.register {
                try writable(register, "watchdog.register", order: order, file: file)
                guard watchdog.value != nil else { throw fail("watchdog.value", "required with a watchdog register") }
            }
        }
        for (i, write) in (spec.setup ?? []).enumerated() {
            try writable(write.register, "setup[\(i)].register", order: order, file: file)
        }
    }

    private static func writable(_ point: RegisterPoint, _ path: String, order: WordOrder, file: String,
                                 section: String = "charger") throws(ConfigError) {
        let layout = try layout(of: point, defaultOrder: order, path: "\(section).\(path)", file: file)
        let fail = { (m: String) in ConfigError(file: file, line: nil, field: "\(section).\(path).write_function", message: m) }
        switch point.writeFunction {
        case 5: if layout.table != .coils { throw fail("function 5 writes coils; read with function 1") }
        case 6: if layout.words != 1 || layout.table != .holdingRegisters { throw fail("function 6 writes one holding register") }
        case 16: if layout.table != .holdingRegisters { throw fail("function 16 writes holding registers") }
        default: throw fail("write_function must be 5, 6 or 16")
        }
    }
}
