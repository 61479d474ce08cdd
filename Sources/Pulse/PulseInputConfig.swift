import PhasorCore

/// The `pulses:` section of the site file: S0 pulse inputs and where their
/// counters are kept.
///
/// ```yaml
/// pulses:
///   state_folder: /var/lib/phasor/pulses
///   inputs:
///     - {id: heat_pump, gpio: /dev/gpiochip0, line: 17, pulses_per_unit: 1000, unit: kwh}
///     - {id: gas, gpio: /dev/gpiochip0, line: 27, pulses_per_unit: 100, unit: m3, initial: 1234.56}
/// ```
public struct PulseSection: Sendable, Hashable, Decodable {
    /// One counter file per input lives here (default /var/lib/phasor/pulses).
    public var stateFolder: String?
    public var inputs: [PulseInputConfig]

    public init(stateFolder: String? = nil, inputs: [PulseInputConfig]) {
        self.stateFolder = stateFolder
        self.inputs = inputs
    }

    public static let defaultStateFolder = "/var/lib/phasor/pulses"

    public func validate(file: String = "<site>") throws(ConfigError) {
        var seen: Set<String> = []
        for input in inputs {
            guard seen.insert(input.id).inserted else {
                throw ConfigError(file: file, line: nil, field: "pulses.inputs", message: "duplicate input id '\(input.id)'")
            }
            try input.validate(file: file)
        }
    }
}

/// One S0 input: which GPIO line, how many pulses make one unit, and what it measures.
public struct PulseInputConfig: Sendable, Hashable, Decodable {
    public enum CountedUnit: String, Sendable, Hashable, Decodable, CaseIterable {
        case kwh, m3, l
    }

    public enum Edge: String, Sendable, Hashable, Decodable, CaseIterable {
        case falling, rising
    }

    public enum Bias: String, Sendable, Hashable, Decodable, CaseIterable {
        case none, pullUp = "pull_up", pullDown = "pull_down"
    }

    public var id: String
    /// GPIO character device, e.g. /dev/gpiochip0.
    public var gpio: String
    public var line: Int
    /// Pulses per kWh, per m³ or per litre (the meter's label: "1000 imp/kWh").
    public var pulsesPerUnit: Double
    public var unit: CountedUnit
    /// The counter's published quantity (default energy_import, gas_volume for m3, water_volume for l).
    public var quantity: String?
    /// The rate's published quantity (default power in W, or flow_rate in m³/h).
    public var rateQuantity: String?
    /// The meter's reading when the counter was at zero, in `unit` (aligns with its display).
    public var initial: Double?
    /// Edges closer than this to the previous counted one are bounce (S0 pulses last ≥ 30 ms).
    public var debounceMs: Double?
    public var edge: Edge?
    /// An S0 output is an open collector: the input usually needs a pull-up.
    public var bias: Bias?
    /// The rate reads 0 once no pulse came for this long (default 600 s).
    public var zeroAfterS: Double?

    public init(id: String, gpio: String, line: Int, pulsesPerUnit: Double, unit: CountedUnit, initial: Double? = nil,
                debounceMs: Double? = nil) {
        self.id = id
        self.gpio = gpio
        self.line = line
        self.pulsesPerUnit = pulsesPerUnit
        self.unit = unit
        self.initial = initial
        self.debounceMs = debounceMs
    }

    public var totalQuantity: Quantity {
        Quantity(quantity ?? (unit == .kwh ? Quantity.energyImport : unit == .m3 ? .gasVolume : .waterVolume).rawValue)
    }

    public var rateQuantityName: Quantity {
        Quantity(rateQuantity ?? (unit == .kwh ? Quantity.power : .flowRate).rawValue)
    }

    func validate(file: String) throws(ConfigError) {
        func fail(_ field: String, _ message: String) -> ConfigError {
            ConfigError(file: file, line: nil, field: "pulses.\(id).\(field)", message: message)
        }
        guard !id.isEmpty, id.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else {
            throw fail("id", "use letters, digits, '_' or '-' (it becomes a topic level)")
        }
        guard pulsesPerUnit > 0, pulsesPerUnit.isFinite else { throw fail("pulses_per_unit", "must be positive") }
        guard line >= 0 else { throw fail("line", "must be ≥ 0") }
        if let d = debounceMs, !(d >= 0) { throw fail("debounce_ms", "must be ≥ 0") }
        if let z = zeroAfterS, !(z > 0) { throw fail("zero_after_s", "must be positive") }
        let totalUnit = totalQuantity.unit
        let expected: Unit = unit == .kwh ? .kilowattHour : .cubicMetre
        guard totalUnit == nil || totalUnit == expected else {
            throw fail("quantity", "\(totalQuantity) is not counted in \(expected.rawValue)")
        }
    }
}
