/// A measured quantity's public name: snake_case, identical whichever protocol
/// (P1, TIC, Modbus, S0) the value came from, with one fixed unit.
///
/// Sign conventions (normalised once, at the parser/driver):
/// - `power` (and `power_l1`…) is the signed grid power: positive = import from the grid.
/// - `power_import` / `power_export` are both non-negative (as P1 sends them).
/// - `battery_power` positive = discharge (the battery delivers power).
/// - `pv_power` is non-negative production.
///
/// Names outside the catalogue are allowed (unknown OBIS codes, TIC labels, profile
/// registers a user added) and are published generically; the catalogue is what
/// schemas and Home Assistant discovery know about.
public struct Quantity: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible,
    ExpressibleByStringLiteral
{
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ name: String) { self.rawValue = name }
    public init(stringLiteral value: String) { self.rawValue = value }
    public var description: String { rawValue }

    /// The unit this quantity is always published in; `nil` for names not in the catalogue.
    public var unit: Unit? { Quantity.catalog[self]?.unit }
    /// A short human description for discovery and docs.
    public var summary: String? { Quantity.catalog[self]?.summary }
}

extension Quantity {
    /// Builds the per-phase variant of a quantity: `voltage` + 1 → `voltage_l1`.
    public func phase(_ phase: Int) -> Quantity { Quantity("\(rawValue)_l\(phase)") }
    /// Builds a tariff-register variant: `energy_import` + 2 → `energy_import_t2`.
    public func tariff(_ tariff: Int) -> Quantity { Quantity("\(rawValue)_t\(tariff)") }
}
