import PhasorCore

/// Where a value lives and how its words are laid out: the part every register
/// entry of a profile shares (readings, charger state, setpoints).
public struct RegisterLayout: Sendable, Hashable {
    public var address: RegisterAddress
    public var table: RegisterTable
    public var type: DataType
    public var words: Int
    public var wordOrder: WordOrder
    /// raw × scale + offset = value in `unit`.
    public var scale: Double
    public var offset: Double

    public init(address: RegisterAddress, table: RegisterTable, type: DataType, words: Int? = nil,
                wordOrder: WordOrder = .abcd, scale: Double = 1, offset: Double = 0) {
        self.address = address
        self.table = table
        self.type = type
        self.words = words ?? type.words ?? 1
        self.wordOrder = wordOrder
        self.scale = scale
        self.offset = offset
    }

    /// Number from register words (scale and offset applied), nil for text or "not available".
    public func value(from words: [UInt16], honourNotAvailable: Bool) -> Double? {
        if honourNotAvailable && RegisterCodec.isNotAvailable(words, type: type, order: wordOrder) { return nil }
        guard let raw = RegisterCodec.decode(words, type: type, order: wordOrder), raw.isFinite else { return nil }
        return raw * scale + offset
    }

    /// Register words holding `value` (the inverse of `value(from:)`).
    public func words(for value: Double) -> [UInt16] {
        let raw = scale == 0 ? 0 : (value - offset) / scale
        return RegisterCodec.encode(raw, type: type, order: wordOrder)
    }
}

/// How a device's sign convention relates to the catalogue's: `power` is
/// import-positive and `battery_power` discharge-positive.
public enum SignConvention: String, Sendable, Hashable, Codable, CaseIterable {
    case importPositive = "import_positive"
    case exportPositive = "export_positive"
    case dischargePositive = "discharge_positive"
    case chargePositive = "charge_positive"

    /// The factor that turns the device's sign into the catalogue's.
    var factor: Double { self == .exportPositive || self == .chargePositive ? -1 : 1 }
}

/// One register entry of a profile as written in YAML.
public struct RegisterSpec: Sendable, Hashable, Decodable {
    /// Catalogue name (`power`, `current_l1`…) or a device-specific name.
    public var quantity: String
    public var address: RegisterAddress
    /// 3 holding, 4 input, 1 coil, 2 discrete input.
    public var function: Int?
    public var type: DataType
    /// Registers of an `ascii` value.
    public var words: Int?
    public var wordOrder: WordOrder?
    public var scale: Double?
    public var offset: Double?
    /// The unit after scale and offset; converted to the catalogue unit.
    public var unit: DeviceUnit?
    public var sign: SignConvention?
    /// Poll group name (see the profile's `poll_groups`).
    public var poll: String?
    /// Treat the type's "not available" marker (0xFFFF, 0x8000…, NaN) as no value.
    public var notAvailable: Bool?
    /// `add`: the value is added to other registers of the same quantity
    /// (SMA grid power = import register − export register).
    public var combine: Combine?
    /// SunSpec: address of the int16 `sunssf` register (same table) whose value
    /// scales this one: raw × 10^sf, before `scale`.
    public var scaleFactor: RegisterAddress?
    public var confidence: Confidence?
    public var note: String?

    public enum Combine: String, Sendable, Hashable, Codable, CaseIterable { case add }
}

/// Whether a value was confirmed by two independent sources (see modbus-devices.md).
public enum Confidence: String, Sendable, Hashable, Codable, CaseIterable {
    case confirmed
    case singleSource = "single_source"
    case conflict
    case unverified
}

/// A register a charger driver reads or writes (no quantity, no unit conversion).
public struct RegisterPoint: Sendable, Hashable, Decodable {
    public var address: RegisterAddress
    /// Table to read: 3, 4 or 1 (coil).
    public var function: Int?
    /// 6, 16 or 5; required for points that are written.
    public var writeFunction: Int?
    public var type: DataType?
    public var words: Int?
    public var wordOrder: WordOrder?
    public var scale: Double?
    public var offset: Double?
}
