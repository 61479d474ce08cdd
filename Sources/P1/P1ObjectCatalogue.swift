import PhasorCore

/// What an electricity-meter object (channel 0, plus the Luxembourg `1-1:31.4.0`)
/// means, and so how the parser publishes it. M-Bus channel objects are handled
/// by `P1MBusCollector`; anything not listed is published generically.
enum P1Meaning: Sendable {
    /// One number converted into the quantity's catalogue unit.
    case measurement(P1Name, P1Dimension)
    /// A `YYMMDDhhmmssX` timestamp.
    case timestamp(P1Name)
    /// Text published as printed (tariff indicator, version).
    case text(P1Name)
    /// Hex-encoded ASCII (equipment ids, messages), published decoded.
    case hexText(P1Name)
    /// `0-0:17.0.0`: its unit says which limit it is (kW, A or kVA).
    case limiterThreshold
    /// BE `1-0:1.6.0(TST)(value*kW)`.
    case monthPeak
    /// BE `0-0:98.1.0` 13-month max-demand history.
    case monthPeakHistory
    /// `1-0:99.97.0` long power-failure log.
    case powerFailureLog
    /// LU `1-1:31.4.0(import*A)(export*A)`.
    case importExportCurrentLimits
    /// `0-0:96.1.4` (BE) and `1-3:0.2.8`: the P1 version.
    case version(P1Name)
}

/// A catalogue quantity by its place in `P1ObjectCatalogue.names`, so that `P1Meaning`
/// is a plain value: every line's look-up copied the meaning, and with it retained and
/// released the quantity's string (issue 15's profile).
struct P1Name: Sendable, Hashable {
    let index: UInt16
    var quantity: Quantity { P1ObjectCatalogue.names[Int(index)] }
}

enum P1ObjectCatalogue {
    /// Some meters (Sagemcom XT211, Lithuania) number the electricity channel 1
    /// (`1-1:1.8.1`): read those as channel 0 unless the code has its own meaning.
    static func meaning(of obis: OBISCode) -> P1Meaning? {
        if let m = table.lookup(obis.key) { return m }
        guard obis.a == 1, obis.b == 1 else { return nil }
        return table.lookup(OBISCode.key(1, 0, obis.c, obis.d, obis.e))
    }

    /// `meanings` as an open-addressing table with a multiplicative hash: a telegram
    /// looks up every line, and SipHash (Dictionary) showed up in profiles.
    struct Table: Sendable {
        let keys: [UInt64]
        let values: [P1Meaning?]
        let shift: UInt64

        init(_ entries: [UInt64: P1Meaning]) {
            var bits: UInt64 = 4
            while (1 << bits) < entries.count * 4 { bits += 1 }
            let size = 1 << Int(bits)
            var keys = [UInt64](repeating: .max, count: size)
            var values = [P1Meaning?](repeating: nil, count: size)
            shift = 64 - bits
            for (key, meaning) in entries {
                var slot = Int((key &* 0x9E37_79B9_7F4A_7C15) >> shift)
                while keys[slot] != .max { slot = (slot + 1) & (size - 1) }
                keys[slot] = key
                values[slot] = meaning
            }
            self.keys = keys
            self.values = values
        }

        func lookup(_ key: UInt64) -> P1Meaning? {
            let mask = keys.count - 1
            var slot = Int((key &* 0x9E37_79B9_7F4A_7C15) >> shift)
            while true {
                let k = keys[slot]
                if k == key { return values[slot] }
                if k == .max { return nil }
                slot = (slot + 1) & mask
            }
        }
    }

    static let table = Table(catalogue.meanings)
    /// The quantities `P1Name`s refer to.
    static let names = catalogue.names

    private static let catalogue: (names: [Quantity], meanings: [UInt64: P1Meaning]) = {
        var m: [UInt64: P1Meaning] = [:]
        var names: [Quantity] = []
        func name(_ q: Quantity) -> P1Name {
            names.append(q)
            return P1Name(index: UInt16(names.count - 1))
        }
        func measurement(_ q: Quantity, _ dimension: P1Dimension) -> P1Meaning { .measurement(name(q), dimension) }
        func timestamp(_ q: Quantity) -> P1Meaning { .timestamp(name(q)) }
        func text(_ q: Quantity) -> P1Meaning { .text(name(q)) }
        func hexText(_ q: Quantity) -> P1Meaning { .hexText(name(q)) }
        func version(_ q: Quantity) -> P1Meaning { .version(name(q)) }
        func electricity(_ c: UInt8, _ d: UInt8, _ e: UInt8, _ meaning: P1Meaning) {
            m[OBISCode.key(1, 0, c, d, e)] = meaning
        }
        func abstract(_ c: UInt8, _ d: UInt8, _ e: UInt8, _ meaning: P1Meaning) {
            m[OBISCode.key(0, 0, c, d, e)] = meaning
        }
        // Energy registers (kWh; Wh on AT/EST meters), totals and tariffs 1-4.
        let registers: [(UInt8, Quantity, P1Dimension)] = [
            (1, .energyImport, .activeEnergy), (2, .energyExport, .activeEnergy),
            (3, .reactiveEnergyImport, .reactiveEnergy), (4, .reactiveEnergyExport, .reactiveEnergy),
        ]
        for (c, q, dim) in registers {
            electricity(c, 8, 0, measurement(q, dim))
            for t in 1...4 { electricity(c, 8, UInt8(t), measurement(q.tariff(t), dim)) }
        }
        for quadrant in 1...4 {
            electricity(UInt8(4 + quadrant), 8, 0, measurement(.reactiveEnergyQuadrant(quadrant), .reactiveEnergy))
            electricity(UInt8(4 + quadrant), 7, 0, measurement(.reactivePowerQuadrant(quadrant), .reactivePower))
        }
        electricity(15, 8, 0, measurement(.energyAbsolute, .activeEnergy))

        // Instantaneous values; per phase C = 20/40/60 + total C.
        electricity(1, 7, 0, measurement(.powerImport, .activePower))
        electricity(2, 7, 0, measurement(.powerExport, .activePower))
        electricity(3, 7, 0, measurement(.reactivePowerImport, .reactivePower))
        electricity(4, 7, 0, measurement(.reactivePowerExport, .reactivePower))
        electricity(9, 7, 0, measurement(.apparentPowerImport, .apparentPower))
        electricity(10, 7, 0, measurement(.apparentPowerExport, .apparentPower))
        electricity(13, 7, 0, measurement(.powerFactor, .plain))
        electricity(14, 7, 0, measurement(.frequency, .frequency))
        for phase in 1...3 {
            let base = UInt8(20 * phase)
            electricity(base + 1, 7, 0, measurement(Quantity.powerImport.phase(phase), .activePower))
            electricity(base + 2, 7, 0, measurement(Quantity.powerExport.phase(phase), .activePower))
            electricity(base + 3, 7, 0, measurement(Quantity.reactivePowerImport.phase(phase), .reactivePower))
            electricity(base + 4, 7, 0, measurement(Quantity.reactivePowerExport.phase(phase), .reactivePower))
            electricity(base + 11, 7, 0, measurement(Quantity.current.phase(phase), .current))
            electricity(base + 12, 7, 0, measurement(Quantity.voltage.phase(phase), .voltage))
            electricity(base + 13, 7, 0, measurement(Quantity.powerFactor.phase(phase), .plain))
            electricity(base + 11, 4, 0, measurement(Quantity.currentLimit.phase(phase), .current))
            electricity(base + 12, 32, 0, measurement(Quantity.voltageSags.phase(phase), .plain))
            electricity(base + 12, 36, 0, measurement(Quantity.voltageSwells.phase(phase), .plain))
        }

        // Belgian capacity tariff.
        electricity(1, 4, 0, measurement(.powerImportQuarterHourAverage, .activePower))
        electricity(1, 6, 0, .monthPeak)
        abstract(98, 1, 0, .monthPeakHistory)

        // Meter state.
        m[OBISCode.key(1, 3, 0, 2, 8)] = version(.protocolVersion)
        abstract(96, 1, 4, version(.protocolVersion))
        abstract(1, 0, 0, timestamp(.meterTime))
        abstract(96, 1, 1, hexText(.meterID))
        abstract(96, 1, 0, hexText(.meterID))
        abstract(96, 1, 2, hexText(.meterEAN))
        abstract(42, 0, 0, hexText(.logicalDeviceName))
        abstract(96, 14, 0, text(.tariffIndicator))
        abstract(96, 3, 10, measurement(.breakerState, .plain))
        abstract(17, 0, 0, .limiterThreshold)
        abstract(96, 7, 21, measurement(.powerFailures, .plain))
        abstract(96, 7, 9, measurement(.longPowerFailures, .plain))
        electricity(99, 97, 0, .powerFailureLog)
        abstract(96, 13, 0, hexText(.textMessage))
        abstract(96, 13, 1, hexText(.textMessageCode))
        m[OBISCode.key(1, 1, 31, 4, 0)] = .importExportCurrentLimits
        // EasyMeter Q3D: device id.
        electricity(0, 0, 0, text(.meterID))
        return (names, m)
    }()
}
