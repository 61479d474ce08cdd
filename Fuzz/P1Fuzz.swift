// libFuzzer target for the P1 framer and parser: arbitrary bytes must never crash.
// Built and run by scripts/fuzz.sh (swiftc -sanitize=fuzzer,address).
import Foundation
import PhasorCore

@_cdecl("LLVMFuzzerTestOneInput")
public func p1FuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let now = Date(timeIntervalSince1970: 1_700_000_000)

    // Straight parse, with and without the CRC check, so mutated telegrams reach the interpreter.
    for verify in [true, false] {
        if let t = try? P1Parser.parse(bytes, options: P1ParseOptions(verifyCRC: verify), receivedAt: now) {
            _ = t.reading.values.count
            _ = t.objects.count
            _ = t.monthPeakHistory.count
            _ = t.mbusDevices.map(\.valueQuantity)
        }
    }

    // The framer, fed in uneven chunks, masked when the first byte says so.
    var framer = P1Framer(configuration: .init(maximumTelegramBytes: 512, maskSevenBit: (bytes.first ?? 0) & 1 == 1))
    var start = 0
    var chunk = 1
    while start < bytes.count {
        let end = min(bytes.count, start + chunk)
        for telegram in framer.append(bytes[start..<end]) {
            _ = try? P1Parser.parse(telegram, options: P1ParseOptions(verifyCRC: false), receivedAt: now)
        }
        start = end
        chunk = chunk * 3 % 61 + 1
    }
    precondition(framer.pendingByteCount <= 512, "framer kept more than its limit")
    return 0
}
