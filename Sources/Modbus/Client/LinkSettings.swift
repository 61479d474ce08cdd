/// How to reach a Modbus bus and how patiently to talk to it.

/// A libmodbus timeout, kept as libmodbus takes it: whole seconds plus microseconds.
public struct ModbusTimeout: Sendable, Hashable {
    public var seconds: UInt32
    public var microseconds: UInt32

    public init(seconds: UInt32, microseconds: UInt32) {
        // libmodbus rejects usec ≥ 1_000_000; carry the excess into seconds.
        self.seconds = seconds + microseconds / 1_000_000
        self.microseconds = microseconds % 1_000_000
    }

    public init(milliseconds: Int) {
        let ms = UInt32(clamping: max(0, milliseconds))
        self.init(seconds: ms / 1000, microseconds: (ms % 1000) * 1000)
    }

    public var duration: Duration { .seconds(Int64(seconds)) + .microseconds(Int64(microseconds)) }
}

public enum Parity: String, Sendable, Hashable, Codable, CaseIterable {
    case none, even, odd

    /// The character `modbus_new_rtu` wants.
    var libmodbusCharacter: CChar {
        switch self {
        case .none: CChar(UInt8(ascii: "N"))
        case .even: CChar(UInt8(ascii: "E"))
        case .odd: CChar(UInt8(ascii: "O"))
        }
    }
}

/// Line settings of one RTU device; a shared bus switches to them before talking to it.
public struct SerialSettings: Sendable, Hashable, Codable, CustomStringConvertible {
    public var baud: Int
    public var parity: Parity
    public var dataBits: Int
    public var stopBits: Int

    public init(baud: Int = 9600, parity: Parity = .none, dataBits: Int = 8, stopBits: Int = 1) {
        self.baud = baud
        self.parity = parity
        self.dataBits = dataBits
        self.stopBits = stopBits
    }

    public init(from decoder: any Decoder) throws {
        enum Keys: String, CodingKey { case baud, parity, dataBits, stopBits }
        let c = try decoder.container(keyedBy: Keys.self)
        baud = try c.decode(Int.self, forKey: .baud)
        parity = try c.decodeIfPresent(Parity.self, forKey: .parity) ?? .none
        dataBits = try c.decodeIfPresent(Int.self, forKey: .dataBits) ?? 8
        stopBits = try c.decodeIfPresent(Int.self, forKey: .stopBits) ?? 1
    }

    public var description: String {
        "\(baud) \(dataBits)\(parity.rawValue.prefix(1).uppercased())\(stopBits)"
    }
}

/// The physical link a bus talks over.
public enum ModbusLink: Sendable, Hashable, CustomStringConvertible {
    /// One TCP connection; several unit ids may sit behind it (gateways, Alfen sockets).
    case tcp(host: String, port: Int)
    /// One serial port shared by devices that may each use other line settings.
    case rtu(device: String, defaultSettings: SerialSettings)

    public var description: String {
        switch self {
        case .tcp(let host, let port): "tcp://\(host):\(port)"
        case .rtu(let device, let settings): "rtu:\(device) (\(settings))"
        }
    }
}

/// Retries with exponential backoff, for timeouts and link errors only.
public struct RetryPolicy: Sendable, Hashable {
    /// Total attempts, the first one included (1 = no retry).
    public var attempts: Int
    public var initialBackoff: Duration
    public var multiplier: Double
    public var maxBackoff: Duration

    public init(attempts: Int = 2, initialBackoff: Duration = .milliseconds(50), multiplier: Double = 2,
                maxBackoff: Duration = .seconds(2)) {
        self.attempts = max(1, attempts)
        self.initialBackoff = initialBackoff
        self.multiplier = multiplier
        self.maxBackoff = maxBackoff
    }

    /// The pause before retry number `retry` (1-based).
    public func backoff(beforeRetry retry: Int) -> Duration {
        var pause = initialBackoff
        if retry > 1 { for _ in 2...retry { pause = pause * multiplier } }
        return min(pause, maxBackoff)
    }

    public static let none = RetryPolicy(attempts: 1)
}

/// Timing of a bus. Defaults suit a LAN meter; Huawei dongles want a connect delay
/// and long timeouts, slow RTU buses a larger inter-frame delay.
public struct BusOptions: Sendable, Hashable {
    public var responseTimeout: ModbusTimeout
    /// Silence allowed between bytes of one response; `nil` keeps libmodbus' default.
    public var byteTimeout: ModbusTimeout?
    public var retry: RetryPolicy
    /// Minimum pause between the end of one transaction and the next request.
    public var interFrameDelay: Duration
    /// Pause after opening the link before the first request (Huawei SDongle: 1–7 s).
    public var connectDelay: Duration

    public init(responseTimeout: ModbusTimeout = ModbusTimeout(milliseconds: 1000), byteTimeout: ModbusTimeout? = nil,
                retry: RetryPolicy = RetryPolicy(), interFrameDelay: Duration = .zero, connectDelay: Duration = .zero) {
        self.responseTimeout = responseTimeout
        self.byteTimeout = byteTimeout
        self.retry = retry
        self.interFrameDelay = interFrameDelay
        self.connectDelay = connectDelay
    }
}

/// Which device on a bus a request is for.
public struct BusTarget: Sendable, Hashable, CustomStringConvertible {
    public var unitID: UInt8
    /// RTU only: this device's line settings when they differ from the bus default.
    public var serial: SerialSettings?

    public init(unitID: UInt8, serial: SerialSettings? = nil) {
        self.unitID = unitID
        self.serial = serial
    }

    public var description: String { serial.map { "unit \(unitID) @ \($0)" } ?? "unit \(unitID)" }
}

/// The four Modbus data tables.
public enum RegisterTable: Int, Sendable, Hashable, Codable {
    case coils = 1
    case discreteInputs = 2
    case holdingRegisters = 3
    case inputRegisters = 4

    public var isBitTable: Bool { self == .coils || self == .discreteInputs }
}
