/// A reduced OBIS identifier `A-B:C.D.E` as P1 prints it (group F is left out, except
/// by EasyMeter Q3D, which appends `*255`).
public struct OBISCode: Hashable, Sendable, CustomStringConvertible {
    public var a: UInt8
    public var b: UInt8
    public var c: UInt8
    public var d: UInt8
    public var e: UInt8
    /// Group F when the meter printed it (`*255`).
    public var f: UInt8?

    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8, _ e: UInt8, f: UInt8? = nil) {
        (self.a, self.b, self.c, self.d, self.e, self.f) = (a, b, c, d, e, f)
    }

    /// A-E packed into one integer, for table look-ups on the hot path. F is ignored:
    /// `1-0:1.8.0*255` means the same as `1-0:1.8.0`.
    var key: UInt64 { Self.key(a, b, c, d, e) }

    static func key(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8, _ e: UInt8) -> UInt64 {
        UInt64(a) << 32 | UInt64(b) << 24 | UInt64(c) << 16 | UInt64(d) << 8 | UInt64(e)
    }

    public var description: String {
        let base = "\(a)-\(b):\(c).\(d).\(e)"
        return f.map { base + "*\($0)" } ?? base
    }

    /// The name an object without a catalogue meaning is published under:
    /// `1-0:94.32.1` → `obis_1_0_94_32_1`. Group F is left out, as P1 itself does,
    /// so a Q3D `0-0:96.1.255*255` is `obis_0_0_96_1_255`.
    public var genericQuantityName: String { "obis_\(a)_\(b)_\(c)_\(d)_\(e)" }

    /// Parses `A-B:C.D.E[*F]` at `start`; returns the code and the index after it.
    static func scan(_ buf: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> (OBISCode, Int)? {
        var i = start
        func number() -> UInt8? {
            var value = 0
            let first = i
            while i < end, ASCII.isDigit(buf[i]), i - first < 3 {
                value = value * 10 + Int(buf[i] - ASCII.zero)
                i += 1
            }
            return i > first && value <= 255 ? UInt8(value) : nil
        }
        func expect(_ separator: UInt8) -> Bool {
            guard i < end, buf[i] == separator else { return false }
            i += 1
            return true
        }
        guard let a = number(), expect(ASCII.minus), let b = number(), expect(ASCII.colon),
            let c = number(), expect(ASCII.dot), let d = number(), expect(ASCII.dot), let e = number()
        else { return nil }
        var code = OBISCode(a, b, c, d, e)
        // Group F: `*255` (Q3D), also `.255` (seen in the DSMR 4.2.2 specification example).
        if i < end, buf[i] == ASCII.star || buf[i] == ASCII.dot {
            i += 1
            guard let f = number() else { return nil }
            code.f = f
        }
        return (code, i)
    }
}
