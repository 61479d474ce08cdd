/// A minimal, allocation-light JSON writer for the hot publishing path (one state
/// payload per telegram). Foundation's JSONEncoder is several times slower and is
/// kept for cold paths.
public struct JSONWriter: Sendable {
    public private(set) var bytes: [UInt8] = []
    private var needsComma: [Bool] = []

    public init(capacity: Int = 512) { bytes.reserveCapacity(capacity) }

    public mutating func beginObject() { separator(); bytes.append(UInt8(ascii: "{")); needsComma.append(false) }
    public mutating func endObject() { bytes.append(UInt8(ascii: "}")); needsComma.removeLast() }
    public mutating func beginArray() { separator(); bytes.append(UInt8(ascii: "[")); needsComma.append(false) }
    public mutating func endArray() { bytes.append(UInt8(ascii: "]")); needsComma.removeLast() }

    /// Writes `"key":`; the value written next needs no separator of its own.
    public mutating func key(_ key: String) {
        separator()
        string(key, raw: true)
        bytes.append(UInt8(ascii: ":"))
        if !needsComma.isEmpty { needsComma[needsComma.count - 1] = false }
    }

    public mutating func value(_ s: String) { separator(); string(s, raw: true) }
    public mutating func value(_ b: Bool) { separator(); bytes.append(contentsOf: Array((b ? "true" : "false").utf8)) }
    public mutating func null() { separator(); bytes.append(contentsOf: Array("null".utf8)) }
    public mutating func value(_ i: Int) { separator(); bytes.append(contentsOf: Array(String(i).utf8)) }

    /// Numbers: integral values without a fraction, others in Swift's shortest
    /// round-tripping form; NaN and infinities (not JSON) become `null`.
    public mutating func value(_ d: Double) {
        separator()
        bytes.append(contentsOf: Array(JSONWriter.format(d).utf8))
    }

    public static func format(_ d: Double) -> String {
        guard d.isFinite else { return "null" }
        let d = withoutNoise(d)
        if d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) }
        return String(d)
    }

    /// Arithmetic noise written as the decimal it stands for: 131 × 0.1 is
    /// 13.100000000000001 in binary and is written `13.1`. Only a value within a
    /// relative 1e-12 of one with at most 6 decimals is replaced (by that one), so
    /// a real measurement or setpoint never changes; decimals that came in as text
    /// are written back exactly as they were.
    static func withoutNoise(_ d: Double) -> Double {
        guard abs(d) < 1e9 else { return d }
        let decimal = (d * 1e6).rounded() / 1e6
        return abs(decimal - d) <= abs(d) * 1e-12 ? decimal : d
    }

    /// The value, or `null`.
    public mutating func optional(_ s: String?) { if let s { value(s) } else { null() } }
    public mutating func optional(_ d: Double?) { if let d { value(d) } else { null() } }
    public mutating func optional(_ i: Int?) { if let i { value(i) } else { null() } }
    public mutating func optional(_ b: Bool?) { if let b { value(b) } else { null() } }

    private mutating func separator() {
        guard !needsComma.isEmpty else { return }
        if needsComma[needsComma.count - 1] { bytes.append(UInt8(ascii: ",")) }
        needsComma[needsComma.count - 1] = true
    }

    private mutating func string(_ s: String, raw: Bool) {
        bytes.append(UInt8(ascii: "\""))
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [92, 34])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [92, 92])
            case 0x0A: bytes.append(contentsOf: [92, UInt8(ascii: "n")])
            case 0x0D: bytes.append(contentsOf: [92, UInt8(ascii: "r")])
            case 0x09: bytes.append(contentsOf: [92, UInt8(ascii: "t")])
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [92, UInt8(ascii: "u"), 48, 48, hex[Int(b >> 4)], hex[Int(b & 0xF)]])
            default: bytes.append(b)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
