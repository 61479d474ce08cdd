import CModbus
import Foundation

/// One libmodbus `modbus_t`, used synchronously. Not thread-safe (libmodbus is not):
/// only the bus worker thread that created it may touch it.
final class ModbusContext {
    private let ctx: OpaquePointer
    let endpoint: String
    private(set) var isConnected = false

    /// Creates a TCP client context. Nothing is opened until `connect()`.
    init(host: String, port: Int) throws(ModbusError) {
        endpoint = "\(host):\(port)"
        guard (1...65535).contains(port), let c = modbus_new_tcp(host, Int32(port)) else {
            throw .invalidRequest("bad TCP endpoint \(host):\(port)")
        }
        ctx = c
    }

    /// Creates an RTU client context with the given line settings.
    init(device: String, serial: SerialSettings) throws(ModbusError) {
        endpoint = "\(device) \(serial)"
        guard [7, 8].contains(serial.dataBits), [1, 2].contains(serial.stopBits), (1...4_000_000).contains(serial.baud),
            let c = modbus_new_rtu(device, Int32(serial.baud), serial.parity.libmodbusCharacter,
                                   Int32(serial.dataBits), Int32(serial.stopBits))
        else { throw .invalidRequest("bad serial settings \(serial) for \(device)") }
        ctx = c
    }

    deinit {
        modbus_close(ctx)
        modbus_free(ctx)
    }

    func configure(_ options: BusOptions) {
        modbus_set_response_timeout(ctx, options.responseTimeout.seconds, options.responseTimeout.microseconds)
        if let byte = options.byteTimeout { modbus_set_byte_timeout(ctx, byte.seconds, byte.microseconds) }
        // Flush the line after a bad frame, so the next exchange starts clean.
        modbus_set_error_recovery(ctx, MODBUS_ERROR_RECOVERY_PROTOCOL)
    }

    func connect() throws(ModbusError) {
        if isConnected { return }
        if modbus_connect(ctx) == -1 {
            let code = errno
            if code == ECONNREFUSED { throw .connectionRefused(endpoint: endpoint) }
            throw .connectionFailed(endpoint: endpoint, reason: String(cString: modbus_strerror(code)))
        }
        isConnected = true
    }

    func close() {
        guard isConnected else { return }
        modbus_close(ctx)
        isConnected = false
    }

    func setUnit(_ unit: UInt8) throws(ModbusError) {
        if modbus_set_slave(ctx, Int32(unit)) == -1 { throw .invalidRequest("unit id \(unit) not allowed on this link") }
    }

    // MARK: Requests

    func readRegisters(_ table: RegisterTable, address: UInt16, count: Int) throws(ModbusError) -> [UInt16] {
        guard !table.isBitTable else { throw .invalidRequest("\(table) holds bits, not registers") }
        guard (1...125).contains(count), Int(address) + count <= 65536 else {
            throw .invalidRequest("cannot read \(count) registers at \(address)")
        }
        var words = [UInt16](repeating: 0, count: count)
        let n = words.withUnsafeMutableBufferPointer { buffer in
            table == .holdingRegisters
                ? modbus_read_registers(ctx, Int32(address), Int32(count), buffer.baseAddress)
                : modbus_read_input_registers(ctx, Int32(address), Int32(count), buffer.baseAddress)
        }
        try check(n)
        return words
    }

    func readBits(_ table: RegisterTable, address: UInt16, count: Int) throws(ModbusError) -> [Bool] {
        guard table.isBitTable else { throw .invalidRequest("\(table) holds registers, not bits") }
        guard (1...2000).contains(count), Int(address) + count <= 65536 else {
            throw .invalidRequest("cannot read \(count) bits at \(address)")
        }
        var bits = [UInt8](repeating: 0, count: count)
        let n = bits.withUnsafeMutableBufferPointer { buffer in
            table == .coils
                ? modbus_read_bits(ctx, Int32(address), Int32(count), buffer.baseAddress)
                : modbus_read_input_bits(ctx, Int32(address), Int32(count), buffer.baseAddress)
        }
        try check(n)
        return bits.map { $0 != 0 }
    }

    func writeRegister(address: UInt16, value: UInt16) throws(ModbusError) {
        try check(modbus_write_register(ctx, Int32(address), value))
    }

    func writeRegisters(address: UInt16, values: [UInt16]) throws(ModbusError) {
        guard (1...123).contains(values.count), Int(address) + values.count <= 65536 else {
            throw .invalidRequest("cannot write \(values.count) registers at \(address)")
        }
        let n = values.withUnsafeBufferPointer { modbus_write_registers(ctx, Int32(address), Int32(values.count), $0.baseAddress) }
        try check(n)
    }

    func writeCoil(address: UInt16, on: Bool) throws(ModbusError) {
        try check(modbus_write_bit(ctx, Int32(address), on ? 1 : 0))
    }

    private func check(_ result: Int32) throws(ModbusError) {
        if result == -1 { throw ModbusError.fromErrno(errno, endpoint: endpoint) }
    }
}
