import PhasorCore

/// A relay control may switch (heat pump, boiler, a contactor): one coil or one
/// holding register of a configured Modbus device, or a simulated relay (no
/// `device`) for demos and tests. On fallback the gateway sets its `default`.
public struct RelayConfig: Sendable, Hashable, Decodable {
    public enum State: String, Sendable, Hashable, Decodable, CaseIterable {
        case on, off
        public var isOn: Bool { self == .on }
    }

    public var id: String
    /// Id of the Modbus device (in `modbus.devices`) the relay is wired to; absent = simulated.
    public var device: String?
    /// Coil address, written with function 5.
    public var coil: Int?
    /// Holding register address, written with function 6.
    public var register: Int?
    /// Register values for on and off (default 1 and 0).
    public var onValue: Int?
    public var offValue: Int?
    /// The state at start and whenever control goes quiet (default off).
    public var `default`: State?

    public init(id: String, device: String? = nil, coil: Int? = nil, register: Int? = nil, onValue: Int? = nil,
                offValue: Int? = nil, default defaultState: State? = nil)
    {
        self.id = id
        self.device = device
        self.coil = coil
        self.register = register
        self.onValue = onValue
        self.offValue = offValue
        self.default = defaultState
    }

    public var defaultState: State { self.default ?? .off }

    /// The Modbus write that puts the relay in `state`; nil for a simulated relay.
    public func write(_ state: State) -> (address: UInt16, function: Int, words: [UInt16])? {
        if let coil { return (UInt16(clamping: coil), 5, [state.isOn ? 1 : 0]) }
        if let register {
            let value = state.isOn ? (onValue ?? 1) : (offValue ?? 0)
            return (UInt16(clamping: register), 6, [UInt16(truncatingIfNeeded: value)])
        }
        return nil
    }

    func validate(deviceIDs: Set<String>, file: String) throws(ConfigError) {
        func fail(_ field: String, _ message: String) -> ConfigError {
            ConfigError(file: file, line: nil, field: "modbus.relays.\(id).\(field)", message: message)
        }
        guard !id.isEmpty, id.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else {
            throw fail("id", "use letters, digits, '_' or '-' (it becomes a topic level)")
        }
        guard let device else {
            if coil != nil || register != nil { throw fail("device", "a coil or register needs the device it belongs to") }
            return
        }
        guard deviceIDs.contains(device) else { throw fail("device", "no Modbus device '\(device)' is configured") }
        switch (coil, register) {
        case (let c?, nil): guard (0...65535).contains(c) else { throw fail("coil", "must be 0…65535") }
        case (nil, let r?):
            guard (0...65535).contains(r) else { throw fail("register", "must be 0…65535") }
            for (name, v) in [("on_value", onValue), ("off_value", offValue)] {
                if let v, !(0...65535).contains(v) { throw fail(name, "must be 0…65535") }
            }
        default: throw fail("coil", "give either coil or register")
        }
    }
}
