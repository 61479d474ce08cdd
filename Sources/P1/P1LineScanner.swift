/// Splits the data lines of a telegram into objects `A-B:C.D.E(v)(v)…`, recording
/// where each value group lies in the bytes. No strings are built here.
struct P1LineScanner {
    var spans: [P1ObjectSpan] = []
    var groups: [Range<Int>] = []
    /// Lines that were not `OBIS(value)…`, as byte ranges.
    var malformedLines: [Range<Int>] = []

    init() {
        spans.reserveCapacity(64)
        groups.reserveCapacity(128)
    }

    /// Scans lines in `start ..< end` (after the identification line, before `!`).
    /// A line is a maximal run of bytes that are neither CR nor LF (so CR LF, a bare LF
    /// and a lone CR inside a line all end one, and blank lines vanish).
    ///
    /// One pass: the usual `OBIS(value)(value)` line is read where it stands, its end
    /// found on the way (the value bytes are compared once, against `)`, `(`, CR and LF,
    /// which all sort below every other printable byte). Anything else — a continuation
    /// line, a malformed one — is measured and handed to `scanLine`, the general path.
    mutating func scan(_ buf: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) {
        var i = start
        while i < end {
            let b = buf[i]
            if b == ASCII.cr || b == ASCII.lf {
                i += 1
                continue
            }
            if let lineEnd = scanObjectLine(buf, from: i, to: end) {
                i = lineEnd
                continue
            }
            var lineEnd = i + 1
            while lineEnd < end, buf[lineEnd] != ASCII.cr, buf[lineEnd] != ASCII.lf { lineEnd += 1 }
            scanLine(buf, i..<lineEnd)
            i = lineEnd
        }
    }

    /// The fast path: `A-B:C.D.E(v)…(v)` from `start` up to a CR, an LF or `end`.
    /// Returns the line's end with the object recorded, or nil with nothing kept
    /// (then `scanLine` decides, as for any other line).
    private mutating func scanObjectLine(_ buf: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> Int? {
        // OBIS digits and separators stop at a CR or LF, so the code reads the same
        // whether bounded by the line's end or the telegram's.
        guard let (obis, afterCode) = OBISCode.scan(buf, from: start, to: end),
            afterCode < end, buf[afterCode] == ASCII.openParen
        else { return nil }
        let first = groups.count
        var i = afterCode
        while true {
            // At a `(`: the value runs to the next byte that is `)`, `(`, CR or LF.
            let valueStart = i + 1
            var j = skipToLowByte(buf, from: valueStart, to: end)
            while j < end {
                let b = buf[j]
                // `)` first: it is nearly always what the word scan stopped at.
                if b == ASCII.closeParen { break }
                if b > ASCII.closeParen { j += 1; continue }
                if b == ASCII.openParen || b == ASCII.cr || b == ASCII.lf { break }
                j += 1
            }
            guard j < end, buf[j] == ASCII.closeParen else {
                groups.removeSubrange(first...)
                return nil
            }
            groups.append(valueStart..<j)
            i = j + 1
            if i == end || buf[i] == ASCII.cr || buf[i] == ASCII.lf { break }
            guard buf[i] == ASCII.openParen else {
                groups.removeSubrange(first...)
                return nil
            }
        }
        spans.append(P1ObjectSpan(obis: obis, groups: first..<groups.count, line: start..<i))
        return i
    }

    /// The first index at or after `start` whose byte is below `*` (0x2A: every byte a
    /// value can end at sorts below it), checked eight bytes at a time; `end - 7` or
    /// later when none is found there (the byte loop after it finishes the job).
    /// In each word, `(w - 0x2A…) & ~w & 0x80…` flags the bytes below 0x2A; the lowest
    /// flag is always a true one (a borrow only travels upwards from a flagged byte).
    @inline(__always)
    private func skipToLowByte(_ buf: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> Int {
        guard let base = buf.baseAddress else { return start }
        var j = start
        while end - j >= 8 {
            let w = UInt64(littleEndian: UnsafeRawPointer(base + j).loadUnaligned(as: UInt64.self))
            let low = (w &- 0x2A2A_2A2A_2A2A_2A2A) & ~w & 0x8080_8080_8080_8080
            if low != 0 { return j + low.trailingZeroBitCount >> 3 }
            j += 8
        }
        return j
    }

    private mutating func scanLine(_ buf: UnsafeBufferPointer<UInt8>, _ line: Range<Int>) {
        if buf[line.lowerBound] == ASCII.openParen {
            // A continuation line: the DSMR 2.2/3 gas profile prints its value on the next line.
            guard var last = spans.last, last.groups.upperBound == groups.count,
                let added = scanGroups(buf, from: line.lowerBound, to: line.upperBound)
            else {
                malformedLines.append(line)
                return
            }
            last.groups = last.groups.lowerBound..<(last.groups.upperBound + added)
            last.line = last.line.lowerBound..<line.upperBound
            spans[spans.count - 1] = last
            return
        }
        guard let (obis, afterCode) = OBISCode.scan(buf, from: line.lowerBound, to: line.upperBound),
            afterCode < line.upperBound, buf[afterCode] == ASCII.openParen
        else {
            malformedLines.append(line)
            return
        }
        let first = groups.count
        guard let added = scanGroups(buf, from: afterCode, to: line.upperBound) else {
            malformedLines.append(line)
            return
        }
        spans.append(P1ObjectSpan(obis: obis, groups: first..<(first + added), line: line))
    }

    /// Reads `(…)(…)…` up to `end`; nil (and nothing kept) unless it is exactly that.
    private mutating func scanGroups(_ buf: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> Int? {
        let before = groups.count
        var i = start
        while i < end {
            guard buf[i] == ASCII.openParen else { break }
            let valueStart = i + 1
            var j = valueStart
            while j < end, buf[j] != ASCII.closeParen, buf[j] != ASCII.openParen { j += 1 }
            guard j < end, buf[j] == ASCII.closeParen else { break }
            groups.append(valueStart..<j)
            i = j + 1
        }
        if i != end || groups.count == before {
            groups.removeSubrange(before...)
            return nil
        }
        return groups.count - before
    }
}
