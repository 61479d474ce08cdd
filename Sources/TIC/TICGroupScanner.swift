/// One checksum-valid group of a frame, as byte ranges into the frame.
struct TICGroupSpan {
    var label: Range<Int>
    var horodate: Range<Int>?
    var data: Range<Int>
    var mode: TICMode
}

/// Finds the groups LF … CR of a frame and checks each one's checksum.
///
/// A group is parsed from its end: the checksum is the byte before CR and the
/// separator the byte before that, because the checksum itself can be SP and
/// standard-mode data can contain spaces. Nothing is ever trimmed.
struct TICGroupScanner {
    var groups: [TICGroupSpan] = []
    /// Groups whose checksum did not match (dropped, never published).
    var checksumFailures = 0
    /// Chunks that are not `label SEP [horodate SEP] data SEP checksum`.
    var malformedGroups = 0

    init(_ buf: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) {
        groups.reserveCapacity(64)
        var i = start
        while i < end {
            guard buf[i] == 0x0A else {
                // Bytes outside LF … CR (e.g. swapped delimiters): skip to the next LF.
                let junkStart = i
                while i < end, buf[i] != 0x0A { i += 1 }
                if i > junkStart { malformedGroups += 1 }
                continue
            }
            let groupStart = i + 1
            var j = groupStart
            while j < end, buf[j] != 0x0D, buf[j] != 0x0A { j += 1 }
            guard j < end, buf[j] == 0x0D else {
                malformedGroups += 1
                i = j
                continue
            }
            scanGroup(buf, groupStart..<j)
            i = j + 1
        }
    }

    private mutating func scanGroup(_ buf: UnsafeBufferPointer<UInt8>, _ g: Range<Int>) {
        guard g.count >= 3 else {
            malformedGroups += 1
            return
        }
        let checksum = buf[g.upperBound - 1]
        let separatorIndex = g.upperBound - 2
        let mode: TICMode
        switch buf[separatorIndex] {
        case 0x09: mode = .standard
        case 0x20: mode = .historique
        default:
            malformedGroups += 1
            return
        }
        let body = g.lowerBound..<separatorIndex
        let mode2 = TICChecksum.compute(buf, g.lowerBound..<(separatorIndex + 1))
        // Historique accepts mode 1 or mode 2; standard requires mode 2 (reference B3).
        let valid = mode == .standard ? checksum == mode2 : (checksum == mode2 || checksum == TICChecksum.compute(buf, body))
        guard valid else {
            checksumFailures += 1
            return
        }
        guard let span = split(buf, body, mode: mode) else {
            malformedGroups += 1
            return
        }
        groups.append(span)
    }

    /// Standard: `label HT [horodate HT] data`. Historique: `label SP data`
    /// (labels never contain SP; the data is everything after the first SP). Labels
    /// are "≤ 8 characters" in the reference, but SMAXSN1-1 … SMAXSN3-1 have 9.
    private func split(_ buf: UnsafeBufferPointer<UInt8>, _ body: Range<Int>, mode: TICMode) -> TICGroupSpan? {
        let sep = mode.separator
        var first = body.lowerBound
        while first < body.upperBound, buf[first] != sep { first += 1 }
        guard first < body.upperBound, first > body.lowerBound, first - body.lowerBound <= 16 else { return nil }
        let label = body.lowerBound..<first
        let rest = (first + 1)..<body.upperBound
        guard mode == .standard else {
            return TICGroupSpan(label: label, horodate: nil, data: rest, mode: mode)
        }
        var second = rest.lowerBound
        while second < rest.upperBound, buf[second] != sep { second += 1 }
        if second == rest.upperBound {
            return TICGroupSpan(label: label, horodate: nil, data: rest, mode: mode)
        }
        let data = (second + 1)..<rest.upperBound
        guard !data.contains(where: { buf[$0] == sep }) else { return nil }
        return TICGroupSpan(label: label, horodate: rest.lowerBound..<second, data: data, mode: mode)
    }
}
