#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

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
    /// Lines end in CR LF; memchr finds each LF (vectorised), then CRs and blank
    /// lines are trimmed off.
    mutating func scan(_ buf: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) {
        guard let base = buf.baseAddress, start < end else { return }
        var i = start
        while i < end {
            let lineFeed: Int
            if let hit = memchr(base + i, Int32(ASCII.lf), end - i) {
                lineFeed = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
            } else {
                lineFeed = end
            }
            var lineStart = i
            var lineEnd = lineFeed
            while lineStart < lineEnd, buf[lineStart] == ASCII.cr { lineStart += 1 }
            while lineEnd > lineStart, buf[lineEnd - 1] == ASCII.cr { lineEnd -= 1 }
            // A lone CR inside a line (never sent by a meter) still splits it, as before;
            // memchr looks for one instead of a byte loop over every line.
            var k = lineStart
            while k < lineEnd {
                var cut = lineEnd
                if let hit = memchr(base + k, Int32(ASCII.cr), lineEnd - k) {
                    cut = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
                }
                if cut > k { scanLine(buf, k..<cut) }
                k = cut + 1
            }
            i = lineFeed + 1
        }
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
