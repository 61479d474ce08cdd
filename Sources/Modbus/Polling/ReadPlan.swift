/// Registers merged into as few read requests as the device allows.
public struct ReadBlock: Sendable, Hashable {
    public var table: RegisterTable
    public var start: UInt16
    public var count: Int
    public var registers: [ResolvedRegister]

    /// The words at `address`…, cut out of the block's response.
    func slice(_ words: [UInt16], address: UInt16, count wanted: Int) -> [UInt16]? {
        let from = Int(address) - Int(start)
        guard from >= 0, from + wanted <= words.count else { return nil }
        return Array(words[from..<(from + wanted)])
    }

    func slice(_ words: [UInt16], for register: ResolvedRegister) -> [UInt16]? {
        slice(words, address: register.layout.address.value, count: register.layout.words)
    }
}

public enum ReadPlan {
    /// Sorts by table and address and merges neighbours while the hole between them
    /// is at most `maxGap` registers and the block stays within `maxBlock`. SunSpec
    /// scale-factor registers are read in the same poll as the values they scale.
    public static func blocks(for registers: [ResolvedRegister], maxGap: Int = 0, maxBlock: Int = 125) -> [ReadBlock] {
        struct Span {
            var table: RegisterTable
            var start: Int
            var words: Int
            var register: ResolvedRegister?
        }
        var spans = registers.map {
            Span(table: $0.layout.table, start: Int($0.layout.address.value), words: $0.layout.words, register: $0)
        }
        let factors = Set(registers.compactMap { r in r.scaleFactor.map { "\(r.layout.table.rawValue):\($0.value)" } })
        for key in factors.sorted() {
            let parts = key.split(separator: ":").compactMap { Int($0) }
            if parts.count == 2, let table = RegisterTable(rawValue: parts[0]) {
                spans.append(Span(table: table, start: parts[1], words: 1, register: nil))
            }
        }
        spans.sort { ($0.table.rawValue, $0.start) < ($1.table.rawValue, $1.start) }
        var blocks: [ReadBlock] = []
        for span in spans {
            // Protocol limits per request: 125 registers or 2000 bits.
            let limit = max(1, min(maxBlock, span.table.isBitTable ? 2000 : 125))
            let end = span.start + span.words
            if var last = blocks.last, last.table == span.table {
                let lastEnd = Int(last.start) + last.count
                if span.start - lastEnd <= maxGap && max(end, lastEnd) - Int(last.start) <= limit {
                    last.count = max(end, lastEnd) - Int(last.start)
                    if let register = span.register { last.registers.append(register) }
                    blocks[blocks.count - 1] = last
                    continue
                }
            }
            blocks.append(ReadBlock(table: span.table, start: UInt16(span.start), count: span.words,
                                    registers: span.register.map { [$0] } ?? []))
        }
        return blocks
    }

    /// The sunssf values found in a poll's responses, by table and address.
    static func scaleFactors(blocks: [ReadBlock], responses: [Int: [UInt16]], wanted: [ResolvedRegister])
        -> [RegisterTable: [UInt16: Int16]]
    {
        var found: [RegisterTable: [UInt16: Int16]] = [:]
        for register in wanted {
            guard let address = register.scaleFactor?.value else { continue }
            for (index, block) in blocks.enumerated() where block.table == register.layout.table {
                if let words = responses[index], let word = block.slice(words, address: address, count: 1)?.first {
                    found[block.table, default: [:]][address] = Int16(bitPattern: word)
                }
            }
        }
        return found
    }
}
