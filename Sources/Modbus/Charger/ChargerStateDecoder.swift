/// Reads a charger's state register the way its profile describes.
enum ChargerStateDecoder {
    /// The device's own state text and what it means.
    static func decode(_ words: [UInt16], spec: ChargerSpec.StateSpec, layout: RegisterLayout) -> (ChargerState, String) {
        let key: String
        if layout.type == .ascii {
            key = RegisterCodec.decodeText(words, order: layout.wordOrder)
        } else {
            guard let raw = RegisterCodec.rawInteger(words, type: layout.type, order: layout.wordOrder) else {
                return (.unknown, "")
            }
            let shifted = raw >> UInt64(min(63, max(0, spec.shift ?? 0)))
            let value = spec.mask.map { shifted & $0 } ?? shifted
            if spec.asCharacter == true {
                key = value > 0 && value < 0x80 ? String(UnicodeScalar(UInt8(value))) : String(value)
            } else {
                key = String(value)
            }
        }
        if let state = spec.map[key] { return (state, key) }
        // "C2" on a device whose map only knows "C" (and the reverse is not guessed).
        if let first = key.first, let state = spec.map[String(first)] { return (state, key) }
        return (.unknown, key)
    }
}
