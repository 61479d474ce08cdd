// libFuzzer target for the TIC framer, group parser and link monitor.
// Built and run by scripts/fuzz.sh (swiftc -sanitize=fuzzer,address).
import Foundation
import PhasorCore

@_cdecl("LLVMFuzzerTestOneInput")
public func ticFuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let now = Date(timeIntervalSince1970: 1_700_000_000)

    if let frame = try? TICParser.parse(bytes, receivedAt: now) {
        _ = frame.reading.values.count
        _ = frame.status?.tempoColourTomorrow
        _ = frame.tariff.mobilePeaks.count
    }

    var framer = TICFramer(configuration: .init(maskSevenBit: (bytes.first ?? 0) & 1 == 0, maximumFrameBytes: 256))
    var monitor = TICLinkMonitor<ContinuousClock.Instant>()
    let t0 = ContinuousClock.Instant.now
    var start = 0
    var step = 0
    while start < bytes.count {
        let end = min(bytes.count, start + 1 + step % 37)
        for frame in framer.append(bytes[start..<end]) {
            _ = try? TICParser.parse(frame, receivedAt: now)
        }
        _ = monitor.observe(Array(bytes[start..<end]), at: t0.advanced(by: .milliseconds(step * 700)))
        start = end
        step += 1
    }
    _ = monitor.state(at: t0.advanced(by: .seconds(3600)))
    return 0
}
