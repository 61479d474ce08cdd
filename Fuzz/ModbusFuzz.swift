// libFuzzer target for the Modbus response decoding: every shipped profile's read plan
// gets arbitrary register words (a block may be missing, as when its read failed), and
// the reading decoder, the charger-state decoder and the register codec must never crash.
// Built and run by scripts/fuzz.sh, compiled with a subset of the Modbus sources (no libmodbus).
import Foundation
import PhasorCore

/// The shipped profiles, read from `PHASOR_FUZZ_PROFILES` (scripts/fuzz.sh sets it).
private let profiles: [ResolvedProfile] = {
    let folder = URL(fileURLWithPath: ProcessInfo.processInfo.environment["PHASOR_FUZZ_PROFILES"] ?? "Sources/Modbus/Profiles")
    let loaded = ProfileLibrary.profileFiles(in: folder).compactMap { try? ProfileLibrary.loadProfile(at: $0) }
    precondition(!loaded.isEmpty, "no profiles under \(folder.path)")
    return loaded.sorted { $0.id < $1.id }
}()

/// The input as an endless supply of bytes and words (wrapping round).
private struct Supply {
    let bytes: UnsafeBufferPointer<UInt8>
    var next = 0
    mutating func byte() -> UInt8 {
        guard !bytes.isEmpty else { return 0 }
        defer { next += 1 }
        return bytes[next % bytes.count]
    }
    mutating func word() -> UInt16 { UInt16(byte()) << 8 | UInt16(byte()) }
    mutating func words(_ count: Int) -> [UInt16] { (0..<max(0, count)).map { _ in word() } }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func modbusFuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 2 else { return 0 }
    let profile = profiles[Int(data[0]) % profiles.count]
    let maxGap = Int(data[1] & 0x0F)
    var supply = Supply(bytes: UnsafeBufferPointer(start: data + 2, count: size - 2))
    let time = MeterTimestamp(date: Date(timeIntervalSince1970: 1_700_000_000), utcOffsetSeconds: 3600)

    // One poll: the read plan as the gateway builds it, each block answered with its
    // exact word count (libmodbus checks the count) or missing.
    let blocks = ReadPlan.blocks(for: profile.registers, maxGap: maxGap)
    var responses: [Int: [UInt16]] = [:]
    for index in blocks.indices where supply.byte() & 0x0F != 0 {
        responses[index] = supply.words(blocks[index].count)
    }
    let reading = ReadingDecoder.reading(device: profile.id, time: time, blocks: blocks, responses: responses)
    _ = reading.values.count

    // A charger's state register.
    if let charger = profile.charger,
       let layout = try? ResolvedProfile.layout(of: charger.state.register, defaultOrder: profile.defaultWordOrder,
                                                path: "charger", file: profile.file)
    {
        _ = ChargerStateDecoder.decode(supply.words(layout.words), spec: charger.state, layout: layout)
    }

    // The codec on its own, every type and word order, any word count up to 8.
    let words = supply.words(Int(supply.byte() % 9))
    for type in DataType.allCases {
        for order in WordOrder.allCases {
            _ = RegisterCodec.decode(words, type: type, order: order)
            _ = RegisterCodec.rawInteger(words, type: type, order: order)
            _ = RegisterCodec.isNotAvailable(words, type: type, order: order)
        }
    }
    _ = RegisterCodec.decodeText(words, order: WordOrder.allCases[Int(supply.byte()) % WordOrder.allCases.count])
    return 0
}
