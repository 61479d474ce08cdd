import CModbus
import Foundation

/// What can go wrong talking Modbus, typed so callers can tell "the device answered
/// no" (an exception) from "nobody answered" (timeout) from "cannot reach it".
public enum ModbusError: Error, Sendable, Hashable, CustomStringConvertible {
    /// No (complete) response within the response timeout.
    case timeout
    /// The device answered with a Modbus exception.
    case exception(ModbusException)
    /// TCP connection refused: nothing listens on that port.
    case connectionRefused(endpoint: String)
    /// Could not open the link (host unreachable, serial device missing…).
    case connectionFailed(endpoint: String, reason: String)
    /// A response arrived but was malformed (bad CRC, wrong length, wrong unit id).
    case invalidResponse(String)
    /// The request itself is impossible (too many registers, bad unit id).
    case invalidRequest(String)
    /// Any other I/O error, with the C errno.
    case io(errno: Int32, message: String)
    /// The bus was closed by its owner.
    case closed

    public var description: String {
        switch self {
        case .timeout: "timeout"
        case .exception(let e): "exception \(e.code): \(e.name)"
        case .connectionRefused(let endpoint): "connection refused by \(endpoint)"
        case .connectionFailed(let endpoint, let reason): "cannot connect to \(endpoint): \(reason)"
        case .invalidResponse(let why): "invalid response: \(why)"
        case .invalidRequest(let why): "invalid request: \(why)"
        case .io(let errno, let message): "I/O error \(errno): \(message)"
        case .closed: "bus closed"
        }
    }

    /// Timeouts and link failures are worth retrying; an exception is the device's answer.
    var isRetryable: Bool {
        switch self {
        case .timeout, .io, .connectionFailed, .connectionRefused, .invalidResponse: true
        case .exception, .invalidRequest, .closed: false
        }
    }

    /// Errors after which the link must be re-opened before the next request:
    /// a late TCP reply would otherwise be taken as the answer to the next request.
    var needsReconnect: Bool {
        switch self {
        case .timeout, .io, .connectionFailed, .connectionRefused, .invalidResponse: true
        case .exception, .invalidRequest, .closed: false
        }
    }

    /// Maps libmodbus' errno after a failed call.
    static func fromErrno(_ code: Int32, endpoint: String) -> ModbusError {
        let base = Int32(MODBUS_ENOBASE)
        switch code {
        case ETIMEDOUT: return .timeout
        case ECONNREFUSED: return .connectionRefused(endpoint: endpoint)
        case (base + 1)...(base + 11): return .exception(ModbusException(code: UInt8(code - base)))
        case (base + 12)...(base + 17):
            return .invalidResponse(String(cString: modbus_strerror(code)))
        default:
            return .io(errno: code, message: String(cString: modbus_strerror(code)))
        }
    }
}

/// A Modbus exception code with its name from the specification.
public struct ModbusException: Sendable, Hashable, CustomStringConvertible {
    public let code: UInt8
    public init(code: UInt8) { self.code = code }

    public static let illegalFunction = ModbusException(code: 1)
    public static let illegalDataAddress = ModbusException(code: 2)
    public static let illegalDataValue = ModbusException(code: 3)
    public static let serverDeviceFailure = ModbusException(code: 4)

    public var name: String {
        switch code {
        case 1: "illegal function"
        case 2: "illegal data address"
        case 3: "illegal data value"
        case 4: "server device failure"
        case 5: "acknowledge"
        case 6: "server device busy"
        case 7: "negative acknowledge"
        case 8: "memory parity error"
        case 10: "gateway path unavailable"
        case 11: "gateway target device failed to respond"
        default: "unknown exception"
        }
    }

    public var description: String { "\(code) (\(name))" }
}
