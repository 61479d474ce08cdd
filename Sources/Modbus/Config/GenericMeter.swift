import PhasorCore

/// One value of a generic meter, as an installer defines it: function code,
/// register, number of words and a factor that turns the raw number into the
/// quantity's catalogue unit (W, kWh, V, A…).
public struct GenericRegister: Sendable, Hashable, Decodable {
    public var quantity: String
    /// 3 (holding) or 4 (input).
    public var function: Int
    public var register: RegisterAddress
    /// 1, 2 or 4.
    public var words: Int
    public var factor: Double
    /// Defaults by size: 1 → int16, 2 → int32, 4 → int64; set float32/float64/uint… when needed.
    public var type: DataType?
    public var wordOrder: WordOrder?

    public init(quantity: String, function: Int, register: RegisterAddress, words: Int, factor: Double,
                type: DataType? = nil, wordOrder: WordOrder? = nil)
    {
        self.quantity = quantity
        self.function = function
        self.register = register
        self.words = words
        self.factor = factor
        self.type = type
        self.wordOrder = wordOrder
    }
}

public enum GenericMeter {
    /// Builds a profile from the configuration rows on top of the shipped `generic` profile.
    public static func profile(id: String, registers: [GenericRegister], base: ResolvedProfile) throws(ConfigError)
        -> ResolvedProfile
    {
        var profile = base.profile
        profile.id = id
        profile.registers = []
        for (i, row) in registers.enumerated() {
            let field = "modbus.\(id).registers[\(i)]"
            guard row.function == 3 || row.function == 4 else {
                throw ConfigError(file: "<site>", line: nil, field: "\(field).function", message: "must be 3 or 4")
            }
            let type = row.type ?? [1: .int16, 2: .int32, 4: .int64][row.words]
            guard let type, type.words == row.words else {
                throw ConfigError(file: "<site>", line: nil, field: "\(field).words",
                                  message: "\(row.words) word(s) does not fit type \(row.type?.rawValue ?? "-"); use 1, 2 or 4")
            }
            // The factor already yields the catalogue unit: declare that unit so no conversion applies.
            let unit = Quantity(row.quantity).unit.flatMap { u in DeviceUnit.allCases.first { $0.factor(to: u) == 1 } }
            profile.registers.append(RegisterSpec(
                quantity: row.quantity, address: row.register, function: row.function, type: type, words: nil,
                wordOrder: row.wordOrder, scale: row.factor, offset: nil, unit: unit, sign: nil, poll: nil,
                notAvailable: nil, combine: nil, confidence: nil, note: nil))
        }
        return try ResolvedProfile(profile, file: "<site: \(id)>")
    }
}
