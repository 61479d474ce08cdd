/// A 0-based PDU address, written in a profile as decimal (`30775`), hex
/// (`0x2100`) or vendor hex (`2100h`).
public struct RegisterAddress: Sendable, Hashable, Comparable, Decodable, CustomStringConvertible,
    ExpressibleByIntegerLiteral
{
    public let value: UInt16
    public init(_ value: UInt16) { self.value = value }
    public init(integerLiteral value: UInt16) { self.value = value }

    public init?(parsing text: String) {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased().replacingOccurrences(of: "_", with: "")
        let parsed: Int?
        if t.hasPrefix("0x") {
            parsed = Int(t.dropFirst(2), radix: 16)
        } else if t.hasSuffix("h") {
            parsed = Int(t.dropLast(), radix: 16)
        } else {
            parsed = Int(t)
        }
        guard let p = parsed, let v = UInt16(exactly: p) else { return nil }
        value = v
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let parsed = RegisterAddress(parsing: text) else {
            throw DecodingError.dataCorrupted(.init(
                codingPath: decoder.codingPath,
                debugDescription: "expected a register address 0…65535 (decimal, 0x… or …h), found '\(text)'"))
        }
        self = parsed
    }

    public static func < (a: RegisterAddress, b: RegisterAddress) -> Bool { a.value < b.value }
    public var description: String { "\(value) (0x\(String(value, radix: 16, uppercase: true)))" }
}

import Foundation
