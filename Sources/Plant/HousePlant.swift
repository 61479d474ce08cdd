import Foundation
import PhasorCore

/// The house devices beside the cars, on injected time: an SG-Ready heat pump on two
/// relay contacts, a boiler on a relay, a home battery and a PV inverter. Like the
/// rest of the plant: no control, no I/O, no clock.
///
/// Their currents are the plant's "uncontrolled" load of one slot (`Plant.setLoad`), so
/// the breakers and the meters see them like any other load: drive both with
/// `HouseDevices.advance(to:houseW:)`, then `plant.setLoad(slot, base: devices.currents)`.
public struct HouseDevicesConfig: Sendable {
    public struct HeatPump: Sendable {
        /// Relay ids of the SG0 and SG1 contacts.
        public var sg0: String
        public var sg1: String
        /// Power per regime (off, normal, comfort, boost), W, balanced on three phases.
        public var powerW: [Double]
        public init(sg0: String, sg1: String, powerW: [Double]) {
            self.sg0 = sg0
            self.sg1 = sg1
            self.powerW = powerW
        }
    }

    public struct Boiler: Sendable {
        public var relay: String
        public var powerW: Double
        /// Grid phase of the element, 0…2.
        public var phase: Int
        /// Energy until its thermostat opens (it then draws nothing, relay on or not), Wh.
        public var capacityWh: Double
        /// Hot water used, W (the tank cools by this).
        public var useW: Double
        public init(relay: String, powerW: Double, phase: Int = 0, capacityWh: Double = 8000, useW: Double = 150) {
            self.relay = relay
            self.powerW = powerW
            self.phase = phase
            self.capacityWh = capacityWh
            self.useW = useW
        }
    }

    public struct Battery: Sendable {
        public var capacityWh: Double
        public var maxChargeW: Double
        public var maxDischargeW: Double
        /// Never below this state of charge, %.
        public var minSoC: Double
        /// How long new charge/discharge limits take to apply, s.
        public var responseSeconds: Double
        public init(capacityWh: Double, maxChargeW: Double, maxDischargeW: Double, minSoC: Double = 10,
                    responseSeconds: Double = 2) {
            self.capacityWh = capacityWh
            self.maxChargeW = maxChargeW
            self.maxDischargeW = maxDischargeW
            self.minSoC = minSoC
            self.responseSeconds = responseSeconds
        }
    }

    public struct Inverter: Sendable {
        /// PV power available at a time, W.
        public var pv: @Sendable (Date) -> Double
        /// How long a new active-power limit takes to apply, s.
        public var responseSeconds: Double
        public init(pv: @escaping @Sendable (Date) -> Double, responseSeconds: Double = 2) {
            self.pv = pv
            self.responseSeconds = responseSeconds
        }
    }

    public var heatPump: HeatPump?
    public var boiler: Boiler?
    public var battery: Battery?
    public var inverter: Inverter?
    public var voltage: Double

    public init(heatPump: HeatPump? = nil, boiler: Boiler? = nil, battery: Battery? = nil, inverter: Inverter? = nil,
                voltage: Double = 230) {
        self.heatPump = heatPump
        self.boiler = boiler
        self.battery = battery
        self.inverter = inverter
        self.voltage = voltage
    }
}

/// The SG-Ready regime a heat pump reads from its two contacts (label: 1:0 lock, 0:0
/// normal, 0:1 recommendation, 1:1 command), 0…3 = off, normal, comfort, boost.
public func sgReadyRegime(sg0: Bool, sg1: Bool) -> Int {
    switch (sg0, sg1) {
    case (true, false): 0
    case (false, false): 1
    case (false, true): 2
    case (true, true): 3
    }
}

public struct HouseDevices: Sendable {
    public let config: HouseDevicesConfig
    public private(set) var now: Date
    /// Relay contacts as last written.
    public private(set) var relays: [String: Bool] = [:]
    /// Every relay write that changed a contact: (relay, time, on).
    public private(set) var relayLog: [(relay: String, time: Date, on: Bool)] = []
    /// Every change of the heat pump's regime: (time, regime 0…3).
    public private(set) var regimeLog: [(time: Date, regime: Int)] = []
    /// Energy in the boiler's tank above its cold state, Wh.
    public private(set) var boilerWh: Double = 0
    /// Battery state of charge, %.
    public private(set) var batterySoC: Double
    /// Battery power, W, + = discharge (the shared vocabulary's sign).
    public private(set) var batteryW: Double = 0
    /// The battery's setpoint (+ discharge), or nil: it runs its own self-consumption
    /// (charges from export, discharges on import).
    public private(set) var batterySetpointW: Double?
    /// The inverter's active-power limit now, W (nil = none), and one written but not yet applied.
    public private(set) var exportLimitW: Double?
    private var pendingLimit: (value: Double?, at: Date)?
    /// The battery's charge and discharge limits in force (nil = its own maxima), and ones
    /// written but not yet applied: it runs its self-consumption inside them.
    public private(set) var batteryLimits: (charge: Double, discharge: Double)?
    private var pendingBatteryLimits: (value: (charge: Double, discharge: Double)?, at: Date)?
    /// PV power produced now (after any limit), W.
    public private(set) var pvW: Double = 0
    /// Energy tallies, Wh.
    public private(set) var pvWh: Double = 0
    public private(set) var heatPumpWh: Double = 0
    public private(set) var boilerEnergyWh: Double = 0

    public init(config: HouseDevicesConfig, start: Date, batterySoC: Double = 50) {
        self.config = config
        now = start
        self.batterySoC = batterySoC
        if let hp = config.heatPump {
            relays[hp.sg0] = false
            relays[hp.sg1] = false
            regimeLog = [(start, 1)]
        }
        if let b = config.boiler { relays[b.relay] = false }
    }

    /// The heat pump's regime from its contacts (0…3), nil without one.
    public var regime: Int? {
        guard let hp = config.heatPump else { return nil }
        return sgReadyRegime(sg0: relays[hp.sg0] ?? false, sg1: relays[hp.sg1] ?? false)
    }

    /// A relay write (what the gateway does on `relay/<id>/command`), now.
    public mutating func setRelay(_ id: String, on: Bool) {
        guard relays[id] != on else { return }
        relays[id] = on
        relayLog.append((id, now, on))
        if let r = regime, r != regimeLog.last?.regime { regimeLog.append((now, r)) }
    }

    public mutating func setBattery(setpointW: Double?) { batterySetpointW = setpointW }

    /// The battery's charge and discharge limits (W, nil = its maxima), applied after its
    /// response time; a write equal to what is in force or on its way changes nothing.
    public mutating func setBatteryLimits(maxChargeW: Double, maxDischargeW: Double) {
        let wanted = (charge: maxChargeW, discharge: maxDischargeW)
        if let p = pendingBatteryLimits, p.value?.charge == wanted.charge, p.value?.discharge == wanted.discharge { return }
        if pendingBatteryLimits == nil, batteryLimits?.charge == wanted.charge, batteryLimits?.discharge == wanted.discharge {
            return
        }
        pendingBatteryLimits = (wanted, now + (config.battery?.responseSeconds ?? 0))
    }

    /// Back to the battery's own self-consumption at its maxima (the gateway's safe value).
    public mutating func clearBatteryLimits() {
        pendingBatteryLimits = (nil, now + (config.battery?.responseSeconds ?? 0))
    }

    /// The inverter's active-power limit, applied after its response time; a write equal
    /// to what is in force or on its way changes nothing.
    public mutating func setExportLimit(_ watts: Double?) {
        if let p = pendingLimit, p.value == watts { return }
        if pendingLimit == nil, exportLimitW == watts { return }
        pendingLimit = (watts, now + (config.inverter?.responseSeconds ?? 0))
    }

    public var heatPumpW: Double {
        guard let hp = config.heatPump, let r = regime else { return 0 }
        return hp.powerW[r]
    }

    public var boilerW: Double {
        guard let b = config.boiler, relays[b.relay] == true, boilerWh < b.capacityWh else { return 0 }
        return b.powerW
    }

    /// Net per-phase current of the devices (PV and a discharging battery negative), A.
    public var currents: PhaseAmperes {
        let v = config.voltage
        var c = PhaseAmperes(repeating: (heatPumpW - pvW - batteryW) / (3 * v))
        if let b = config.boiler { c[b.phase] += boilerW / v }
        return c
    }

    /// Advances to `time`: PV follows its profile (under the limit once applied), the
    /// battery its setpoint or its own self-consumption against `houseW` (the rest of the
    /// house, cars included, W), the tanks fill and cool.
    public mutating func advance(to time: Date, houseW: Double) {
        let h = time.timeIntervalSince(now) / 3600
        guard h >= 0 else { return }
        if let p = pendingLimit, p.at <= time {
            exportLimitW = p.value
            pendingLimit = nil
        }
        if let p = pendingBatteryLimits, p.at <= time {
            batteryLimits = p.value
            pendingBatteryLimits = nil
        }
        let available = config.inverter?.pv(time) ?? 0
        pvW = max(0, exportLimitW.map { min(available, $0) } ?? available)
        if let b = config.battery {
            let wanted = batterySetpointW ?? (houseW + heatPumpW + boilerW - pvW)  // + = discharge to cover import
            var w = min(max(wanted, -min(b.maxChargeW, batteryLimits?.charge ?? .infinity)),
                        min(b.maxDischargeW, batteryLimits?.discharge ?? .infinity))
            if w > 0 && batterySoC <= b.minSoC { w = 0 }
            if w < 0 && batterySoC >= 100 { w = 0 }
            batteryW = w
            batterySoC = min(100, max(0, batterySoC - w * h / b.capacityWh * 100))
        }
        if let b = config.boiler {
            boilerEnergyWh += boilerW * h
            boilerWh = max(0, boilerWh + (boilerW - b.useW) * h)
        }
        heatPumpWh += heatPumpW * h
        pvWh += pvW * h
        now = time
    }

    /// The inverter's reading in the shared vocabulary (`pv_power`, `battery_power`, `battery_soc`).
    public func inverterReading(device: String) -> Reading {
        var r = Reading(device: device, time: MeterTimestamp(date: now, utcOffsetSeconds: 0), values: [])
        r.set(.pvPower, pvW.rounded())
        if config.battery != nil {
            r.set(.batteryPower, batteryW.rounded())
            r.set(.batterySoC, (batterySoC * 10).rounded() / 10)
        }
        return r
    }
}
