/// Line settings of a serial port. Meters send continuously and have no flow
/// control, so raw mode, no handshake, receiver on.
public struct SerialSettings: Sendable, Hashable, CustomStringConvertible {
    public enum Parity: String, Sendable, Hashable, CaseIterable { case none, even, odd }

    public var baudRate: Int
    public var dataBits: Int
    public var parity: Parity
    public var stopBits: Int

    public init(baudRate: Int, dataBits: Int = 8, parity: Parity = .none, stopBits: Int = 1) {
        self.baudRate = baudRate
        self.dataBits = dataBits
        self.parity = parity
        self.stopBits = stopBits
    }

    /// P1 of DSMR 4 and 5, e-MUCS, Smarty.
    public static let p1DSMR4and5 = SerialSettings(baudRate: 115_200)
    /// P1 of DSMR 2.2 and 3.
    public static let p1DSMR2and3 = SerialSettings(baudRate: 9600, dataBits: 7, parity: .even)
    /// TIC historique (and Linky in its factory mode).
    public static let ticHistorique = SerialSettings(baudRate: 1200, dataBits: 7, parity: .even)
    /// TIC standard (Linky).
    public static let ticStandard = SerialSettings(baudRate: 9600, dataBits: 7, parity: .even)

    /// The baud rates termios can set here.
    public static let supportedBaudRates = [1200, 2400, 4800, 9600, 19_200, 38_400, 57_600, 115_200, 230_400]

    /// Refuses settings termios cannot express, with a reason for the operator.
    public func validate() throws(ByteChannelError) {
        guard Self.supportedBaudRates.contains(baudRate) else {
            throw ByteChannelError("baud \(baudRate): use one of \(Self.supportedBaudRates.map(String.init).joined(separator: ", "))")
        }
        guard (5...8).contains(dataBits) else { throw ByteChannelError("data bits \(dataBits): use 5 to 8") }
        guard stopBits == 1 || stopBits == 2 else { throw ByteChannelError("stop bits \(stopBits): use 1 or 2") }
    }

    /// `115200 8N1`, `1200 7E1`.
    public var description: String {
        let p = switch parity { case .none: "N"; case .even: "E"; case .odd: "O" }
        return "\(baudRate) \(dataBits)\(p)\(stopBits)"
    }
}
