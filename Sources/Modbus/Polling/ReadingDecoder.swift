import Foundation
import PhasorCore

/// Turns the responses of one poll into a `Reading`.
public enum ReadingDecoder {
    /// `responses` holds the words of each block that was read (failed blocks are absent).
    public static func reading(device: String, time: MeterTimestamp, blocks: [ReadBlock],
                               responses: [Int: [UInt16]]) -> Reading
    {
        var reading = Reading(device: device, time: time)
        // Combined quantities (import − export) are only published when every part is present.
        var sums: [Quantity: Double?] = [:]
        var order: [Quantity] = []
        let factors = ReadPlan.scaleFactors(blocks: blocks, responses: responses, wanted: blocks.flatMap(\.registers))
        for (index, block) in blocks.enumerated() {
            guard let words = responses[index] else { continue }
            for register in block.registers {
                guard let slice = block.slice(words, for: register) else { continue }
                if register.layout.type == .ascii {
                    reading.set(register.quantity, .text(RegisterCodec.decodeText(slice, order: register.layout.wordOrder)))
                    continue
                }
                let sf = register.scaleFactor.flatMap { factors[register.layout.table]?[$0.value] }
                let value = register.value(from: slice, scaleFactor: sf)
                if register.combine {
                    if sums[register.quantity] == nil { order.append(register.quantity) }
                    let previous = sums[register.quantity] ?? 0
                    sums[register.quantity] = previous.flatMap { p in value.map { p + $0 } }
                } else if let value {
                    reading.set(register.quantity, value)
                }
            }
        }
        for quantity in order {
            if let total = sums[quantity] ?? nil { reading.set(quantity, total) }
        }
        return reading
    }
}

extension MeterTimestamp {
    /// Receive time, with the local UTC offset for publishing.
    public static func local(_ date: Date) -> MeterTimestamp {
        MeterTimestamp(date: date, utcOffsetSeconds: TimeZone.current.secondsFromGMT(for: date))
    }
}
