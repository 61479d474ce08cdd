/// Registers merged into as few read requests as the device allows.
public struct ReadBlock: Sendable, Hashable {
    public var table: RegisterTable
    public var start: UInt16
    public var count: Int
    public var registers: [ResolvedRegister]

    /// The words of one register, cut out of the block's response.
    func slice(_ words: [UInt16], for register: ResolvedRegister) -> [UInt16]? {
        let from = Int(register.layout.address.value) - Int(start)
        guard from >= 0, from + register.layout.words <= words.count else { return nil }
        return Array(words[from..<(from + register.layout.words)])
    }
}

public enum ReadPlan {
    /// Sorts by table and address and merges neighbours while the hole between them
    /// is at most `maxGap` registers and the block stays within `maxBlock`.
    public static func blocks(for registers: [ResolvedRegister], maxGap: Int = 0, maxBlock: Int = 125) -> [ReadBlock] {
        let sorted = registers.sorted {
            ($0.layout.table.rawValue, $0.layout.address.value) < ($1.layout.table.rawValue, $1.layout.address.value)
        }
        var blocks: [ReadBlock] = []
        for register in sorted {
            // Protocol limits per request: 125 registers or 2000 bits.
            let limit = max(1, min(maxBlock, register.layout.table.isBitTable ? 2000 : 125))
            let start = Int(register.layout.address.value)
            let end = start + register.layout.words
            if var last = blocks.last, last.table == register.layout.table {
                let lastEnd = Int(last.start) + last.count
                if start - lastEnd <= maxGap && max(end, lastEnd) - Int(last.start) <= limit {
                    last.count = max(end, lastEnd) - Int(last.start)
                    last.registers.append(register)
                    blocks[blocks.count - 1] = last
                    continue
                }
            }
            blocks.append(ReadBlock(table: register.layout.table, start: register.layout.address.value,
                                    count: register.layout.words, registers: [register]))
        }
        return blocks
    }
}
