/// The catalogue of well-known quantity names and their units.
///
/// Parsers and drivers convert into these units (kW → W, Wh → kWh, kVA → VA) so
/// that `power_import` means watts whether it came from a DSMR telegram, a Linky
/// frame or a Modbus register. Add a name here before publishing it under a new
/// meaning; never reuse a name with another unit.
extension Quantity {
    public struct Definition: Sendable, Hashable {
        public let unit: Unit
        public let summary: String
    }

    // MARK: Grid power (W)
    public static let power: Quantity = "power"
    public static let powerImport: Quantity = "power_import"
    public static let powerExport: Quantity = "power_export"
    public static let reactivePower: Quantity = "reactive_power"
    public static let apparentPower: Quantity = "apparent_power"
    public static let apparentPowerImport: Quantity = "apparent_power_import"
    public static let apparentPowerExport: Quantity = "apparent_power_export"
    public static let powerFactor: Quantity = "power_factor"
    public static let frequency: Quantity = "frequency"
    public static let voltage: Quantity = "voltage"
    public static let current: Quantity = "current"
    public static let currentNeutral: Quantity = "current_n"

    // MARK: Energy counters (kWh)
    public static let energyImport: Quantity = "energy_import"
    public static let energyExport: Quantity = "energy_export"
    public static let reactiveEnergyImport: Quantity = "reactive_energy_import"
    public static let reactiveEnergyExport: Quantity = "reactive_energy_export"

    // MARK: Belgian capacity tariff (W)
    /// 1-0:1.4.0, the running average import of the current quarter hour.
    public static let powerImportQuarterHourAverage: Quantity = "power_import_quarter_hour_average"
    /// 1-0:1.6.0, this month's highest quarter-hour average import.
    public static let powerImportMonthPeak: Quantity = "power_import_month_peak"
    public static let powerImportMonthPeakTime: Quantity = "power_import_month_peak_time"

    // MARK: Meter state
    public static let meterTime: Quantity = "meter_time"
    public static let meterID: Quantity = "meter_id"
    public static let protocolVersion: Quantity = "protocol_version"
    public static let tariffIndicator: Quantity = "tariff"

    // MARK: French tariff signals (TIC), normalised whatever the mode
    /// Tempo colour of today / tomorrow: `blue`, `white`, `red`.
    public static let tempoToday: Quantity = "tempo_today"
    public static let tempoTomorrow: Quantity = "tempo_tomorrow"
    /// The period now: `peak`, `off_peak`, `mobile_peak` (EJP), `normal` (EJP), `base`.
    public static let tariffPeriod: Quantity = "tariff_period"
    /// EJP pre-notice, minutes (PEJP), sent only while a mobile peak is announced.
    public static let ejpNotice: Quantity = "ejp_notice"
    /// Start and end of the first announced mobile peak (DPMx / FPMx, standard mode).
    public static let mobilePeakStart: Quantity = "mobile_peak_start"
    public static let mobilePeakEnd: Quantity = "mobile_peak_end"
    public static let breakerState: Quantity = "breaker_state"
    public static let powerFailures: Quantity = "power_failures"
    public static let longPowerFailures: Quantity = "long_power_failures"
    public static let voltageSags: Quantity = "voltage_sags"
    public static let voltageSwells: Quantity = "voltage_swells"

    // MARK: Other media (M-Bus channels, pulse inputs)
    public static let gasVolume: Quantity = "gas_volume"
    public static let gasVolumeTime: Quantity = "gas_volume_time"
    public static let waterVolume: Quantity = "water_volume"
    public static let waterVolumeTime: Quantity = "water_volume_time"
    public static let heatEnergy: Quantity = "heat_energy"
    public static let flowRate: Quantity = "flow_rate"
    public static let pulseCount: Quantity = "pulse_count"
    public static let temperature: Quantity = "temperature"

    // MARK: PV and battery (W, kWh, %)
    public static let pvPower: Quantity = "pv_power"
    public static let pvEnergy: Quantity = "pv_energy"
    public static let batteryPower: Quantity = "battery_power"
    public static let batterySoC: Quantity = "battery_soc"
    public static let batteryEnergyCharge: Quantity = "battery_energy_charge"
    public static let batteryEnergyDischarge: Quantity = "battery_energy_discharge"
    /// AC output of an inverter (hybrids include battery discharge).
    public static let inverterPower: Quantity = "inverter_power"

    // MARK: Charge points (kWh)
    /// Energy delivered in the running (or last) charging session.
    public static let sessionEnergy: Quantity = "session_energy"


    // MARK: Added for P1 and TIC (meter registers the first catalogue lacked)
    /// 1-0:15.8.0, absolute active energy |+A| + |−A| (Hungary).
    public static let energyAbsolute: Quantity = "energy_absolute"
    /// Reactive energy per quadrant, 1-0:5.8.0…8.8.0 (Hungary), TIC ERQ1…ERQ4.
    public static func reactiveEnergyQuadrant(_ q: Int) -> Quantity { Quantity("reactive_energy_q\(q)") }
    /// Reactive power per quadrant, 1-0:5.7.0…8.7.0.
    public static func reactivePowerQuadrant(_ q: Int) -> Quantity { Quantity("reactive_power_q\(q)") }
    /// Q+ / Q− reactive power (1-0:3.7.0 / 4.7.0 and per phase), both non-negative.
    public static let reactivePowerImport: Quantity = "reactive_power_import"
    public static let reactivePowerExport: Quantity = "reactive_power_export"
    /// Limiter thresholds: 0-0:17.0.0 in kW, A (DSMR 3) or kVA (Smarty); BE/HU fuse limits per phase.
    public static let powerLimit: Quantity = "power_limit"
    public static let currentLimit: Quantity = "current_limit"
    public static let currentLimitExport: Quantity = "current_limit_export"
    public static let apparentPowerLimit: Quantity = "apparent_power_limit"
    /// P1 text message (0-0:96.13.0) and message code (0-0:96.13.1), hex-decoded.
    public static let textMessage: Quantity = "text_message"
    public static let textMessageCode: Quantity = "text_message_code"
    /// BE e-MUCS 2.x EAN of the access point (0-0:96.1.2), decoded.
    public static let meterEAN: Quantity = "meter_ean"
    /// COSEM logical device name (0-0:42.0.0), decoded.
    public static let logicalDeviceName: Quantity = "logical_device_name"
    /// Relay/switch n of the meter (LU 0-1:96.3.10…, BE 0-1…0-4:96.3.10): 1 = closed.
    public static func relayState(_ n: Int) -> Quantity { Quantity("relay_state_\(n)") }
    /// Linky distributor (Enedis) registers EASD01…EASD04 (supplier ones are energy_import_tN).
    public static func energyImportDistributor(_ t: Int) -> Quantity { Quantity("energy_import_distributor_t\(t)") }

    /// Every name above with its unit; per-phase (`_l1`…`_l3`) and tariff (`_t1`…`_t4`)
    /// variants share the unit of their base name.
    public static let catalog: [Quantity: Definition] = {
        var c: [Quantity: Definition] = [:]
        func add(_ q: Quantity, _ unit: Unit, _ summary: String, phases: Bool = false, tariffs: Bool = false) {
            c[q] = Definition(unit: unit, summary: summary)
            if phases { for p in 1...3 { c[q.phase(p)] = Definition(unit: unit, summary: "\(summary), L\(p)") } }
            if tariffs { for t in 1...4 { c[q.tariff(t)] = Definition(unit: unit, summary: "\(summary), tariff \(t)") } }
        }
        add(.power, .watt, "Net active power, positive = import", phases: true)
        add(.powerImport, .watt, "Active power imported", phases: true)
        add(.powerExport, .watt, "Active power exported", phases: true)
        add(.reactivePower, .voltAmpereReactive, "Reactive power", phases: true)
        add(.apparentPower, .voltAmpere, "Apparent power", phases: true)
        add(.apparentPowerImport, .voltAmpere, "Apparent power imported", phases: true)
        add(.apparentPowerExport, .voltAmpere, "Apparent power exported", phases: true)
        add(.powerFactor, .ratio, "Power factor", phases: true)
        add(.frequency, .hertz, "Grid frequency")
        add(.voltage, .volt, "Voltage", phases: true)
        add(Quantity("voltage_l1_l2"), .volt, "Line voltage L1-L2")
        add(Quantity("voltage_l2_l3"), .volt, "Line voltage L2-L3")
        add(Quantity("voltage_l3_l1"), .volt, "Line voltage L3-L1")
        add(.current, .ampere, "Current", phases: true)
        add(.currentNeutral, .ampere, "Neutral current")
        add(.energyImport, .kilowattHour, "Active energy imported", phases: true, tariffs: true)
        add(.energyExport, .kilowattHour, "Active energy exported", phases: true, tariffs: true)
        add(.reactiveEnergyImport, .kilovarHour, "Reactive energy imported")
        add(.reactiveEnergyExport, .kilovarHour, "Reactive energy exported")
        add(.powerImportQuarterHourAverage, .watt, "Average import of the running quarter hour")
        add(.powerImportMonthPeak, .watt, "Highest quarter-hour average import this month")
        add(.powerImportMonthPeakTime, .none, "When this month's peak occurred")
        add(.meterTime, .none, "Meter clock at the reading")
        add(.meterID, .none, "Meter identifier")
        add(.protocolVersion, .none, "Protocol version the meter reports")
        add(.tariffIndicator, .none, "Active tariff")
        add(.tempoToday, .none, "Tempo colour of today (blue, white, red)")
        add(.tempoTomorrow, .none, "Tempo colour of tomorrow (blue, white, red)")
        add(.tariffPeriod, .none, "Tariff period now (peak, off_peak, mobile_peak, normal, base)")
        add(.ejpNotice, .none, "EJP mobile-peak pre-notice, minutes")
        add(.mobilePeakStart, .none, "Start of the announced mobile peak")
        add(.mobilePeakEnd, .none, "End of the announced mobile peak")
        add(.breakerState, .none, "Breaker/switch position")
        add(.powerFailures, .count, "Power failures")
        add(.longPowerFailures, .count, "Long power failures")
        add(.voltageSags, .count, "Voltage sags", phases: true)
        add(.voltageSwells, .count, "Voltage swells", phases: true)
        add(.gasVolume, .cubicMetre, "Gas volume")
        add(.gasVolumeTime, .none, "When the gas volume was captured")
        add(.waterVolume, .cubicMetre, "Water volume")
        add(.waterVolumeTime, .none, "When the water volume was captured")
        add(.heatEnergy, .gigajoule, "Heat energy")
        add(.flowRate, .cubicMetrePerHour, "Flow rate")
        add(.pulseCount, .count, "Pulses counted")
        add(.temperature, .celsius, "Temperature")
        add(.pvPower, .watt, "PV production")
        add(.pvEnergy, .kilowattHour, "PV energy produced")
        add(.batteryPower, .watt, "Battery power, positive = discharge")
        add(.batterySoC, .percent, "Battery state of charge")
        add(.batteryEnergyCharge, .kilowattHour, "Battery energy charged")
        add(.batteryEnergyDischarge, .kilowattHour, "Battery energy discharged")
        add(.inverterPower, .watt, "Inverter AC output power")
        add(.sessionEnergy, .kilowattHour, "Energy charged in the current session")
        // Added for P1 and TIC.
        add(.energyAbsolute, .kilowattHour, "Absolute active energy (import + export)")
        for t in 1...4 {
            add(Quantity.reactiveEnergyImport.tariff(t), .kilovarHour, "Reactive energy imported, tariff \(t)")
            add(Quantity.reactiveEnergyExport.tariff(t), .kilovarHour, "Reactive energy exported, tariff \(t)")
            add(.reactiveEnergyQuadrant(t), .kilovarHour, "Reactive energy, quadrant \(t)")
            add(.reactivePowerQuadrant(t), .voltAmpereReactive, "Reactive power, quadrant \(t)")
            add(.relayState(t), .none, "Relay \(t) position, 1 = closed")
            add(.energyImportDistributor(t), .kilowattHour, "Active energy imported, distributor index \(t)")
        }
        for t in 5...10 {
            add(Quantity.energyImport.tariff(t), .kilowattHour, "Active energy imported, tariff \(t)")
        }
        add(.reactivePowerImport, .voltAmpereReactive, "Reactive power Q+", phases: true)
        add(.reactivePowerExport, .voltAmpereReactive, "Reactive power Q-", phases: true)
        add(.powerLimit, .watt, "Power limiter threshold")
        add(.currentLimit, .ampere, "Current limit (fuse/limiter threshold)", phases: true)
        add(.currentLimitExport, .ampere, "Export current limit")
        add(.apparentPowerLimit, .voltAmpere, "Apparent power limiter threshold")
        add(.textMessage, .none, "Meter text message")
        add(.textMessageCode, .none, "Meter text message code")
        add(.meterEAN, .none, "EAN of the access point")
        add(.logicalDeviceName, .none, "COSEM logical device name")
        return c
    }()
}
