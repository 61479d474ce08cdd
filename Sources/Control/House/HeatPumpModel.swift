import Foundation

/// One line of the compatibility table (`Sources/ControlService/Resources/sg-ready-models.json`,
/// listed by `phasor heat-pumps`): a heat pump with SG-Ready inputs, or a heat-pump water
/// heater with a PV contact, and where the module's relays go.
public struct HeatPumpModel: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Equatable, Codable {
        /// Two SG-Ready inputs: relay 1 → SG0 terminal, relay 2 → SG1 terminal.
        case heatPump = "heat_pump"
        /// One PV (photovoltaic surplus) contact: a plain relay.
        case waterHeater = "water_heater"
    }

    /// What a site file names (`model: <id>`).
    public var id: String
    public var brand: String
    public var model: String
    public var kind: Kind
    /// Terminal relay 1 goes to (SG0 or the PV contact).
    public var relay1: String
    /// Terminal relay 2 goes to (SG1); nil for a single contact.
    public var relay2: String?
    /// Regimes the model has (`off`, `normal`, `comfort`, `boost`); nil = all four.
    public var regimes: [HeatPumpRegime]?
    public var notes: String?
    /// False until the line was checked against the manufacturer's installation manual.
    public var checked: Bool

    public init(id: String, brand: String, model: String, kind: Kind, relay1: String, relay2: String? = nil,
                regimes: [HeatPumpRegime]? = nil, notes: String? = nil, checked: Bool = false) {
        self.id = id
        self.brand = brand
        self.model = model
        self.kind = kind
        self.relay1 = relay1
        self.relay2 = relay2
        self.regimes = regimes
        self.notes = notes
        self.checked = checked
    }
}

/// The compatibility table, decoded from its data file.
public struct HeatPumpCatalogue: Sendable, Equatable, Codable {
    public var models: [HeatPumpModel]

    public init(models: [HeatPumpModel]) { self.models = models }

    public func model(_ id: String) -> HeatPumpModel? { models.first { $0.id == id } }

    /// Decodes the table and checks it: ids unique, a heat pump has two terminals.
    public static func decode(_ data: Data) throws -> HeatPumpCatalogue {
        let table = try JSONDecoder().decode(HeatPumpCatalogue.self, from: data)
        var seen = Set<String>()
        for m in table.models {
            guard seen.insert(m.id).inserted else {
                throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "model id '\(m.id)' twice"))
            }
            if m.kind == .heatPump && m.relay2 == nil {
                throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "'\(m.id)': a heat pump needs relay2 (SG1)"))
            }
        }
        return table
    }
}
