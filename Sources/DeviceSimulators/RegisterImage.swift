import CModbus
import Modbus

/// The four tables a simulated device serves, as a libmodbus mapping sized to the
/// addresses its profile uses, so reads outside them get "illegal data address".
final class RegisterImage {
    let mapping: UnsafeMutablePointer<modbus_mapping_t>

    /// `ranges`: per table, the lowest address and one past the highest.
    init?(ranges: [RegisterTable: Range<Int>]) {
        func bounds(_ table: RegisterTable) -> (UInt32, UInt32) {
            guard let r = ranges[table], !r.isEmpty else { return (0, 0) }
            return (UInt32(r.lowerBound), UInt32(r.count))
        }
        let coils = bounds(.coils), discrete = bounds(.discreteInputs)
        let holding = bounds(.holdingRegisters), input = bounds(.inputRegisters)
        guard let m = modbus_mapping_new_start_address(coils.0, coils.1, discrete.0, discrete.1, holding.0, holding.1,
                                                       input.0, input.1)
        else { return nil }
        mapping = m
    }

    deinit { modbus_mapping_free(mapping) }

    private func location(_ table: RegisterTable) -> (start: Int, count: Int) {
        let m = mapping.pointee
        switch table {
        case .coils: return (Int(m.start_bits), Int(m.nb_bits))
        case .discreteInputs: return (Int(m.start_input_bits), Int(m.nb_input_bits))
        case .holdingRegisters: return (Int(m.start_registers), Int(m.nb_registers))
        case .inputRegisters: return (Int(m.start_input_registers), Int(m.nb_input_registers))
        }
    }

    /// Writes words (bits: non-zero = on); parts outside the table are ignored.
    func set(_ table: RegisterTable, address: Int, _ words: [UInt16]) {
        let (start, count) = location(table)
        for (i, word) in words.enumerated() {
            let index = address - start + i
            guard index >= 0, index < count else { continue }
            switch table {
            case .coils: mapping.pointee.tab_bits[index] = word != 0 ? 1 : 0
            case .discreteInputs: mapping.pointee.tab_input_bits[index] = word != 0 ? 1 : 0
            case .holdingRegisters: mapping.pointee.tab_registers[index] = word
            case .inputRegisters: mapping.pointee.tab_input_registers[index] = word
            }
        }
    }

    /// Reads words (bits as 0/1); nil when any part lies outside the table.
    func get(_ table: RegisterTable, address: Int, count words: Int) -> [UInt16]? {
        let (start, count) = location(table)
        let from = address - start
        guard from >= 0, from + words <= count else { return nil }
        return (from..<(from + words)).map { index in
            switch table {
            case .coils: UInt16(mapping.pointee.tab_bits[index])
            case .discreteInputs: UInt16(mapping.pointee.tab_input_bits[index])
            case .holdingRegisters: mapping.pointee.tab_registers[index]
            case .inputRegisters: mapping.pointee.tab_input_registers[index]
            }
        }
    }
}
