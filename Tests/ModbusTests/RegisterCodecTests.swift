import Foundation
import PhasorCore
import Testing
@testable import Modbus

/// Decoding of every type and word order against register values worked out by hand.
@Suite struct RegisterCodecTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let type: DataType
        let order: WordOrder
        let words: [UInt16]
        let value: Double
        var testDescription: String { "\(type) \(order) \(words.map { String($0, radix: 16) })" }
    }

    static let cases: [Case] = [
        Case(type: .int16, order: .abcd, words: [0xFFFE], value: -2),
        Case(type: .uint16, order: .abcd, words: [0xFFFE], value: 65534),
        Case(type: .int16, order: .badc, words: [0xFEFF], value: -2),
        // 0x00012345 = 74565
        Case(type: .uint32, order: .abcd, words: [0x0001, 0x2345], value: 74565),
        Case(type: .uint32, order: .cdab, words: [0x2345, 0x0001], value: 74565),
        Case(type: .uint32, order: .badc, words: [0x0100, 0x4523], value: 74565),
        Case(type: .uint32, order: .dcba, words: [0x4523, 0x0100], value: 74565),
        // -2500 = 0xFFFFF63C
        Case(type: .int32, order: .abcd, words: [0xFFFF, 0xF63C], value: -2500),
        Case(type: .int32, order: .cdab, words: [0xF63C, 0xFFFF], value: -2500),
        // 230.5 as float32 = 0x43668000
        Case(type: .float32, order: .abcd, words: [0x4366, 0x8000], value: 230.5),
        Case(type: .float32, order: .cdab, words: [0x8000, 0x4366], value: 230.5),
        Case(type: .float32, order: .badc, words: [0x6643, 0x0080], value: 230.5),
        Case(type: .float32, order: .dcba, words: [0x0080, 0x6643], value: 230.5),
        // 12345.678 as float64 = 0x40C81CD6C8B43958
        Case(type: .float64, order: .abcd, words: [0x40C8, 0x1CD6, 0xC8B4, 0x3958], value: 12345.678),
        Case(type: .float64, order: .cdab, words: [0x3958, 0xC8B4, 0x1CD6, 0x40C8], value: 12345.678),
        // 0x0000000123456789 = 4886718345
        Case(type: .uint64, order: .abcd, words: [0x0000, 0x0001, 0x2345, 0x6789], value: 4_886_718_345),
        Case(type: .uint64, order: .cdab, words: [0x6789, 0x2345, 0x0001, 0x0000], value: 4_886_718_345),
        Case(type: .int64, order: .abcd, words: [0xFFFF, 0xFFFF, 0xFFFF, 0xFF85], value: -123),
        Case(type: .int64, order: .cdab, words: [0xFF85, 0xFFFF, 0xFFFF, 0xFFFF], value: -123),
    ]

    @Test(arguments: cases)
    func decodesKnownRegisterValues(_ c: Case) {
        #expect(RegisterCodec.decode(c.words, type: c.type, order: c.order) == c.value)
    }

    @Test(arguments: cases)
    func encodingIsTheInverse(_ c: Case) {
        #expect(RegisterCodec.encode(c.value, type: c.type, order: c.order) == c.words)
    }

    @Test func wrongWordCountDecodesToNothing() {
        #expect(RegisterCodec.decode([1], type: .float32, order: .abcd) == nil)
        #expect(RegisterCodec.decode([1, 2, 3], type: .uint64, order: .abcd) == nil)
        #expect(RegisterCodec.decode([], type: .int16, order: .abcd) == nil)
    }

    @Test func outOfRangeValuesAreClampedNotTrapped() {
        #expect(RegisterCodec.encode(70000, type: .uint16, order: .abcd) == [0xFFFF])
        #expect(RegisterCodec.encode(-5, type: .uint32, order: .abcd) == [0, 0])
        #expect(RegisterCodec.encode(.infinity, type: .int16, order: .abcd) == [0])
        #expect(RegisterCodec.encode(.nan, type: .int64, order: .abcd) == [0, 0, 0, 0])
    }

    @Test func notAvailableMarkers() {
        #expect(RegisterCodec.isNotAvailable([0x8000, 0x0000], type: .int32, order: .abcd))
        #expect(RegisterCodec.isNotAvailable([0xFFFF, 0xFFFF], type: .uint32, order: .cdab))
        #expect(RegisterCodec.isNotAvailable([0xFFFF], type: .uint16, order: .abcd))
        #expect(RegisterCodec.isNotAvailable([0x7FC0, 0x0000], type: .float32, order: .abcd))
        #expect(!RegisterCodec.isNotAvailable([0x0000, 0x8000], type: .int32, order: .abcd))
        let layout = RegisterLayout(address: 0, table: .inputRegisters, type: .uint32, scale: 0.001)
        #expect(layout.value(from: [0xFFFF, 0xFFFF], honourNotAvailable: true) == nil)
        #expect(layout.value(from: [0x0000, 0x3E80], honourNotAvailable: true) == 16)
    }

    @Test func textRegisters() {
        #expect(RegisterCodec.decodeText([0x4332, 0x0000, 0x0000]) == "C2")
        #expect(RegisterCodec.encodeText("B1", words: 2) == [0x4231, 0x0000])
        #expect(RegisterCodec.decodeText([0x41FF]) == "A")  // non-ASCII bytes dropped
    }

    @Test func scaleOffsetAndUnitConversion() throws {
        let register = try #require(Fixtures.library["socomec_countis"]?.registers.first { $0.quantity == .power })
        // raw −123 × 10 W = −1230 W
        #expect(register.value(from: RegisterCodec.encode(-123, type: .int32, order: .abcd)) == -1230)
        let pv = try #require(Fixtures.library["two_channel_meter"]?.registers.first { $0.quantity == .power })
        #expect(pv.value(from: RegisterCodec.encode(1.5, type: .float32, order: .abcd)) == 1500)  // kW → W
    }

    @Test func chargerStatesDecodeAsTheProfilesSay() throws {
        let abb = try #require(Fixtures.library["abb_terra_ac"]?.charger)
        let abbLayout = RegisterLayout(address: 0x400C, table: .holdingRegisters, type: .uint32)
        // byte index 2 = 0x84: charging (4) with bit 7 "not at rated current" set
        #expect(ChargerStateDecoder.decode([0x0000, 0x8400], spec: abb.state, layout: abbLayout).0 == .charging)
        #expect(ChargerStateDecoder.decode([0x0000, 0x0100], spec: abb.state, layout: abbLayout).0 == .connected)
        let phoenix = try #require(Fixtures.library["phoenix_ev_eth"]?.charger)
        let phoenixLayout = RegisterLayout(address: 100, table: .inputRegisters, type: .uint16)
        #expect(ChargerStateDecoder.decode([0x0043], spec: phoenix.state, layout: phoenixLayout) == (.charging, "C"))
        #expect(ChargerStateDecoder.decode([0x0046], spec: phoenix.state, layout: phoenixLayout).0 == .error)
        #expect(ChargerStateDecoder.decode([0x005A], spec: phoenix.state, layout: phoenixLayout).0 == .unknown)
    }
}

@Suite struct ReadPlanTests {
    static func register(_ address: UInt16, _ table: RegisterTable, _ type: DataType) -> ResolvedRegister {
        ResolvedRegister(quantity: Quantity("q\(address)"), layout: RegisterLayout(address: RegisterAddress(address), table: table, type: type),
                         factor: 1, unit: .none, deviceUnit: nil, pollGroup: "default", notAvailable: false, combine: false)
    }

    @Test func mergesNeighboursWithinGapAndLimits() {
        let registers = [
            Self.register(0, .inputRegisters, .float32), Self.register(2, .inputRegisters, .float32),
            Self.register(10, .inputRegisters, .float32), Self.register(200, .inputRegisters, .uint16),
            Self.register(0, .holdingRegisters, .uint16), Self.register(5, .coils, .bool), Self.register(1000, .coils, .bool),
        ]
        let tight = ReadPlan.blocks(for: registers, maxGap: 0)
        #expect(tight.map { "\($0.table.rawValue):\($0.start)+\($0.count)" } == ["1:5+1", "1:1000+1", "3:0+1", "4:0+4", "4:10+2", "4:200+1"])
        let loose = ReadPlan.blocks(for: registers, maxGap: 8)
        #expect(loose.map { "\($0.table.rawValue):\($0.start)+\($0.count)" } == ["1:5+1", "1:1000+1", "3:0+1", "4:0+12", "4:200+1"])
        // A huge gap allowance still respects the block limit (125 by default): 0…200 is not one read.
        let wide = ReadPlan.blocks(for: registers, maxGap: 10_000)
        #expect(wide.map { "\($0.table.rawValue):\($0.start)+\($0.count)" } == ["1:5+1", "1:1000+1", "3:0+1", "4:0+12", "4:200+1"])
        #expect(ReadPlan.blocks(for: registers, maxGap: 8, maxBlock: 2).allSatisfy { $0.count <= 2 })
    }
}

@Suite struct Float32WideningTests {
    /// A float32 register is published as the decimal it stands for, not the binary
    /// expansion of the float (6.478261 and not 6.4782609939575195).
    @Test(arguments: [6.478261, 230.1, 0.1, -1234.5, 49.99])
    func float32DecodesToItsShortestDecimal(value: Double) {
        let words = RegisterCodec.encode(value, type: .float32, order: .abcd)
        #expect(RegisterCodec.decode(words, type: .float32, order: .abcd) == value)
    }
}
