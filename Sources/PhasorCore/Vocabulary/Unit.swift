/// The physical units Phasor publishes in. Every quantity name has exactly one
/// unit (see `Quantity`), so a consumer never has to ask where a value came from.
public enum Unit: String, Sendable, Hashable, Codable, CaseIterable {
    case watt = "W"
    case kilowattHour = "kWh"
    case volt = "V"
    case ampere = "A"
    case hertz = "Hz"
    case voltAmpere = "VA"
    case voltAmpereReactive = "var"
    case kilovarHour = "kvarh"
    case cubicMetre = "m³"
    case cubicMetrePerHour = "m³/h"
    case litre = "L"
    case litrePerMinute = "L/min"
    case gigajoule = "GJ"
    case celsius = "°C"
    case percent = "%"
    case second = "s"
    /// A count of events (power failures, voltage sags, pulses).
    case count = "count"
    /// Dimensionless ratio, e.g. power factor.
    case ratio = ""
    /// Text, identifiers, states and timestamps.
    case none = "none"
}
