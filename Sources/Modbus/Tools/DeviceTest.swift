import PhasorCore

/// One line of the installer's "Test" button: a register read once, with what it means.
public struct TestRow: Sendable, Hashable {
    /// The quantity, or `charger.state` / `charger.current_limit` for control registers.
    public var name: String
    public var address: UInt16
    public var function: Int
    /// Decoded value in `unit` (nil for text or on error).
    public var value: Double?
    public var text: String?
    public var unit: String
    public var raw: [UInt16]
    public var error: ModbusError?
}

/// Reads every register of `profile` once, one request each, so a wrong address
/// shows up on its own row instead of failing a whole block.
public func deviceTest(profile: ResolvedProfile, bus: ModbusBus, target: BusTarget) async -> [TestRow] {
    var rows: [TestRow] = []
    for register in profile.registers {
        var row = TestRow(name: register.quantity.rawValue, address: register.layout.address.value,
                          function: register.layout.table.rawValue, value: nil, text: nil,
                          unit: register.unit.rawValue, raw: [], error: nil)
        do throws(ModbusError) {
            row.raw = try await read(register.layout, bus: bus, target: target)
            if register.layout.type == .ascii {
                row.text = RegisterCodec.decodeText(row.raw, order: register.layout.wordOrder)
            } else if let sfAddress = register.scaleFactor {
                let sfLayout = RegisterLayout(address: sfAddress, table: register.layout.table, type: .int16)
                let sfWord = try await read(sfLayout, bus: bus, target: target).first ?? 0x8000
                row.value = register.value(from: row.raw, scaleFactor: Int16(bitPattern: sfWord))
            } else {
                row.value = register.value(from: row.raw)
            }
        } catch {
            row.error = error
        }
        rows.append(row)
    }
    if let charger = profile.charger {
        let order = profile.defaultWordOrder
        if let layout = try? ResolvedProfile.layout(of: charger.state.register, defaultOrder: order, path: "", file: "") {
            var row = TestRow(name: "charger.state", address: layout.address.value, function: layout.table.rawValue,
                              value: nil, text: nil, unit: "", raw: [], error: nil)
            do throws(ModbusError) {
                row.raw = try await read(layout, bus: bus, target: target)
                let (state, raw) = ChargerStateDecoder.decode(row.raw, spec: charger.state, layout: layout)
                row.text = "\(raw) (\(state.rawValue))"
            } catch {
                row.error = error
            }
            rows.append(row)
        }
        let limitPoint = charger.currentLimitReadback ?? charger.currentLimit
        if let layout = try? ResolvedProfile.layout(of: limitPoint, defaultOrder: order, path: "", file: "") {
            var row = TestRow(name: "charger.current_limit", address: layout.address.value, function: layout.table.rawValue,
                              value: nil, text: nil, unit: Unit.ampere.rawValue, raw: [], error: nil)
            do throws(ModbusError) {
                row.raw = try await read(layout, bus: bus, target: target)
                row.value = layout.value(from: row.raw, honourNotAvailable: true)
            } catch {
                row.error = error
            }
            rows.append(row)
        }
    }
    return rows
}

private func read(_ layout: RegisterLayout, bus: ModbusBus, target: BusTarget) async throws(ModbusError) -> [UInt16] {
    if layout.table.isBitTable {
        return try await bus.readBits(layout.table, address: layout.address.value, count: layout.words, target: target)
            .map { $0 ? 1 : 0 }
    }
    return try await bus.readRegisters(layout.table, address: layout.address.value, count: layout.words, target: target)
}
