import Crypto
import Foundation

/// The box's serial number: stable for the machine (derived from systemd's
/// `/etc/machine-id`, which survives reboots and updates), never the id itself
/// (machine-id(5) asks not to expose it): `PHS-XXXX-XXXX-XXXX-XXXX`, Crockford
/// base32 of a domain-separated SHA-256.
public enum MachineSerial {
    public static func serial(machineID: String) -> String {
        let id = machineID.trimmingCharacters(in: .whitespacesAndNewlines)
        let digest = Array(SHA256.hash(data: Array("phasor-serial-v1\0\(id)".utf8))).prefix(10)
        let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
        var bits = 0, value = 0
        var chars: [Character] = []
        for byte in digest {
            value = (value << 8) | Int(byte)
            bits += 8
            while bits >= 5 {
                chars.append(alphabet[(value >> (bits - 5)) & 31])
                bits -= 5
            }
            value &= (1 << bits) - 1
        }
        let groups = stride(from: 0, to: 16, by: 4).map { String(chars[$0..<$0 + 4]) }
        return "PHS-" + groups.joined(separator: "-")
    }

    public struct Unreadable: Error, CustomStringConvertible {
        public var path: String
        public var description: String { "cannot read the machine id at \(path) (systemd writes it at first boot)" }
    }

    public static func serial(machineIDFile path: String) throws -> String {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
              !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw Unreadable(path: path) }
        return serial(machineID: text)
    }
}
